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

    /// Paths are cut at every `.` as JavaScript's `split(".")` cuts them: empty pieces stay, and
    /// a `.` followed by a combining mark (one `Character` in Swift) is still a cut.
    @Test func pathsCutAsJavaScriptCutsThem() throws {
        let message = RudderMessage(try json(#"{"a":{"":{"b":1}},"":{"a":2,"\u0301":3,"":{"":4}},"é":{"ü":5}}"#))
        #expect(message.value(atPath: "a..b") == 1)
        #expect(message.value(atPath: ".a") == 2)
        #expect(message.value(atPath: ".\u{301}") == 3)
        #expect(message.value(atPath: "..") == 4)
        #expect(message.value(atPath: "é.ü") == 5)
        #expect(RudderMessage(tape: JSONTape(message.json)).value(atPath: ".\u{301}") == 3)
    }

    @Test func tapeMessagesReadAlike() throws {
        let texts = [
            #"{"type":"track","event":"E","messageId":"m","properties":{"a":1},"context":{"traits":{"email":"x"}},"traits":{"email":"t"},"name":"n","category":7}"#,
            #"{"type":1,"properties":[],"context":{"traits":"x"},"traits":[1]}"#,
            #"{"a":{"b.c":{"d":1},"list":[{"x":2}]},"e.f":3,"s":"str","":{"":5}}"#,
            #"[1,{"a":2}]"#,
            #""just a string""#,
        ]
        let paths = ["a.b.c.d", "a.list.0.x", "e.f", "a.list.01", "a.list.-0", "s.length", "a.missing", "", ".", "..", "0", "1.a", "a.b.c", "type", "context.traits.email", "properties.a"]
        for text in texts {
            let value = try json(text)
            let built = RudderMessage(value), read = RudderMessage(tape: JSONTape(value))
            #expect(read.isObject == built.isObject, "\(text)")
            #expect(read.type == built.type && read.event == built.event && read.messageId == built.messageId, "\(text)")
            #expect(read.properties == built.properties && read.contextTraits == built.contextTraits && read.traits == built.traits, "\(text)")
            #expect(read.name == built.name && read.category == built.category, "\(text)")
            #expect(read.json == value && read == built, "\(text)")
            for path in paths {
                #expect(read.value(atPath: path) == built.value(atPath: path), "\(text) at \(path)")
            }
        }
    }
}
