import XCTest
import PinJSON
@testable import LuaSandbox

/// A value parsed with `PreparedJSON` must reach Lua exactly as the same value encoded after
/// parsing: the recorded tape is byte for byte the encoder's.
final class PreparedJSONTests: XCTestCase {
    func prepared(_ text: String) throws -> PreparedJSON {
        let sandbox = try LuaSandbox()
        return try Array(text.utf8).withUnsafeBytes { buffer in try sandbox.prepare(buffer, with: JSONParser()) }
    }

    func encoded(_ argument: LuaArgument, maxDepth: Int = 256) throws -> (bytes: [UInt8], containers: [JSONValue]) {
        let encoder = TapeEncoder(maxDepth: maxDepth)
        try encoder.encode([argument])
        return (Array(encoder.bytes), encoder.containers.all)
    }

    func testRecordedTapeEqualsTheEncodersForRandomDocuments() throws {
        var generator = JSONGenerator(seed: 42)
        for round in 0..<600 {
            // Written text escapes quotes, backslashes and control characters in keys and
            // strings, so escaped and plain strings are both recorded.
            let text = JSONWriter.string(generator.value(depth: round % 3))
            let document = try prepared(text)
            XCTAssertFalse(document.tape.isEmpty, text)
            let recorded = try encoded(.prepared(document))
            let walked = try encoded(.json(document.value))
            XCTAssertEqual(recorded.bytes, walked.bytes, text)
            XCTAssertEqual(recorded.containers.count, walked.containers.count, text)
            for (a, b) in zip(recorded.containers, walked.containers) {
                XCTAssertTrue(JSONGenerator.identical(a, b), text)
            }
        }
    }

    func testEscapesAndUnicodeInKeysAndStrings() throws {
        let text = #"{"a\"b":"\u00e9\n","\u00e9":["x\ty",{"":""}],"😀":"\ud83d\ude00","k":[],"o":{}}"#
        let document = try prepared(text)
        XCTAssertEqual(try encoded(.prepared(document)).bytes, try encoded(.json(document.value)).bytes)
    }

    func testDuplicateKeysFallBackToEncodingTheValue() throws {
        let document = try prepared(#"{"a":1,"b":{"c":1,"c":2},"a":3}"#)
        XCTAssertTrue(document.tape.isEmpty)
        XCTAssertEqual(try encoded(.prepared(document)).bytes, try encoded(.json(document.value)).bytes)
        let sandbox = try LuaSandbox()
        let identity = try sandbox.load("return function(e) return e end", chunkName: "identity.lua")
        XCTAssertEqual(try sandbox.call(identity, arguments: [.prepared(document)]).values, [["a": 3, "b": ["c": 2]]])
    }

    func testDuplicateKeysInLargeObjectsFallBackToo() throws {
        let members = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let document = try prepared("{\(members),\"k3\":\"again\"}")
        XCTAssertTrue(document.tape.isEmpty)
        XCTAssertEqual(document.value["k3"], "again")
        XCTAssertEqual(try encoded(.prepared(document)).bytes, try encoded(.json(document.value)).bytes)
    }

    func testNestingBeyondTheSandboxLimitIsRefusedAlike() throws {
        let text = String(repeating: "[", count: 12) + String(repeating: "]", count: 12)
        let document = try prepared(text)
        XCTAssertThrowsError(try encoded(.prepared(document), maxDepth: 8)) { error in
            XCTAssertEqual(error as? SandboxError, .badArgument(reason: "nesting deeper than 8"))
        }
        XCTAssertThrowsError(try encoded(.json(document.value), maxDepth: 8)) { error in
            XCTAssertEqual(error as? SandboxError, .badArgument(reason: "nesting deeper than 8"))
        }
        XCTAssertNoThrow(try encoded(.prepared(document), maxDepth: 12))
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
            let document = try prepared(JSONWriter.string(generator.value(depth: round % 2)))
            let viaTape = try sandbox.call(change, arguments: [.json(.integer(1)), .prepared(document)]).values
            let viaValue = try sandbox.call(change, arguments: [.json(.integer(1)), .json(document.value)]).values
            XCTAssertEqual(viaTape.count, 1)
            XCTAssertEqual(viaTape.count, viaValue.count)
            for (a, b) in zip(viaTape, viaValue) {
                XCTAssertEqual(JSONWriter.string(a), JSONWriter.string(b))
            }
        }
    }
}
