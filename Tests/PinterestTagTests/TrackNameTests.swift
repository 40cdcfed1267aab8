import PinJSON
import PinterestTag
import Testing

/// Spec section 4.1-4.3: which track calls an event makes.
struct TrackNameTests {
    func names(_ event: String, config: String = "{}") throws -> [String] {
        let result = try map(#"{"type":"track","messageId":"m","event":\#(quote(event))}"#, config: config)
        return result.calls.filter { $0.function == "track" }.compactMap(\.event)
    }

    func quote(_ text: String) -> String { JSONWriter.string(.string(text)) }

    @Test("4.1 absent or empty event name: no call, with a reason")
    func emptyName() throws {
        #expect(try map(#"{"type":"track","properties":{}}"#) == .nothingToSend(reason: "the track message has no event name", warnings: []))
        #expect(try map(#"{"type":"track","event":null}"#).reason == "the track message has no event name")
        #expect(try map(#"{"type":"track","event":""}"#) == .nothingToSend(
            reason: #"the track message has an empty event name (string "")"#, warnings: []))
    }

    @Test("4.1 a non-string event name is a failure, not a crash")
    func nonStringName() throws {
        let event = try json(#"{"type":"track","event":5}"#)
        #expect(try mapper().map(event) == .failed(message: "event must be a string, found number 5", event: event, warnings: []))
    }

    @Test("4.2.1 user mapping: from is trimmed, the event name is not; case-sensitive")
    func userMappingTrimAndCase() throws {
        let config = #"{"eventsMapping":[{"from":"  Signed Up\t","to":"Signup"}]}"#
        #expect(try names("Signed Up", config: config) == ["Signup"])
        #expect(try names(" Signed Up", config: config) == [" Signed Up"])
        #expect(try names("signed up", config: config) == ["signed up"])
    }

    @Test("4.2.1 user mapping wins over the built-in map")
    func userMappingFirst() throws {
        #expect(try names("Order Completed", config: #"{"eventsMapping":[{"from":"Order Completed","to":"Lead"}]}"#) == ["Lead"])
        // The built-in map is not reached through a case-insensitive user row.
        #expect(try names("Order Completed", config: #"{"eventsMapping":[{"from":"order completed","to":"Lead"}]}"#) == ["Checkout"])
    }

    @Test("4.2.1 several rows: each distinct to once, in row order")
    func multipleRows() throws {
        let config = #"""
            {"eventsMapping":[{"from":"Bought","to":"Checkout"},{"from":"Other","to":"Lead"},
             {"from":" Bought","to":"Custom"},{"from":"Bought","to":"Checkout"},{"from":"Bought ","to":"AddToCart"}]}
            """#
        #expect(try names("Bought", config: config) == ["Checkout", "Custom", "AddToCart"])
        let result = try map(#"{"type":"track","messageId":"m","event":"Bought","properties":{"revenue":5}}"#, config: config)
        #expect(result.calls.map(\.function) == ["set", "track", "set", "track", "set", "track"])
        let ids = result.calls.compactMap { $0.data?["event_id"] }
        #expect(ids == ["m", "m", "m"])
    }

    @Test("4.2.1 to: \"\" is a name: RudderStack sends a track call with an empty event name")
    func emptyTo() throws {
        #expect(try names("Viewed", config: #"{"eventsMapping":[{"from":"Viewed","to":""}]}"#) == [""])
        let config = #"{"eventsMapping":[{"from":"Viewed","to":""},{"from":"Viewed","to":"Lead"}]}"#
        #expect(try names("Viewed", config: config) == ["", "Lead"])
        let result = try map(#"{"type":"track","event":"Viewed","messageId":"m"}"#, config: config)
        #expect(result.warnings.contains(#"eventsMapping maps "Viewed" to "": sent as a track call with an empty event name, as RudderStack does"#))
    }

    @Test("4.2.1 rows with an empty from never apply")
    func emptyFrom() throws {
        #expect(try names("Lead Sent", config: #"{"eventsMapping":[{"from":"","to":"Lead"},{"from":"  ","to":"Lead"}]}"#) == ["Lead Sent"])
    }

    @Test("4.2.2 built-in eCommerce map compares the lowercased, untrimmed name")
    func builtIn() throws {
        #expect(try names("Order Completed") == ["Checkout"])
        #expect(try names("ORDER COMPLETED") == ["Checkout"])
        #expect(try names("Product Added") == ["AddToCart"])
        #expect(try names("Products Searched") == ["Search"])
        #expect(try names("product list filtered") == ["Search"])
        #expect(try names("Order Completed ") == ["Order Completed "])
        #expect(try names("Checkout Step Completed") == ["Checkout Step Completed"])
        // Same length, differing by more than case; and non-ASCII names, which lowercase in full.
        #expect(try names("Order_Completed") == ["Order_Completed"])
        #expect(try names("ORDER COMPLETÉD") == ["ORDER COMPLETÉD"])
        #expect(try names("PRODUCTS SEARCHED\u{130}") == ["PRODUCTS SEARCHED\u{130}"])
    }

    @Test("4.2.3 sendAsCustomEvent sends unmapped events as Custom")
    func sendAsCustom() throws {
        let config = #"{"sendAsCustomEvent":true,"eventsMapping":[{"from":"Signed Up","to":"Signup"}]}"#
        #expect(try names("Newsletter", config: config) == ["Custom"])
        #expect(try names("Signed Up", config: config) == ["Signup"])
        #expect(try names("Product Added", config: config) == ["AddToCart"])
    }

    @Test("4.2.4 otherwise the raw name, with a warning")
    func rawName() throws {
        let result = try map(#"{"type":"track","event":"Newsletter Opened","messageId":"m"}"#)
        #expect(result.calls.last?.event == "Newsletter Opened")
        #expect(result.warnings == [#""Newsletter Opened" is not mapped to a Pinterest event: sent under its own name, which Pinterest treats as a user-defined event (no conversion reporting)"#])
        #expect(try mapper().resolveEventNames("x") == ["x"])
    }

    @Test("4.3 a set with LDP before every track call")
    func setBeforeTrack() throws {
        let result = try map(#"{"type":"track","event":"Order Completed","messageId":"m"}"#)
        #expect(rendered(result) == #"[["set",{"opt_out_type":"","st":"","country":""}],["track","Checkout",{"line_items":[{}],"event_id":"m"}]]"#)
    }
}

/// Names compare by code points, as JavaScript compares them, not by canonical equivalence.
struct ExactComparisonTests {
    @Test("4.2.1 a decomposed é does not match a composed one")
    func userMappingIsExact() throws {
        let config = #"{"eventsMapping":[{"from":"Caf\u00e9","to":"Lead"}]}"#
        let composed = try map(#"{"type":"track","event":"Caf\u00e9","messageId":"m"}"#, config: config)
        #expect(composed.calls.last?.event == "Lead")
        let decomposed = try map(#"{"type":"track","event":"Cafe\u0301","messageId":"m"}"#, config: config)
        #expect(decomposed.calls.last?.event.map { Array($0.unicodeScalars) } == Array("Cafe\u{301}".unicodeScalars))
    }

    @Test("5 custom property paths match exactly")
    func customPathIsExact() throws {
        let result = try map(#"{"type":"track","event":"Lead","messageId":"m","properties":{"Cafe\u0301":1}}"#,
                             config: #"{"customProperties":[{"properties":"Caf\u00e9"}]}"#)
        #expect(trackData(result)?.keys.map { Array($0.utf8) } == [Array("line_items".utf8), Array("event_id".utf8)])
    }
}
