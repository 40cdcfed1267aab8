import PinJSON
import PinterestTag
import Testing

/// Spec section 7: the limited data processing `set`.
struct LimitedDataProcessingTests {
    func ldp(_ event: String) throws -> String {
        let result = try map(event)
        guard let set = result.calls.first, set.function == "set", let data = set.data else { return "none" }
        return JSONWriter.string(.object(data))
    }

    @Test("7 without optOutType all three fields are empty, even with a state")
    func withoutOptOut() throws {
        #expect(try ldp(#"{"type":"track","event":"Lead","context":{"traits":{"state":"CA","country":"US"}}}"#)
            == #"{"opt_out_type":"","st":"","country":""}"#)
    }

    @Test("7 with optOutType in context.traits: SHA-256 of the raw state and country")
    func withOptOut() throws {
        #expect(try ldp(#"{"type":"track","event":"Lead","context":{"traits":{"optOutType":"LDP","state":"CA","country":"US"}}}"#)
            == #"{"opt_out_type":"LDP","st":"4b650e5c4785025dee7bd65e3c5c527356717d7a1c0bfef5b4ada8ca1e9cbe17","country":"9b202ecbc6d45c6d8901d989a918878397a3eb9d00e8f48022fc051b19d21a1d"}"#)
    }

    @Test("7 no trimming or lowercasing before hashing")
    func raw() throws {
        let text = try ldp(#"{"type":"track","event":"Lead","context":{"traits":{"optOutType":"LDP","State":"ca"}}}"#)
        #expect(text.contains("6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126"))
    }

    @Test("7 optOutType from properties when context.traits has none")
    func fromProperties() throws {
        #expect(try ldp(#"{"type":"track","event":"Lead","context":{"traits":{"optOutType":""}},"properties":{"optOutType":"LDP"}}"#)
            == #"{"opt_out_type":"LDP","st":"\#(emptyHash)","country":"\#(emptyHash)"}"#)
    }

    @Test("7 state and country in address; hash of \"\" when absent")
    func address() throws {
        #expect(try ldp(#"{"type":"track","event":"Lead","context":{"traits":{"optOutType":"LDP","address":{"State":"California"}}}}"#)
            == #"{"opt_out_type":"LDP","st":"cad0535decc38b248b40e7aef9a1cfd91ce386fa5c46f05ea622649e7faf18fb","country":"\#(emptyHash)"}"#)
        // Lookup order: traits.state, traits.State, address.state, address.State; empty values are skipped.
        #expect(try ldp(#"{"type":"track","event":"Lead","context":{"traits":{"optOutType":"LDP","state":"","address":{"state":"CA","State":"California","Country":"US"}}}}"#)
            == #"{"opt_out_type":"LDP","st":"4b650e5c4785025dee7bd65e3c5c527356717d7a1c0bfef5b4ada8ca1e9cbe17","country":"9b202ecbc6d45c6d8901d989a918878397a3eb9d00e8f48022fc051b19d21a1d"}"#)
    }

    @Test("7 set precedes every track of every name and every page")
    func everyCall() throws {
        let config = #"{"eventsMapping":[{"from":"X","to":"Lead"},{"from":"X","to":"Signup"}]}"#
        let result = try map(#"{"type":"track","event":"X","messageId":"m","context":{"traits":{"optOutType":"LDP"}}}"#, config: config)
        #expect(result.calls.map(\.function) == ["set", "track", "set", "track"])
        #expect(result.calls[0] == result.calls[2])
        let page = try map(#"{"type":"page","messageId":"m","context":{"traits":{"optOutType":"LDP"}}}"#)
        #expect(page.calls.first?.data?["opt_out_type"] == "LDP")
    }
}
