import XCTest
import PinJSON

/// Object keys are the same key only when their UTF-8 bytes are, as in `JSON.parse` and Lua:
/// canonically equivalent spellings (`"\u{E9}"` and `"e\u{301}"`, `"K"` and the Kelvin sign
/// `"\u{212A}"`), which Swift's `String ==` treats as equal, are different keys.
///
/// `XCTAssertEqual` on strings (and on `[String]`) is canonical too, so keys are checked
/// through their bytes.
final class KeyIdentityTests: XCTestCase {
    /// é precomposed (C3 A9) and decomposed (65 CC 81).
    let composed = "\u{E9}"
    let decomposed = "e\u{301}"
    /// ASCII K and KELVIN SIGN (E2 84 AA), whose canonical decomposition is K.
    let kelvin = "\u{212A}"

    func bytes(_ keys: [String]) -> [[UInt8]] { keys.map { Array($0.utf8) } }

    func bytes(_ object: JSONObject) -> [[UInt8]] { bytes(object.keys) }

    func parseObject(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONObject {
        try XCTUnwrap(try JSONParser().parse(text).objectValue, file: file, line: line)
    }

    /// `{"k0":0,...,"k<count-1>":count-1` without the closing brace.
    func filler(_ count: Int) -> String {
        "{" + (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
    }

    // MARK: Parse, look up, write

    func testSmallObjectKeepsEquivalentKeysApart() throws {
        let text = "{\"\(composed)\":1,\"\(decomposed)\":2,\"K\":3,\"\(kelvin)\":4}"
        let object = try parseObject(text)
        XCTAssertEqual(bytes(object), bytes([composed, decomposed, "K", kelvin]))
        XCTAssertEqual(object[composed], 1)
        XCTAssertEqual(object[decomposed], 2)
        XCTAssertEqual(object["K"], 3)
        XCTAssertEqual(object[kelvin], 4)
        XCTAssertEqual(JSONValue.object(object)[decomposed], 2)
        XCTAssertEqual(JSONValue.object(object).value(atPath: kelvin), 4)
        XCTAssertEqual(JSONWriter.bytes(.object(object)), Array(text.utf8))

        // The same keys spelled with escapes (the parser's unescaping path).
        let escaped = try parseObject(#"{"\u00e9":1,"e\u0301":2,"\u004B":3,"\u212A":4}"#)
        XCTAssertEqual(bytes(escaped), bytes([composed, decomposed, "K", kelvin]))
        XCTAssertEqual(escaped[composed], 1)
        XCTAssertEqual(escaped[decomposed], 2)
        XCTAssertEqual(JSONWriter.bytes(.object(escaped)), Array(text.utf8))
    }

    func testLargeObjectKeepsEquivalentKeysApart() throws {
        // Both spellings after the parser switches to an index (at 32 keys)...
        let after = filler(40) + ",\"\(composed)\":1,\"\(decomposed)\":2,\"K\":3,\"\(kelvin)\":4}"
        let object = try parseObject(after)
        XCTAssertEqual(object.count, 44)
        XCTAssertEqual(bytes(Array(object.keys.suffix(4))), bytes([composed, decomposed, "K", kelvin]))
        XCTAssertEqual(object[composed], 1)
        XCTAssertEqual(object[decomposed], 2)
        XCTAssertEqual(object["K"], 3)
        XCTAssertEqual(object[kelvin], 4)
        XCTAssertEqual(JSONWriter.bytes(.object(object)), Array(after.utf8))

        // ...and one before, one after: the first goes into the index when it is built.
        let straddling = "{\"\(composed)\":1," + String(filler(40).dropFirst()) + ",\"\(decomposed)\":2}"
        let split = try parseObject(straddling)
        XCTAssertEqual(split.count, 42)
        XCTAssertEqual(bytes([split.first?.key ?? "", split.last?.key ?? ""]), bytes([composed, decomposed]))
        XCTAssertEqual(split[composed], 1)
        XCTAssertEqual(split[decomposed], 2)
        XCTAssertEqual(JSONWriter.bytes(.object(split)), Array(straddling.utf8))
    }

    func testByteIdenticalDuplicatesStillReplaceInPlace() throws {
        // The escaped spelling \u00e9 unescapes to the same bytes as the raw é: a duplicate.
        let members = "\"\(composed)\":1,\"\(decomposed)\":2,\"a\":3,\"\(composed)\":4,\"\\u00e9\":5,\"\(decomposed)\":6"
        let small = try parseObject("{" + members + "}")
        XCTAssertEqual(bytes(small), bytes([composed, decomposed, "a"]))
        XCTAssertEqual(small.elements.map(\.value), [5, 6, 3])

        let large = try parseObject(filler(40) + "," + members + ",\"k3\":-3}")
        XCTAssertEqual(large.count, 43)
        XCTAssertEqual(bytes(Array(large.keys.suffix(3))), bytes([composed, decomposed, "a"]))
        XCTAssertEqual(Array(large.elements.suffix(3).map(\.value)), [5, 6, 3])
        XCTAssertEqual(large["k3"], -3)
        XCTAssertEqual(large[3].value, -3)
    }

    // MARK: JSONObject API

    func testSubscriptSetGetRemove() {
        var object = JSONObject()
        object[composed] = 1
        object[decomposed] = 2
        object["K"] = 3
        object[kelvin] = 4
        XCTAssertEqual(bytes(object), bytes([composed, decomposed, "K", kelvin]))
        XCTAssertEqual(object[decomposed], 2)
        XCTAssertEqual(object[kelvin], 4)

        object[decomposed] = 20
        XCTAssertEqual(object.elements.map(\.value), [1, 20, 3, 4])
        XCTAssertEqual(object.removeValue(forKey: decomposed), 20)
        XCTAssertNil(object.removeValue(forKey: decomposed))
        XCTAssertNil(object[decomposed])
        XCTAssertEqual(object[composed], 1)
        object[kelvin] = nil
        XCTAssertNil(object[kelvin])
        XCTAssertEqual(object["K"], 3)
        XCTAssertEqual(bytes(object), bytes([composed, "K"]))
    }

    func testInitializersKeepEquivalentKeysApart() {
        let members: [(String, JSONValue)] = [(composed, 1), (decomposed, 2), (composed, 3)]
        let pairs = JSONObject(members)
        XCTAssertEqual(bytes(pairs), bytes([composed, decomposed]))
        XCTAssertEqual(pairs.elements.map(\.value), [3, 2])
        let literal: JSONObject = ["\u{E9}": 1, "e\u{301}": 2]
        XCTAssertEqual(literal.count, 2)
    }

    func testUniqueMembersAcceptsEquivalentKeys() {
        // Its debug-build duplicate check must not call these duplicates.
        let object = JSONObject(uniqueMembers: [(composed, 1), (decomposed, 2)])
        XCTAssertEqual(bytes(object), bytes([composed, decomposed]))
    }

    func testOrderedLikeKeepsEquivalentKeysApart() {
        let value: JSONObject = [decomposed: ["y": 1, "x": 2], composed: ["q": 1, "p": 2]]
        let reference: JSONObject = [composed: ["p": 0, "q": 0], decomposed: ["x": 0, "y": 0]]
        let ordered = value.ordered(like: reference)
        XCTAssertEqual(bytes(ordered), bytes([composed, decomposed]))
        XCTAssertEqual(ordered[composed]?.objectValue?.keys, ["p", "q"])
        XCTAssertEqual(ordered[decomposed]?.objectValue?.keys, ["x", "y"])
        XCTAssertEqual(JSONWriter.string(.object(ordered)), "{\"\(composed)\":{\"p\":2,\"q\":1},\"\(decomposed)\":{\"x\":2,\"y\":1}}")

        // A key the reference lacks (only its equivalent) is not ordered by it.
        let only: JSONObject = ["a": 1, decomposed: 2]
        XCTAssertEqual(bytes(only.ordered(like: [composed: 0, "a": 0])), bytes(["a", decomposed]))
    }

    // MARK: Equality

    func testEqualityDistinguishesEquivalentKeys() {
        XCTAssertNotEqual([composed: 1] as JSONObject, [decomposed: 1] as JSONObject)
        XCTAssertNotEqual(["K": 1] as JSONObject, [kelvin: 1] as JSONObject)
        XCTAssertNotEqual(["o": [composed: 1]] as JSONValue, ["o": [decomposed: 1]] as JSONValue)
        // Order is still ignored.
        XCTAssertEqual([composed: 1, decomposed: 2] as JSONObject, [decomposed: 2, composed: 1] as JSONObject)
        XCTAssertNotEqual([composed: 1, decomposed: 2] as JSONObject, [decomposed: 1, composed: 2] as JSONObject)

        // More than 16 members takes the hashed path.
        let pairs = (0..<20).map { ("key\($0)", JSONValue.integer(Int64($0))) }
        let withComposed = JSONObject(pairs + [(composed, 1), (decomposed, 2)])
        let reversed = JSONObject((pairs + [(composed, 1), (decomposed, 2)]).reversed())
        XCTAssertEqual(withComposed, reversed)
        let swapped = JSONObject(pairs + [(composed, 2), (decomposed, 1)])
        XCTAssertNotEqual(withComposed, swapped)
        XCTAssertNotEqual(JSONObject(pairs + [(composed, 1)]), JSONObject(pairs + [(decomposed, 1)]))
    }

    func testStringValuesCompareByBytes() {
        XCTAssertNotEqual(JSONValue.string("\u{E9}"), JSONValue.string("e\u{301}"))
        XCTAssertNotEqual(JSONValue.string("\u{212A}"), JSONValue.string("K"))
        XCTAssertEqual(JSONValue.string("\u{E9}"), JSONValue.string("\u{E9}"))
        XCTAssertNotEqual(["a": "\u{E9}"] as JSONValue, ["a": "e\u{301}"] as JSONValue)
        XCTAssertNotEqual(["\u{E9}"] as JSONValue, ["e\u{301}"] as JSONValue)
    }
}
