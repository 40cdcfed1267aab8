import PinJSON
import PinterestTag
import Testing

/// Spec section 9 and messages that are not messages.
struct MessageTypeTests {
    @Test("9 screen, group, alias and others are unsupported, with a reason")
    func unsupported() throws {
        for type in ["screen", "group", "alias", "custom"] {
            #expect(try map(#"{"type":"\#(type)","event":"x"}"#)
                == .unsupported(reason: "message type \"\(type)\" is not supported by the Pinterest Tag destination"))
        }
    }

    @Test("9 missing or non-string type is unsupported")
    func missingType() throws {
        #expect(try map(#"{"event":"x"}"#) == .unsupported(reason: "the message has no 'type'"))
        #expect(try map(#"{"type":null}"#) == .unsupported(reason: "the message has no 'type'"))
        #expect(try map(#"{"type":["track"]}"#) == .unsupported(reason: "message type must be a string, found an array"))
    }

    @Test("9 type case does not matter")
    func typeCase() throws {
        #expect(try map(#"{"type":"Track","event":"Order Completed","messageId":"m"}"#).calls.count == 2)
    }

    @Test("any JSON value maps without throwing")
    func nonObjects() throws {
        for text in ["null", "1", "\"track\"", "[]", "true"] {
            let value = try json(text)
            let result = try mapper().map(value)
            guard case .failed(_, let event, _) = result else {
                Issue.record("expected failure for \(text)")
                continue
            }
            #expect(event == value)
        }
    }
}
