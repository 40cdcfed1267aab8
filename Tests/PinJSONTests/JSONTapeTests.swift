import XCTest
import PinJSON

/// `JSONTape` reads members in place and builds only what is asked for; what it builds is what
/// the parser builds. (The fuzz and conformance suites also check every text they parse against
/// `JSONTapeParser`, through `assertSameOutcome`.)
final class JSONTapeTests: XCTestCase {
    let text = #"{"type":"track","n":-3,"f":1.5,"ok":true,"no":null,"properties":{"a.b":1,"list":[{"x":"é"},[],{}]},"":"empty key"}"#

    func testMembersElementsAndKinds() throws {
        let tape = try JSONTapeParser().parse(Array(text.utf8))
        let root = tape.root
        XCTAssertEqual(tape.kind(of: root), .object)
        XCTAssertEqual(tape.member("type", of: root).flatMap { tape.string(at: $0) }, "track")
        XCTAssertEqual(tape.member("n", of: root).map { tape.value(of: $0) }, -3)
        XCTAssertEqual(tape.member("f", of: root).map { tape.kind(of: $0) }, .double)
        XCTAssertEqual(tape.member("ok", of: root).map { tape.value(of: $0) }, true)
        XCTAssertEqual(tape.member("no", of: root).map { tape.kind(of: $0) }, .null)
        XCTAssertEqual(tape.member("", of: root).flatMap { tape.string(at: $0) }, "empty key")
        XCTAssertNil(tape.member("missing", of: root))
        XCTAssertNil(tape.member("typ", of: root))
        let properties = try XCTUnwrap(tape.member("properties", of: root))
        XCTAssertNil(tape.member("type", of: properties))
        XCTAssertEqual(tape.member("a.b", of: properties).map { tape.value(of: $0) }, 1)
        let list = try XCTUnwrap(tape.member("list", of: properties))
        XCTAssertEqual(tape.kind(of: list), .array)
        XCTAssertEqual(tape.element(0, of: list).map { tape.value(of: $0) }, ["x": "é"])
        XCTAssertEqual(tape.element(2, of: list).map { tape.value(of: $0) }, [:])
        XCTAssertNil(tape.element(3, of: list))
        XCTAssertNil(tape.element(-1, of: list))
        XCTAssertNil(tape.element(0, of: properties))
        XCTAssertNil(tape.member("x", of: list))
        XCTAssertEqual(tape.value, try JSONParser().parse(text))
        XCTAssertEqual(tape.depth, 4)
    }

    func testContainersAreNumberedInTapeOrder() throws {
        let tape = try JSONTapeParser().parse(Array(text.utf8))
        let expected: [JSONValue] = [
            try JSONParser().parse(text),
            try JSONParser().parse(text)["properties"]!,
            ["x": "é"], ["x": "é"], [], [:],
        ]
        XCTAssertEqual(tape.container(0).map { tape.value(of: $0) }, expected[0])
        XCTAssertEqual(tape.container(1).map { tape.value(of: $0) }, expected[1])
        XCTAssertEqual(tape.container(2).map { tape.value(of: $0) }, .array([["x": "é"], [], [:]]))
        XCTAssertEqual(tape.container(3).map { tape.value(of: $0) }, ["x": "é"])
        XCTAssertEqual(tape.container(4).map { tape.value(of: $0) }, [])
        XCTAssertEqual(tape.container(5).map { tape.value(of: $0) }, [:])
        XCTAssertNil(tape.container(6))
        XCTAssertNil(JSONTape("scalar").container(0))
    }

    func testKeysCompareByBytes() throws {
        // "é" precomposed and decomposed are two keys.
        let tape = try JSONTapeParser().parse(Array("{\"\u{E9}\":1,\"e\u{301}\":2}".utf8))
        XCTAssertEqual(tape.member("\u{E9}", of: tape.root).map { tape.value(of: $0) }, 1)
        XCTAssertEqual(tape.member("e\u{301}", of: tape.root).map { tape.value(of: $0) }, 2)
    }

    func testDuplicateKeysGiveWhatTheParserGives() throws {
        for text in [#"{"a":1,"b":{"c":1,"c":2},"a":3}"#, "{" + (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + ",\"k3\":\"again\"}"] {
            let tape = try JSONTapeParser().parse(Array(text.utf8))
            XCTAssertEqual(tape, JSONTape(try JSONParser().parse(text)))
        }
    }

    func testKeysSharingAHashAreStillTwoKeys() throws {
        // The scan's hash sees the length and the first and last 8 bytes only.
        let text = #"{"abcdefgh-1-ijklmnop":1,"abcdefgh-2-ijklmnop":2}"#
        let tape = try JSONTapeParser().parse(Array(text.utf8))
        XCTAssertEqual(tape.value, ["abcdefgh-1-ijklmnop": 1, "abcdefgh-2-ijklmnop": 2])
        XCTAssertEqual(tape, JSONTape(try JSONParser().parse(text)))
    }

