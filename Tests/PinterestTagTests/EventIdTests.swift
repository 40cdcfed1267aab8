import PinJSON
import PinterestTag
import Testing

/// Spec section 6: event_id.
struct EventIdTests {
    func eventId(_ properties: String, key: String? = "properties.eventId", messageId: String = #""msg""#) throws -> JSONValue? {
        let config = key.map { #"{"deduplicationKey":"\#($0)"}"# } ?? "{}"
        let result = try map(#"{"type":"track","event":"Lead","messageId":\#(messageId),"properties":\#(properties)}"#, config: config)
        return trackData(result)?["event_id"]
    }

    @Test("6 dedup key resolving to a string")
    func string() throws { #expect(try eventId(#"{"eventId":"e-1"}"#) == "e-1") }

    @Test("6 dedup key resolving to 0 is kept")
    func zero() throws { #expect(try eventId(#"{"eventId":0}"#) == 0) }

    @Test("6 dedup key resolving to \"\" is kept")
    func emptyString() throws { #expect(try eventId(#"{"eventId":""}"#) == "") }

    @Test("6 dedup key resolving to null falls back to messageId")
    func null() throws { #expect(try eventId(#"{"eventId":null}"#) == "msg") }

    @Test("6 dedup key missing falls back to messageId")
    func missing() throws {
        #expect(try eventId("{}") == "msg")
        #expect(try eventId(#"{"eventId":"e"}"#, key: nil) == "msg")
    }

    @Test("6 dedup key reads any path of the message, array indexes and dotted keys too")
    func paths() throws {
        #expect(try eventId(#"{"ids":["a","b"]}"#, key: "properties.ids.1") == "b")
        #expect(try eventId(#"{"event.id":"dotted"}"#, key: "properties.event.id") == "dotted")
        #expect(try eventId("{}", key: "type") == "track")
        #expect(try eventId(#"{"eventId":{"x":1}}"#) == ["x": 1])
    }

    @Test("6 no dedup value and no messageId: no event_id, with a warning")
    func none() throws {
        let result = try map(#"{"type":"track","event":"Lead","properties":{}}"#, config: #"{"deduplicationKey":"properties.eventId"}"#)
        #expect(trackData(result)?["event_id"] == nil)
        #expect(result.warnings.contains(#"no event_id: the message has no messageId and nothing at "properties.eventId""#))
    }
}
