import PinJSON
import PinterestTag
import Testing

/// The call value and its JSON array form.
struct PintrkCallTests {
    @Test func arrayForms() {
        #expect(PintrkCall.load(tagId: "2612345678901", options: ["em": "a@b.com"]).jsonArray
            == ["load", "2612345678901", ["em": "a@b.com"]])
        #expect(PintrkCall.load(tagId: "123").jsonArray == ["load", "123"])
        #expect(PintrkCall.page().jsonArray == ["page"])
        #expect(PintrkCall.set(["em": "a@b.com"]).jsonArray == ["set", ["em": "a@b.com"]])
        #expect(PintrkCall.track("Checkout", ["value": 25]).jsonArray == ["track", "Checkout", ["value": 25]])
        #expect(PintrkCall(function: "track", event: "Lead").jsonArray == ["track", "Lead"])
    }

    @Test func roundTrip() throws {
        let calls: [PintrkCall] = [
            .load(tagId: "2612345678901", options: ["em": "a@b.com"]), .load(tagId: "123"), .page(),
            .page(["a": 1]), .set(["st": ""]), .track("Checkout", ["value": 25]), .track("", [:]),
            PintrkCall(function: "track", event: "Lead"),
        ]
        for call in calls {
            #expect(try PintrkCall(jsonArray: call.jsonArray) == call)
        }
    }

    @Test(arguments: [
        (#"{"track": 1}"#, #"a pintrk call must be an array like ["track", "Checkout", {...}], found an object"#),
        ("[]", #"a pintrk call must not be empty; expected ["track", "Checkout", {...}] or similar"#),
        ("[1]", "call[0] must be the function name (load, page, set or track), found number 1"),
        (#"["trak", "Checkout"]"#, #"call[0]: "trak" is not a pintrk function; expected load, page, set or track"#),
        (#"["track"]"#, #"track call has 1 elements; expected ["track", eventName] or ["track", eventName, {data}]"#),
        (#"["track", 5, {}]"#, "track call[1] must be an event name string, found number 5"),
        (#"["track", "Checkout", []]"#, "track call[2] must be a data object, found an array"),
        (#"["track", "Checkout", {}, {}]"#, #"track call has 4 elements; expected ["track", eventName] or ["track", eventName, {data}]"#),
        (#"["set"]"#, #"set call has 1 elements; expected ["set", {values}]"#),
        (#"["set", "em"]"#, #"set call[1] must be a values object, found string "em""#),
        (#"["load"]"#, #"load call has 1 elements; expected ["load", tagId] or ["load", tagId, {options}]"#),
        (#"["load", 123]"#, "load call[1] must be the tag ID string, found number 123"),
        (#"["load", ""]"#, "load call[1]: the tag ID must not be empty"),
        (#"["load", "1", "em"]"#, #"load call[2] must be an options object, found string "em""#),
        (#"["page", null]"#, "page call[1] must be a data object, found null"),
    ])
    func invalid(text: String, expected: String) throws {
        let value = try json(text)
        #expect(throws: PintrkCallError(expected)) { try PintrkCall(jsonArray: value) }
    }
}
