import XCTest
import PinJSON

final class JSONObjectTests: XCTestCase {
    // MARK: JSONObject

    func testOrderedUniqueKeys() {
        var object = JSONObject()
        XCTAssertTrue(object.isEmpty)
        object["b"] = 1
        object["a"] = 2
        object["b"] = 3
        XCTAssertEqual(object.keys, ["b", "a"])
        XCTAssertEqual(object["b"], 3)
        XCTAssertNil(object["missing"])
        XCTAssertEqual(object.count, 2)
        XCTAssertEqual(object[0].key, "b")
        XCTAssertEqual(object[1].value, 2)
        object["b"] = nil
        XCTAssertEqual(object.keys, ["a"])
        object["zzz"] = nil
        XCTAssertEqual(object.keys, ["a"])
    }

    func testInitFromPairsLastWinsInFirstPosition() {
        let object = JSONObject([("a", 1), ("b", 2), ("a", 3)])
        XCTAssertEqual(object.keys, ["a", "b"])
        XCTAssertEqual(object["a"], 3)
        let literal: JSONObject = ["x": 1, "y": 2, "x": 9]
        XCTAssertEqual(literal.keys, ["x", "y"])
        XCTAssertEqual(literal["x"], 9)
    }

    func testRemoveAppendAndCapacity() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        XCTAssertEqual(object.removeValue(forKey: "b"), 2)
        XCTAssertNil(object.removeValue(forKey: "b"))
        XCTAssertEqual(object.keys, ["a", "c"])
        object.reserveCapacity(10)
        object.appendUnique("d", "x")
        XCTAssertEqual(object.keys, ["a", "c", "d"])
        XCTAssertEqual(object.elements.map(\.value), [1, 3, "x"])
        XCTAssertEqual(Array(object.indices), [0, 1, 2])
    }

    func testEqualityIgnoresOrder() {
        let ab: JSONObject = ["a": 1, "b": [1, 2]]
        let ba: JSONObject = ["b": [1, 2], "a": 1]
        XCTAssertEqual(ab, ba)
        XCTAssertEqual(JSONValue.object(ab), .object(ba))
        XCTAssertNotEqual(ab, ["a": 1])
        XCTAssertNotEqual(ab, ["a": 1, "b": [2, 1]])
        XCTAssertNotEqual(ab, ["a": 1, "c": [1, 2]])
        XCTAssertNotEqual(ab, ["a": 1.0, "b": [1, 2]])  // integer 1 is not double 1.0
        XCTAssertEqual(JSONObject(), [:])
        // Nested objects compare order-insensitively too.
        XCTAssertEqual(["o": ["x": 1, "y": 2]] as JSONValue, ["o": ["y": 2, "x": 1]] as JSONValue)
    }

    func testEqualityOfLargeObjects() {
        // More than 16 keys takes the hashed path.
        let pairs = (0..<40).map { ("key\($0)", JSONValue.integer(Int64($0))) }
        let forward = JSONObject(pairs)
        let backward = JSONObject(pairs.reversed())
        XCTAssertEqual(forward, backward)
        var changed = backward
        changed["key17"] = "x"
        XCTAssertNotEqual(forward, changed)
        var renamed = backward
        renamed["key17"] = nil
        renamed["other"] = 17
        XCTAssertNotEqual(forward, renamed)
        XCTAssertNotEqual(renamed, forward)
        var missingValue = backward
        missingValue["key3"] = .null
        XCTAssertNotEqual(forward, missingValue)
    }

    func testSortedByKeyIsRecursiveAndByUTF8() {
        let object: JSONObject = [
            "b": ["z": 1, "a": [["y": 1, "x": 2]]],
            "a": 1,
            "é": 2,
            "Z": 3,
            "": 4,
            "aa": 5,
        ]
        let sorted = object.sortedByKey()
        XCTAssertEqual(sorted.keys, ["", "Z", "a", "aa", "b", "é"])
        XCTAssertEqual(sorted, object)
        XCTAssertEqual(JSONWriter.string(.object(sorted)),
                       #"{"":4,"Z":3,"a":1,"aa":5,"b":{"a":[{"x":2,"y":1}],"z":1},"é":2}"#)
        XCTAssertEqual(JSONWriter.string(JSONValue.array([.object(object)]).sortedByKey()),
                       #"[{"":4,"Z":3,"a":1,"aa":5,"b":{"a":[{"x":2,"y":1}],"z":1},"é":2}]"#)
        XCTAssertEqual(JSONValue.integer(1).sortedByKey(), 1)
        // UTF-8 byte order (code point order), not UTF-16 order: 😀 (UTF-16 D83D DE00) sorts after
        // U+E000 and U+FF61.
        let unicode: JSONObject = ["😀": 1, "\u{FF61}": 2, "\u{E000}": 3]
        XCTAssertEqual(unicode.sortedByKey().keys, ["\u{E000}", "\u{FF61}", "😀"])
    }

    func testOrderedLike() {
        let value: JSONObject = ["c": 3, "a": ["y": 1, "x": 2], "new": true, "b": 2]
        let reference: JSONObject = ["a": ["x": 0, "y": 0], "b": 0, "gone": 0, "c": 0]
        let ordered = value.ordered(like: reference)
        XCTAssertEqual(ordered.keys, ["a", "b", "c", "new"])
        XCTAssertEqual(ordered["a"]?.objectValue?.keys, ["x", "y"])
        XCTAssertEqual(ordered, value)
        XCTAssertEqual(value.ordered(like: [:]).keys, value.keys)
        XCTAssertEqual(JSONObject().ordered(like: reference).keys, [])
    }

    // MARK: JSONValue

    func testOrderedLikeOnValues() {
        let original: JSONValue = ["list": [["b": 1, "a": 2], ["d": 1, "c": 2]], "k": "v", "o": ["q": 1, "p": 2]]
        let scrambled: JSONValue = ["o": ["p": 2, "q": 1], "k": "v", "list": [["a": 2, "b": 1], ["c": 2, "d": 1], ["f": 1, "e": 2]]]
        let restored = scrambled.ordered(like: original)
        XCTAssertEqual(JSONWriter.string(restored),
                       #"{"list":[{"b":1,"a":2},{"d":1,"c":2},{"f":1,"e":2}],"k":"v","o":{"q":1,"p":2}}"#)
        // Kinds that do not match leave the value alone.
        XCTAssertEqual(JSONValue.array([1]).ordered(like: ["a": 1]), [1])
        XCTAssertEqual((["b": 1, "a": 2] as JSONValue).ordered(like: [1, 2]).objectValue?.keys, ["b", "a"])
        XCTAssertEqual(JSONValue.string("x").ordered(like: "y"), "x")
        // A shorter array orders only what it has.
        let shorter: JSONValue = [["b": 1, "a": 2]]
        XCTAssertEqual(JSONWriter.string(([["a": 2, "b": 1]] as JSONValue).ordered(like: [["b": 0, "a": 0], ["z": 0]])),
                       JSONWriter.string(shorter))
    }

    func testValueAtPath() throws {
        let value = try JSONParser().parse(
            #"{"properties":{"products":[{"name":"mug","price":9.5},{"name":"cup"}],"":{"e":1}},"n":null,"a":[[10,11]]}"#)
        XCTAssertEqual(value.value(atPath: "properties.products.0.name"), "mug")
        XCTAssertEqual(value.value(atPath: "properties.products.1.name"), "cup")
        XCTAssertEqual(value.value(atPath: "properties.products.0.price"), 9.5)
        XCTAssertEqual(value.value(atPath: "properties.products")?.arrayValue?.count, 2)
        XCTAssertEqual(value.value(atPath: "a.0.1"), 11)
        XCTAssertEqual(value.value(atPath: "n"), .null)
        XCTAssertNil(value.value(atPath: "properties.products.2.name"))
        XCTAssertNil(value.value(atPath: "properties.products.-1"))
        XCTAssertNil(value.value(atPath: "properties.products.01"))
        XCTAssertNil(value.value(atPath: "properties.products.+1"))
        XCTAssertNil(value.value(atPath: "properties.products. 1"))
        XCTAssertNil(value.value(atPath: "properties.products.x"))
        XCTAssertNil(value.value(atPath: "properties.missing"))
        XCTAssertNil(value.value(atPath: "n.x"))
        XCTAssertNil(value.value(atPath: "properties.products.0.name.x"))
        XCTAssertNil(value.value(atPath: "a.99999999999999999999999"))
        // Components are split on every dot: an empty component names the empty key.
        XCTAssertEqual(value.value(atPath: "properties..e"), 1)
        XCTAssertEqual(value.value(atPath: "properties."), ["e": 1])
        XCTAssertNil(value.value(atPath: ""))
        XCTAssertEqual((["": 5] as JSONValue).value(atPath: ""), 5)
        // Scalars have no members.
        XCTAssertNil(JSONValue.integer(1).value(atPath: "0"))
    }

    func testSubscriptAndAccessors() {
        let value: JSONValue = ["s": "x", "b": true, "a": [1], "o": ["k": nil], "n": nil]
        XCTAssertEqual(value["s"]?.stringValue, "x")
        XCTAssertEqual(value["b"]?.boolValue, true)
        XCTAssertEqual(value["a"]?.arrayValue, [1])
        XCTAssertEqual(value["o"]?.objectValue?.keys, ["k"])
        XCTAssertEqual(value["n"]?.isNull, true)
        XCTAssertEqual(value["s"]?.isNull, false)
        XCTAssertNil(value["missing"])
        XCTAssertNil(JSONValue.array([1])["0"])
        XCTAssertNil(JSONValue.integer(1).stringValue)
        XCTAssertNil(JSONValue.string("1").objectValue)
        XCTAssertNil(JSONValue.null.arrayValue)
        XCTAssertNil(JSONValue.integer(0).boolValue)
    }

    func testIsTruthy() {
        let falsy: [JSONValue] = [.null, false, .integer(0), .double(0), .double(-0.0), .double(.nan), .string("")]
        let truthy: [JSONValue] = [true, .integer(1), .integer(-1), .integer(Int64.min), .double(0.5),
                                   .double(-1e-300), .double(.infinity), .string("0"), .string("false"),
                                   .string(" "), .array([]), .object([:]), [0], ["": nil]]
        for value in falsy { XCTAssertFalse(value.isTruthy, "\(value)") }
        for value in truthy { XCTAssertTrue(value.isTruthy, "\(value)") }
    }

    func testLiteralsAndKinds() {
        XCTAssertEqual(JSONValue(nilLiteral: ()), .null)
        let one: JSONValue = 1
        let oneDouble: JSONValue = 1.0
        XCTAssertEqual(one, .integer(1))
        XCTAssertEqual(oneDouble, .double(1))
        XCTAssertNotEqual(one, oneDouble)
        XCTAssertNotEqual(JSONValue.array([]), .object([:]))
        XCTAssertNotEqual(JSONValue.null, .array([]))
        XCTAssertNotEqual(JSONValue.string("1"), .integer(1))
        XCTAssertEqual(JSONValue.array([1, "a"]).description, #"[1,"a"]"#)
    }
}
