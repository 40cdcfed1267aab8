import XCTest
import PinJSON

final class JSONWriterTests: XCTestCase {
    func testScalars() {
        XCTAssertEqual(JSONWriter.string(.null), "null")
        XCTAssertEqual(JSONWriter.string(true), "true")
        XCTAssertEqual(JSONWriter.string(false), "false")
        XCTAssertEqual(JSONWriter.string(.string("")), #""""#)
        XCTAssertEqual(JSONWriter.string(.array([])), "[]")
        XCTAssertEqual(JSONWriter.string(.object(JSONObject())), "{}")
    }

    func testIntegers() {
        let cases: [(Int64, String)] = [
            (0, "0"), (7, "7"), (9, "9"), (10, "10"), (-1, "-1"), (-9, "-9"), (-10, "-10"),
            (1_234_567_890, "1234567890"), (Int64.max, "9223372036854775807"),
            (Int64.min, "-9223372036854775808"), (Int64.min + 1, "-9223372036854775807"),
        ]
        for (value, text) in cases {
            XCTAssertEqual(JSONWriter.string(.integer(value)), text)
        }
    }

    func testDoublesKeepAFractionOrExponent() {
        let cases: [(Double, String)] = [
            (0, "0.0"), (-0.0, "-0.0"), (1, "1.0"), (25, "25.0"), (-2.5, "-2.5"), (0.1, "0.1"),
            (1e21, "1e+21"), (1e-7, "1e-07"), (Double.leastNonzeroMagnitude, "5e-324"),
            (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        ]
        for (value, text) in cases {
            XCTAssertEqual(JSONWriter.string(.double(value)), text)
        }
    }

    func testDoubleTextReadsBackAsTheSameDouble() throws {
        var generator = SplitMix64(seed: 7)
        var samples: [Double] = [
            0.1, 0.2, 0.30000000000000004, 1 / 3, 2.0 / 3, Double.pi, 1e15, 1e16, 1e17, 123456789012345680,
            9_007_199_254_740_992, 9_007_199_254_740_994, 1e300, 1e-300, Double.leastNormalMagnitude,
            Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
            Double(Int64.max), Double(Int64.min), 4.35, 100, 1e22, 1e23,
        ]
        for _ in 0..<500 {
            let bits = generator.next()
            let value = Double(bitPattern: bits)
            if value.isFinite { samples.append(value) }
        }
        for value in samples {
            let text = JSONWriter.string(.double(value))
            let back = try JSONParser().parse(text)
            guard case .double(let read) = back else {
                XCTFail("\(value) was written as \(text), read back as \(back)")
                continue
            }
            XCTAssertEqual(read.bitPattern, value.bitPattern, text)
        }
    }

    /// Doubles are written without `description` when their digits are found quickly (see
    /// `writeShortDouble`); every path must still spell them exactly as `description` does.
    func testDoublesAreSpelledAsDescriptionOnEveryPath() throws {
        var generator = SplitMix64(seed: 11)
        var samples: [Double] = [
            0, -0.0, 1, -1, 25, 0.1, 0.2, 0.1 + 0.2, 0.3, 1e21, 5e-324, 1e-7, 1e15, 1e16, 4.35, 117.02,
            999_999_999_999_999.9, 123_456_789_012_345.6, 0.001, 0.0001, 0.00012, 9.999e-5, 0.0025,
            0x1p50, 0x1p50.nextDown, 0x1p50.nextUp, 0x1p49 + 0.5, 0x1p49 + 0.25, 0.001.nextDown, 0.001.nextUp,
            1 / 3, 2.0 / 3, Double.pi, 1e-3 * 7, 1_000_000.5, 10.05, 1.005, 2.675, 0.15, 0.35,
            Double(Int64.max), 9_007_199_254_740_993, 123_456_789_012, 1_125_899_906_842_623,
            Double.leastNormalMagnitude, Double.greatestFiniteMagnitude, 1.7976931348623157e308,
        ]
        for _ in 0..<3000 {
            // Prices and amounts: cents, tenths, a few more decimals, and integers.
            let cents = Double(Int64(generator.next() % 100_000_000)) / 100
            let scale = [1.0, 10, 100, 1000, 10_000, 1e6, 1e9, 1e12][Int(generator.next() % 8)]
            let decimal = Double(Int64(generator.next() % 10_000_000_000)) / scale
            let integer = Double(Int64(generator.next() % (1 << 52)))
            // Any bits within the range the quick path takes, and anything at all.
            let exponent = Int(generator.next() % 62) - 11
            let ranged = Double(sign: .plus, exponent: exponent, significand: 1 + Double(generator.next() % (1 << 52)) / 0x1p52)
            let any = Double(bitPattern: generator.next())
            for value in [cents, decimal, integer, ranged, any] where value.isFinite {
                samples.append(value)
                samples.append(-value)
            }
        }
        for value in samples {
            let expected = value.description
            XCTAssertEqual(JSONWriter.string(.double(value)), expected)
            var writer = JSONWriter()
            writer.writeDouble(value)
            XCTAssertEqual(writer.withBytes { String(decoding: $0, as: UTF8.self) }, expected)
            let tape = JSONTape(.array([.double(value), .string("x")]))
            var tapeWriter = JSONWriter()
            tapeWriter.write(tape, at: tape.root)
            XCTAssertEqual(tapeWriter.withBytes { String(decoding: $0, as: UTF8.self) }, "[\(expected),\"x\"]")
        }
    }

    /// Tape strings of every length up to 40, plain or with an escape at any position, alone
    /// (ending the tape, nothing readable after them) or followed by more: written as the
    /// value path writes them.
    func testTapeStringsOfEveryLengthWhereverTheyEnd() {
        for length in 0...40 {
            let plain = String(repeating: "a", count: length)
            var texts = [plain]
            for position in 0..<length {
                for escaped in ["\"", "\\", "\n", "\u{1}"] {
                    var characters = Array(plain)
                    characters[position] = Character(escaped)
                    texts.append(String(characters))
                }
            }
            for text in texts {
                let expected = JSONWriter.string(.string(text))
                for value: JSONValue in [.string(text), [.string(text)], [.string(text), .integer(1)], ["k": .string(text)]] {
                    let tape = JSONTape(value)
                    var writer = JSONWriter()
                    writer.write(tape, at: tape.root)
                    XCTAssertEqual(writer.withBytes { String(decoding: $0, as: UTF8.self) }, JSONWriter.string(value))
                }
                let alone = JSONTape(.string(text))
                var writer = JSONWriter()
                writer.write(alone, at: alone.root)
                XCTAssertEqual(writer.withBytes { String(decoding: $0, as: UTF8.self) }, expected)
            }
        }
    }

    func testNonFiniteDoublesBecomeNull() {
        XCTAssertEqual(JSONWriter.string(.double(.nan)), "null")
        XCTAssertEqual(JSONWriter.string(.double(.infinity)), "null")
        XCTAssertEqual(JSONWriter.string([.double(-.infinity)]), "[null]")
    }

    func testStringEscaping() {
        XCTAssertEqual(JSONWriter.string(.string(#"a"b\c"#)), #""a\"b\\c""#)
        XCTAssertEqual(JSONWriter.string(.string("/")), #""/""#)
        XCTAssertEqual(JSONWriter.string(.string("\n\r\t\u{08}\u{0C}")), #""\n\r\t\b\f""#)
        XCTAssertEqual(JSONWriter.string(.string("\u{0}")), #""\u0000""#)
        XCTAssertEqual(JSONWriter.string(.string("a\u{0}b")), #""a\u0000b""#)
        XCTAssertEqual(JSONWriter.string(.string("\u{1}\u{1F}\u{0B}\u{1B}")), #""\u0001\u001f\u000b\u001b""#)
        XCTAssertEqual(JSONWriter.string(.string("\u{7F}")), "\"\u{7F}\"")
        XCTAssertEqual(JSONWriter.string(.string("\"\"")), #""\"\"""#)
        XCTAssertEqual(JSONWriter.string(.string("\\")), #""\\""#)
    }

    func testEveryControlCharacterIsEscaped() throws {
        let short: [UInt8: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        for byte in UInt8(0)..<0x20 {
            let text = String(UnicodeScalar(byte))
            let written = JSONWriter.string(.string(text))
            let expected = short[byte] ?? "\\u00" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            XCTAssertEqual(written, "\"\(expected)\"")
            XCTAssertEqual(try JSONParser().parse(written), .string(text))
        }
    }

    func testNonASCIIIsKeptRaw() {
        for text in ["é", "日本語", "😀", "\u{2028}\u{2029}", "\u{FEFF}", "\u{10FFFF}", "a\u{301}"] {
            XCTAssertEqual(JSONWriter.bytes(.string(text)), [0x22] + Array(text.utf8) + [0x22])
        }
    }

    func testKeysInInsertionOrder() {
        var object = JSONObject()
        object["z"] = 1
        object["a"] = 2
        object["m"] = ["y": 1, "b": 2]
        XCTAssertEqual(JSONWriter.string(.object(object)), #"{"z":1,"a":2,"m":{"y":1,"b":2}}"#)
        object["z"] = 3
        XCTAssertEqual(JSONWriter.string(.object(object)), #"{"z":3,"a":2,"m":{"y":1,"b":2}}"#)
        XCTAssertEqual(JSONWriter.string(["k\n\"": "v"]), #"{"k\n\"":"v"}"#)
    }

    func testCompactNesting() {
        let value: JSONValue = ["a": [1, 2.5, "x", nil, true, [], [:]], "b": ["c": ["d": []]]]
        XCTAssertEqual(JSONWriter.string(value), #"{"a":[1,2.5,"x",null,true,[],{}],"b":{"c":{"d":[]}}}"#)
        XCTAssertEqual(value.description, JSONWriter.string(value))
        XCTAssertEqual(JSONWriter.bytes(value), Array(JSONWriter.string(value).utf8))
    }

    func testWriterInstanceAPI() {
        var writer = JSONWriter(reservingCapacity: 4)
        writer.writeRaw("[")
        writer.write(.integer(1))
        writer.writeRaw(Array(",".utf8))
        writer.write(string: "x")
        writer.writeRaw("]")
        XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), #"[1,"x"]"#)
        writer.removeAll()
        XCTAssertEqual(writer.bytes, [])
        writer.writeInteger(-42)
        writer.writeRaw(" ")
        writer.writeDouble(3)
        XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), "-42 3.0")
    }

    /// A writer emptied and filled again writes into the room it kept: what it holds is only
    /// what was written since, whatever came before and however long.
    func testRoomKeptAfterRemoveAllHoldsOnlyNewText() throws {
        var generator = SystemRandomNumberGenerator()
        var writer = JSONWriter(reservingCapacity: 1)
        let values: [JSONValue] = [
            ["long": .string(String(repeating: "x", count: 5000)), "n": [1, 2.5, nil]],
            .string("short"), .integer(-7), .double(0.1), [], [:], .string("é\n\"q\""),
            .array((0..<2000).map { .integer(Int64($0)) }),
        ]
        for _ in 0..<200 {
            var expected: [UInt8] = []
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                let value = values.randomElement(using: &generator) ?? .null
                switch Int.random(in: 0...3, using: &generator) {
                case 0:
                    writer.write(value)
                    expected += JSONWriter.bytes(value)
                case 1:
                    let tape = JSONTape(value)
                    writer.write(tape, at: tape.root)
                    expected += JSONWriter.bytes(value)
                case 2:
                    writer.write(string: "s\u{1}é")
                    expected += JSONWriter.bytes(.string("s\u{1}é"))
                default:
                    writer.writeInteger(123)
                    writer.writeRaw(",")
                    expected += Array("123,".utf8)
                }
            }
            XCTAssertEqual(writer.bytes, expected)
            XCTAssertEqual(writer.count, expected.count)
            writer.withBytes { XCTAssertEqual(Array($0), expected) }
            writer.removeAll()
            XCTAssertEqual(writer.bytes, [])
        }
    }

    func testRoundTripKeepsKindsAndOrder() throws {
        let text = #"{"b":1,"a":1.0,"c":[-0.0,1e+21,"\u0000é😀"],"d":{"y":null,"x":false}}"#
        let value = try JSONParser().parse(text)
        let written = JSONWriter.string(value)
        XCTAssertEqual(written, #"{"b":1,"a":1.0,"c":[-0.0,1e+21,"\u0000é😀"],"d":{"y":null,"x":false}}"#)
        XCTAssertTrue(identical(try JSONParser().parse(written), value))
    }
}
