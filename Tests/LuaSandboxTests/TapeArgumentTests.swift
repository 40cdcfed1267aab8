import XCTest
import PinJSON
@testable import LuaSandbox

/// A value handed to a call as a `JSONTape` must reach Lua exactly as the same value encoded
/// from a `JSONValue`: the tape parsed from its text is byte for byte the encoder's.
final class TapeArgumentTests: XCTestCase {
    func tape(_ text: String) throws -> JSONTape { try JSONTapeParser().parse(Array(text.utf8)) }

    func encoded(_ argument: LuaArgument, maxDepth: Int = 256) throws -> (bytes: [UInt8], containers: [JSONValue]) {
        let encoder = TapeEncoder(maxDepth: maxDepth)
        try encoder.encode([argument])
        return (Array(encoder.bytes), encoder.containers.all)
    }

    func testParsedTapesEqualTheEncodersForRandomDocuments() throws {
        var generator = JSONGenerator(seed: 42)
        for round in 0..<600 {
            // Written text escapes quotes, backslashes and control characters in keys and
            // strings, so escaped and plain strings are both recorded.
            let text = JSONWriter.string(generator.value(depth: round % 3))
            let document = try tape(text)
            let value = try JSONParser().parse(text)
            let fromTape = try encoded(.tape(document))
            let fromValue = try encoded(.json(value))
            XCTAssertEqual(fromTape.bytes, fromValue.bytes, text)
            XCTAssertEqual(fromTape.containers.count, fromValue.containers.count, text)
            for (a, b) in zip(fromTape.containers, fromValue.containers) {
                XCTAssertTrue(JSONGenerator.identical(a, b), text)
            }
        }
    }

    func testEscapesAndUnicodeInKeysAndStrings() throws {
        let text = #"{"a\"b":"\u00e9\n","\u00e9":["x\ty",{"":""}],"😀":"\ud83d\ude00","k":[],"o":{}}"#
        XCTAssertEqual(try encoded(.tape(tape(text))).bytes, try encoded(.json(JSONParser().parse(text))).bytes)
    }

    func testDuplicateKeysArriveAsTheParserResolvesThem() throws {
        let document = try tape(#"{"a":1,"b":{"c":1,"c":2},"a":3}"#)
        let sandbox = try LuaSandbox()
        let identity = try sandbox.load("return function(e) return e end", chunkName: "identity.lua")
        XCTAssertEqual(try sandbox.call(identity, arguments: [.tape(document)]).values, [["a": 3, "b": ["c": 2]]])
    }

    func testNestingBeyondTheSandboxLimitIsRefusedAlike() throws {
        let text = String(repeating: "[", count: 12) + String(repeating: "]", count: 12)
        let document = try tape(text)
        XCTAssertThrowsError(try encoded(.tape(document), maxDepth: 8)) { error in
            XCTAssertEqual(error as? SandboxError, .badArgument(reason: "nesting deeper than 8"))
        }
        XCTAssertThrowsError(try encoded(.json(document.value), maxDepth: 8)) { error in
            XCTAssertEqual(error as? SandboxError, .badArgument(reason: "nesting deeper than 8"))
        }
        XCTAssertNoThrow(try encoded(.tape(document), maxDepth: 12))
    }

    func testCallsGiveTheSameResultsEitherWay() throws {
        let sandbox = try LuaSandbox()
        let change = try sandbox.load("""
            return function(n, e)
              if type(e) == "table" and jsontype(e) == "object" then e.seen = n end
              return e
            end
            """, chunkName: "change.lua")
        var generator = JSONGenerator(seed: 7)
        for round in 0..<200 {
            let value = generator.value(depth: round % 2)
            let viaTape = try sandbox.call(change, arguments: [.json(.integer(1)), .tape(JSONTape(value))]).values
            let viaValue = try sandbox.call(change, arguments: [.json(.integer(1)), .json(value)]).values
            XCTAssertEqual(viaTape.count, 1)
            XCTAssertEqual(viaTape.map { JSONWriter.string($0) }, viaValue.map { JSONWriter.string($0) })
        }
    }
}
