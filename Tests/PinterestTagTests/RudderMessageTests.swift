import PinJSON
import PinterestTag
import Testing

/// The message model and its get-value style paths.
struct RudderMessageTests {
    @Test func accessors() throws {
        let message = RudderMessage(try json(#"""
            {"type":"track","event":"E","messageId":"m","properties":{"a":1},"context":{"traits":{"email":"x"}},"name":"n","category":7}
            """#))
        #expect(message.type == "track")
        #expect(message.event == "E")
        #expect(message.messageId == "m")
        #expect(message.properties == ["a": 1])
        #expect(message.contextTraits == ["email": "x"])
        #expect(message.name == "n")
        #expect(message.category == 7)
        let odd = RudderMessage(try json(#"{"type":1,"properties":[],"context":{"traits":"x"}}"#))
        #expect(odd.type == nil)
        #expect(odd.properties == nil)
        #expect(odd.contextTraits == nil)
    }

    @Test func paths() throws {
        let message = RudderMessage(try json(#"{"a":{"b.c":{"d":1},"list":[{"x":2}]},"e.f":3,"s":"str"}"#))
        #expect(message.value(atPath: "a.b.c.d") == 1)
        #expect(message.value(atPath: "a.list.0.x") == 2)
        #expect(message.value(atPath: "e.f") == 3)
        #expect(message.value(atPath: "a.list.01") == nil)
        #expect(message.value(atPath: "s.length") == nil)
        #expect(message.value(atPath: "a.missing") == nil)
        #expect(message.value(atPath: "") == nil)
    }
}
