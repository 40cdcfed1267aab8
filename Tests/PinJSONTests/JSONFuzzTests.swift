import XCTest
import PinJSON

/// Outcome of parsing: a value or an error, compared with `identical` (bits, key order).
func assertSameOutcome(_ text: [UInt8], _ label: @autoclosure () -> String, maxDepth: Int = JSONParser.defaultMaxDepth,
                       file: StaticString = #filePath, line: UInt = #line) {
    let actual: Result<JSONValue, JSONParseError> = Result { () throws(JSONParseError) in
        try JSONParser(maxDepth: maxDepth).parse(text)
    }
    let expected: Result<JSONValue, JSONParseError> = Result { () throws(JSONParseError) in
        try ReferenceParser(maxDepth: maxDepth).parse(text)
    }
    switch (actual, expected) {
    case (.success(let a), .success(let b)):
        if !identical(a, b) {
            XCTFail("\(label()): \(a) differs from the reference's \(b) for \(text)", file: file, line: line)
        }
    case (.failure(let a), .failure(let b)):
        if a != b {
            XCTFail("\(label()): error \(a) differs from the reference's \(b) for \(text)", file: file, line: line)
        }
        if a.byteOffset < 0 || a.byteOffset > text.count {
            XCTFail("\(label()): offset \(a.byteOffset) outside 0...\(text.count)", file: file, line: line)
        }
    default:
        XCTFail("\(label()): \(actual) but the reference gives \(expected) for \(text)", file: file, line: line)
    }
    // Straight to a tape: the same errors, and the tape of the same value.
    let tape: Result<JSONTape, JSONParseError> = Result { () throws(JSONParseError) in
        try JSONTapeParser(parser: JSONParser(maxDepth: maxDepth)).parse(text)
    }
    switch (tape, actual) {
    case (.success(let document), .success(let value)):
        if document != JSONTape(value) || !identical(document.value, value) || document.depth != JSONTape(value).depth {
            XCTFail("\(label()): the tape of \(text) is not the tape of \(value)", file: file, line: line)
        }
    case (.failure(let a), .failure(let b)):
        if a != b { XCTFail("\(label()): tape parsing fails with \(a), parsing with \(b)", file: file, line: line) }
    default:
        XCTFail("\(label()): tape parsing gives \(tape), parsing \(actual)", file: file, line: line)
    }
}

/// Deterministic random testing: seeded SplitMix64, so a failure reproduces from its seed.
final class JSONFuzzTests: XCTestCase {
    struct Generator {
        var random: SplitMix64

        init(seed: UInt64) { random = SplitMix64(seed: seed) }

        mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &random) }
        mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }

        static let scalars: [Unicode.Scalar] = [
            "a", "b", "z", "A", "0", "9", " ", "_", "-", ".", "/", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}",
            "\u{8}", "\u{C}", "\u{1F}", "\u{7F}", "\u{80}", "é", "ß", "€", "\u{2028}", "\u{FEFF}", "\u{FFFD}",
            "\u{FFFF}", "日", "本", "😀", "𝄞", "\u{10FFFF}",
        ]

        mutating func string() -> String {
            var result = String.UnicodeScalarView()
            let length = chance(10) ? int(16..<80) : int(0..<12)
            let asciiOnly = chance(50)
            for _ in 0..<length {
                if asciiOnly {
                    result.append(Unicode.Scalar(UInt8(int(0x20..<0x7F))))
                } else {
                    result.append(Self.scalars[int(0..<Self.scalars.count)])
                }
            }
            return String(result)
        }

        mutating func double() -> Double {
            switch int(0..<8) {
            case 0: return [0.0, -0.0, 0.5, 1.0, -1.5, 1e21, 1e-7, .leastNonzeroMagnitude, 2.2250738585072014e-308,
                            .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0.1, 1e16, 123456789.125][int(0..<14)]
            case 1: return Double(int(-1_000_000..<1_000_000))
            case 2: return Double(int(-1_000_000..<1_000_000)) / 100
            default:
                while true {
                    let value = Double(bitPattern: random.next())
                    if value.isFinite { return value }
                }
            }
        }

        mutating func integer() -> Int64 {
            switch int(0..<5) {
            case 0: return [Int64.min, .max, 0, -1, 1, 9, 10, -10][int(0..<8)]
            case 1: return Int64(bitPattern: random.next())
            default: return Int64(int(-100_000..<100_000))
            }
        }

        mutating func value(depth: Int) -> JSONValue {
            let kinds = depth >= 5 ? 6 : 8
            switch int(0..<kinds) {
            case 0: return .null
            case 1: return .bool(chance(50))
            case 2: return .integer(integer())
            case 3: return .double(double())
            case 4, 5: return .string(string())
            case 6:
                return .array((0..<int(0..<6)).map { _ in value(depth: depth + 1) })
            default:
                var object = JSONObject()
                for _ in 0..<(chance(5) ? int(14..<40) : int(0..<7)) {
                    object[chance(70) ? "k\(int(0..<30))" : string()] = value(depth: depth + 1)
                }
                return .object(object)
            }
        }

        mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var bytes = bytes
            let interesting: [UInt8] = Array(#"{}[],:"\ -+.eE0123456789tfnu"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0,
                0xC2, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
            for _ in 0..<int(1..<4) {
                switch int(0..<5) {
                case 0 where !bytes.isEmpty:
                    let index = int(0..<bytes.count)
                    bytes[index] ^= UInt8(1 << int(0..<8))
                case 1:
                    let byte = chance(50) ? interesting[int(0..<interesting.count)] : UInt8(int(0..<256))
                    bytes.insert(byte, at: int(0..<(bytes.count + 1)))
                case 2 where !bytes.isEmpty:
                    bytes.remove(at: int(0..<bytes.count))
                case 3 where !bytes.isEmpty:
                    bytes.removeLast(int(0..<bytes.count))
                case 4 where !bytes.isEmpty:
                    bytes[int(0..<bytes.count)] = interesting[int(0..<interesting.count)]
                default:
                    break
                }
            }
            return bytes
        }
    }

    /// Write → parse gives the identical tree (integers stay integers, floats floats, key
    /// order and -0.0 kept), and the writer's bytes match the reference writer's.
    func testRandomTreesRoundTrip() throws {
        var generator = Generator(seed: 0x5EED_0001)
        for iteration in 0..<400 {
            let value = generator.value(depth: 0)
            let written = JSONWriter.bytes(value)
            XCTAssertEqual(written, ReferenceWriter.bytes(value), "iteration \(iteration)")
            let text = String(decoding: written, as: UTF8.self)
            XCTAssertEqual(JSONWriter.string(value), text)
            let back = try JSONParser().parse(written)
            XCTAssertTrue(identical(back, value), "iteration \(iteration): \(text)")
            XCTAssertTrue(identical(try JSONParser().parse(text), value), "iteration \(iteration) via String")
            // A reused writer gives the same bytes.
            var writer = JSONWriter(reservingCapacity: 4)
            writer.writeRaw("[")
            writer.write(value)
            writer.writeRaw("]")
            XCTAssertEqual(writer.bytes, Array("[".utf8) + written + Array("]".utf8))
        }
    }

    /// Values whose text outgrows the writer's first guess of room (4 KiB), at every size
    /// around it, with escapes that take six bytes each, match the reference writer.
    func testValuesLargerThanTheFirstGuessOfRoom() throws {
        for size in [4000, 4094, 4096, 4097, 9000] {
            for filler in ["a", "\u{1}", "\"", "é"] {
                let text = String(repeating: filler, count: size / filler.utf8.count)
                let values: [JSONValue] = [
                    .array([.string(text)]), ["k": .string(text)], .array([.string(String(text.prefix(size / 2))), .integer(.min)]),
                    .array(Array(repeating: .double(-2.2250738585072014e-308), count: size / 24)),
                    .object(JSONObject((0..<(size / 32)).map { ("key\($0)", JSONValue.integer(Int64($0))) })),
                ]
                for value in values {
                    let written = JSONWriter.bytes(value)
                    XCTAssertEqual(written, ReferenceWriter.bytes(value), "size \(size)")
                    var writer = JSONWriter()
                    writer.writeRaw("x")
                    writer.write(value)
                    XCTAssertEqual(writer.bytes, [UInt8(ascii: "x")] + written)
                    XCTAssertTrue(identical(try JSONParser().parse(written), value))
                }
            }
        }
    }

    func testRandomDoublesRoundTripBitForBit() throws {
        var generator = Generator(seed: 0x5EED_0002)
        for _ in 0..<3000 {
            let number = generator.double()
            var writer = JSONWriter()
            writer.writeDouble(number)
            var reference = ReferenceWriter()
            reference.writeDouble(number)
            XCTAssertEqual(writer.bytes, reference.bytes, "\(number)")
            let back = try JSONParser().parse(writer.bytes)
            XCTAssertTrue(identical(back, .double(number)), "\(number) came back as \(back)")
        }
    }

    /// Mutated valid texts never crash, and parse or fail exactly as the reference does, with
    /// an offset inside the input.
    func testMutationsMatchTheReference() {
        var generator = Generator(seed: 0x5EED_0003)
        var seeds: [[UInt8]] = (0..<40).map { _ in JSONWriter.bytes(generator.value(depth: 0)) }
        seeds.append(Array(#"{"type":"track","event":"Order Completed","messageId":"m-1","properties":{"revenue":12.5,"currency":"USD","products":[{"sku":"a\"b","price":1e3,"quantity":2}],"note":"caf\u00e9 \ud83d\ude00"},"context":{"ip":"1.2.3.4","locale":"fr-FR"},"sentAt":"2024-01-01T00:00:00.000Z"}"#.utf8))
        for iteration in 0..<2500 {
            let seed = seeds[iteration % seeds.count]
            let mutated = generator.mutate(seed)
            assertSameOutcome(mutated, "mutation \(iteration)")
        }
    }

    /// Random bytes, mostly from JSON's own alphabet, and tiny depth limits.
    func testGarbageMatchesTheReference() {
        var generator = Generator(seed: 0x5EED_0004)
        let alphabet = Array(#"{}[],:"\ -+.eE0123456789tfnrul"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xA9, 0xE2, 0xFF]
        for iteration in 0..<2500 {
            let length = generator.int(0..<40)
            let bytes: [UInt8] = (0..<length).map { _ in
                generator.chance(85) ? alphabet[generator.int(0..<alphabet.count)] : UInt8(generator.int(0..<256))
            }
            assertSameOutcome(bytes, "garbage \(iteration)", maxDepth: iteration % 4 == 0 ? 2 : JSONParser.defaultMaxDepth)
        }
    }

    /// Numbers of every shape, valid or not, parse exactly as the reference parses them.
    func testNumberShapesMatchTheReference() {
        var generator = Generator(seed: 0x5EED_0005)
        let parts = ["-", "0", "1", "9", "00", "123", "18446744073709551615", "9223372036854775808",
                     "99999999999999999999999", ".", ".5", ".000001", "e", "E", "e+", "e-", "e308", "e309",
                     "e-324", "e-400", "e99999999999", "x", "", "17976931348623157", "4940656458412465"]
        for iteration in 0..<3000 {
            var text = ""
            for _ in 0..<generator.int(1..<5) { text += parts[generator.int(0..<parts.count)] }
            assertSameOutcome(Array(text.utf8), "number \(iteration): \(text)")
            assertSameOutcome(Array("[\(text)]".utf8), "number in array \(iteration): \(text)")
        }
    }

    /// Strings of every shape: escapes, UTF-8 of every length at every alignment, control
    /// characters, bad sequences.
    func testStringShapesMatchTheReference() {
        var generator = Generator(seed: 0x5EED_0006)
        let parts: [[UInt8]] = [
            Array("abcdefgh".utf8), Array("a".utf8), Array("\\n".utf8), Array("\\\"".utf8), Array("\\\\".utf8),
            Array("\\u0041".utf8), Array("\\u00e9".utf8), Array("\\ud83d\\ude00".utf8), Array("\\ud83d".utf8),
            Array("\\ude00".utf8), Array("\\u12".utf8), Array("\\x".utf8), Array("é".utf8), Array("€".utf8),
            Array("😀".utf8), [0x1F], [0x7F], [0x80], [0xC0, 0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF0, 0x9F, 0x98], Array("\"".utf8), Array("\\".utf8), [],
        ]
        for iteration in 0..<3000 {
            var text: [UInt8] = [UInt8(ascii: "\"")]
            for _ in 0..<generator.int(0..<8) { text += parts[generator.int(0..<parts.count)] }
            if generator.chance(90) { text.append(UInt8(ascii: "\"")) }
            assertSameOutcome(text, "string \(iteration)")
            // As an object key, twice, so duplicate detection sees escaped and raw spellings.
            let object = Array("{".utf8) + text + Array(":1,\"a\":2,".utf8) + text + Array(":3}".utf8)
            assertSameOutcome(object, "key \(iteration)")
        }
    }

    /// Objects with many keys, some repeated, some spelled with escapes: duplicate handling
    /// (last wins, first position) must match the reference for small and large objects.
    func testDuplicateKeysMatchTheReference() {
        var generator = Generator(seed: 0x5EED_0007)
        let spellings = ["a", "\\u0061", "b", "\\u0062", "ab", "a\\u0062", "é", "\\u00e9", "\\u00E9", "k1", "k10", "",
                         "\\ud83d\\ude00", "😀", "\\ud83d", "\u{FFFD}", "K", "\\u212A", "\u{212A}", "e\u{301}", "e\\u0301", "\u{1E9B}\u{323}"]
        for iteration in 0..<600 {
            let count = generator.chance(30) ? generator.int(16..<60) : generator.int(1..<16)
            var text = "{"
            for index in 0..<count {
                if index > 0 { text += "," }
                let key = generator.chance(50) ? spellings[generator.int(0..<spellings.count)] : "k\(generator.int(0..<40))"
                text += "\"\(key)\":\(index)"
            }
            text += "}"
            assertSameOutcome(Array(text.utf8), "duplicates \(iteration): \(text)")
        }
    }
}