    func testEncodingAValueMatchesParsingItsText() throws {
        let value: JSONValue = ["a": [1, 2.5, "x", nil, true, [:], []], "b": ["c": ["d": "e"]]]
        let parsed = try JSONTapeParser().parse(JSONWriter.bytes(value))
        XCTAssertEqual(parsed, JSONTape(value))
        XCTAssertEqual(parsed.depth, 3)
        XCTAssertTrue(JSONTape.isWellFormed(parsed.bytes))
    }

    /// Random values with what a writer must get right: escapes, control characters, non-ASCII
    /// text, integers at the edges, fractions, non-finite numbers (written as null), nesting.
    private func randomValue(_ random: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let texts = ["", "plain", "quote \" and \\ back", "tab\tnew\nline\u{1}\u{1F}", "é\u{301} ✓ 𝄞", String(repeating: "long text ", count: 9)]
        let numbers: [JSONValue] = [0, -1, .integer(.max), .integer(.min), 0.5, -2.25, 1e21, .double(.leastNonzeroMagnitude), .double(.nan), .double(.infinity)]
        switch depth > 3 ? Int(random.next() % 4) : Int(random.next() % 7) {
        case 0: return [.null, true, false][Int(random.next() % 3)]
        case 1: return numbers[Int(random.next() % UInt64(numbers.count))]
        case 2, 3: return .string(texts[Int(random.next() % UInt64(texts.count))])
        case 4: return .array((0..<Int(random.next() % 5)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var object = JSONObject()
            for index in 0..<Int(random.next() % 5) {
                object[texts[Int(random.next() % UInt64(texts.count))] + String(index)] = randomValue(&random, depth: depth + 1)
            }
            return .object(object)
        }
    }

    func testWritingATapeGivesTheBytesOfWritingItsValue() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let value = randomValue(&random)
            let tape = JSONTape(value)
            var writer = JSONWriter()
            writer.write(tape, at: tape.root)
            XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), JSONWriter.string(value))
            // Inner values too, after something already written.
            var number = 1
            while let node = tape.container(number) {
                var inner = JSONWriter()
                inner.writeRaw("x")
                inner.write(tape, at: node)
                XCTAssertEqual(String(decoding: inner.bytes, as: UTF8.self), "x" + JSONWriter.string(tape.value(of: node)))
                number += 1
            }
        }
    }

    func testABuiltTapeHoldsWhatWasWrittenAndCopied() throws {
        let source = try JSONTapeParser().parse(Array(#"{"a":[1,{"b":null}],"s":"t","n":{"m":{}}}"#.utf8))
        var builder = TapeBuilder(capacity: 8)  // small, so that it grows
        builder.beginArray()
        builder.beginObject()
        source.bytes.withUnsafeBytes { raw in
            for key in ["a", "s", "n"] {
                guard let node = source.member(key, of: source.root) else { return XCTFail(key) }
                builder.key("copied " + key)
                builder.copy(node.offset, of: raw)
            }
        }
        builder.key("made")
        builder.beginObject()
        builder.key("x")
        builder.beginArray()
        builder.string("1")
        builder.beginArray()
        builder.end()
        builder.end()
        builder.end()
        builder.end()
        builder.string("after")
        builder.beginObject()
        builder.end()
        builder.end()
        let tape = builder.finish()
        XCTAssertTrue(JSONTape.isWellFormed(tape.bytes))
        XCTAssertEqual(tape.value, [["copied a": [1, ["b": nil]], "copied s": "t", "copied n": ["m": [:]], "made": ["x": ["1", []]]], "after", [:]])
        XCTAssertEqual(tape.depth, 5)
    }

    /// Builders that reuse one storage give the tapes fresh builders give, and a tape someone
    /// still holds is never written over by the next one.
    func testBuildersReusingStorageLeaveKeptTapesAlone() throws {
        let storage = TapeBuilderStorage()
        var kept: [(JSONTape, JSONValue)] = []
        for round in 0..<300 {
            let value: JSONValue = ["round": .integer(Int64(round)), "text": .string(String(repeating: "x", count: round % 50)),
                                    "list": .array((0..<(round % 7)).map { .integer(Int64($0)) })]
            var builder = TapeBuilder(reusing: storage, capacity: 4)
            builder.beginArray()
            builder.string("call")
            let source = JSONTape(value)
            source.bytes.withUnsafeBytes { builder.copy(source.root.offset, of: $0) }
            builder.end()
            let tape = builder.finish()
            XCTAssertEqual(tape.value, ["call", value])
            // Some tapes are kept (their storage must stay theirs), most let go at once.
            if round % 3 == 0 { kept.append((tape, ["call", value])) }
            if round % 2 == 0 {
                // A second builder while the first's buffer is lent: it gets its own.
                var first = TapeBuilder(reusing: storage, capacity: 4)
                var second = TapeBuilder(reusing: storage, capacity: 4)
                first.string("a")
                second.string("b")
                let secondTape = second.finish(), firstTape = first.finish()
                XCTAssertEqual(secondTape.value, "b")
                XCTAssertEqual(firstTape.value, "a")
            }
        }
        for (tape, value) in kept { XCTAssertEqual(tape.value, value) }
    }
}
