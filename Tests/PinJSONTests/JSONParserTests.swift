import XCTest
import PinJSON

final class JSONParserTests: XCTestCase {
    // MARK: Values

    func testScalars() throws {
        XCTAssertEqual(try JSONParser().parse("null"), .null)
        XCTAssertEqual(try JSONParser().parse("true"), .bool(true))
        XCTAssertEqual(try JSONParser().parse("false"), .bool(false))
        XCTAssertEqual(try JSONParser().parse("42"), .integer(42))
        XCTAssertEqual(try JSONParser().parse("-7"), .integer(-7))
        XCTAssertEqual(try JSONParser().parse("2.5"), .double(2.5))
        XCTAssertEqual(try JSONParser().parse("\"hi\""), .string("hi"))
    }

    func testContainers() throws {
        XCTAssertEqual(try JSONParser().parse("[]"), .array([]))
        XCTAssertEqual(try JSONParser().parse("{}"), .object(JSONObject()))
        XCTAssertEqual(try JSONParser().parse(" [ 1 , [ ] , { } ] "), .array([.integer(1), .array([]), .object([:])]))
        let value = try JSONParser().parse(#"{"a":{"b":[true,null]},"c":"d"}"#)
        XCTAssertEqual(value, ["a": ["b": [true, nil]], "c": "d"])
        XCTAssertEqual(value.objectValue?.keys, ["a", "c"])
    }

    func testWhitespaceIsOnlyTheFourJSONCharacters() throws {
        XCTAssertEqual(try JSONParser().parse(" \t\r\n[\t1\r\n,\n2 ]\n"), [1, 2])
        assertParseError("\u{0C}1", "unexpected byte 0xC at byte 0")
        assertParseError("\u{A0}1", "unexpected byte 0xC2 at byte 0")
        assertParseError([0x0B, 0x31], "unexpected byte 0xB at byte 0")
    }

    func testInputKinds() throws {
        let text = #"{"k":[1,2.0]}"#
        let expected: JSONValue = ["k": [.integer(1), .double(2)]]
        XCTAssertEqual(try JSONParser().parse(text), expected)
        XCTAssertEqual(try JSONParser().parse(Array(text.utf8)), expected)
        let padded = Array("xx\(text)yy".utf8)
        XCTAssertEqual(try JSONParser().parse(padded[2..<(padded.count - 2)]), expected)
        try Array(text.utf8).withUnsafeBytes { buffer in
            XCTAssertEqual(try JSONParser().parse(buffer), expected)
        }
    }

    func testLeadingByteOrderMarkIsSkipped() throws {
        XCTAssertEqual(try JSONParser().parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)), [1])
        XCTAssertEqual(try JSONParser().parse("\u{FEFF} {\"a\":1}"), ["a": 1])
        assertParseError([0xEF, 0xBB, 0xBF], "unexpected end of input at byte 3")
        // Only a leading one: a second mark, or one after white space, is an error.
        assertParseError([0x20, 0xEF, 0xBB, 0xBF, 0x31], "unexpected byte 0xEF at byte 1")
        assertParseError([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, 0x31], "unexpected byte 0xEF at byte 3")
        assertParseError("[1]\u{FEFF}", "unexpected byte 0xEF after the JSON value at byte 3")
        // A BOM inside a string is just U+FEFF.
        XCTAssertEqual(try JSONParser().parse("\"\u{FEFF}\""), .string("\u{FEFF}"))
    }

    func testDuplicateKeysLastWinsInFirstPosition() throws {
        let value = try JSONParser().parse(#"{"a":1,"b":2,"a":3}"#)
        let object = try XCTUnwrap(value.objectValue)
        XCTAssertEqual(object.keys, ["a", "b"])
        XCTAssertEqual(object["a"], 3)
        XCTAssertEqual(JSONWriter.string(value), #"{"a":3,"b":2}"#)
    }

    func testDuplicateKeysInLargeObjects() throws {
        // Past 16 keys the parser switches to a hashed index; the rule must not change.
        var members = (0..<40).map { "\"k\($0)\":\($0)" }
        members.append(#""k3":"three""#)
        members.append(#""k39":"last""#)
        members.append(#""k0":null"#)
        members.append(#""new":true"#)
        let value = try JSONParser().parse("{" + members.joined(separator: ",") + "}")
        let object = try XCTUnwrap(value.objectValue)
        XCTAssertEqual(object.count, 41)
        XCTAssertEqual(object.keys, (0..<40).map { "k\($0)" } + ["new"])
        XCTAssertEqual(object["k0"], .null)
        XCTAssertEqual(object["k3"], "three")
        XCTAssertEqual(object["k39"], "last")
        XCTAssertEqual(object["k20"], 20)
        // Duplicates that arrive before the index is built, then after.
        let early = try JSONParser().parse(#"{"x":1,"x":2}"#)
        XCTAssertEqual(early.objectValue?.keys, ["x"])
        XCTAssertEqual(early["x"], 2)
    }

    func testDuplicateKeysNested() throws {
        let value = try JSONParser().parse(#"{"a":{"x":1,"x":2},"a":{"y":3}}"#)
        XCTAssertEqual(value, ["a": ["y": 3]])
    }

    // MARK: Numbers

    func testIntegersStayIntegers() throws {
        XCTAssertEqual(try JSONParser().parse("0"), .integer(0))
        XCTAssertEqual(try JSONParser().parse("9223372036854775807"), .integer(Int64.max))
        XCTAssertEqual(try JSONParser().parse("-9223372036854775808"), .integer(Int64.min))
        XCTAssertEqual(try JSONParser().parse("-9223372036854775807"), .integer(-Int64.max))
        XCTAssertEqual(try JSONParser().parse("1234567890123"), .integer(1_234_567_890_123))
    }

    func testIntegersBeyondInt64BecomeDoubles() throws {
        XCTAssertEqual(try JSONParser().parse("9223372036854775808"), .double(9_223_372_036_854_775_808.0))
        XCTAssertEqual(try JSONParser().parse("-9223372036854775809"), .double(-9_223_372_036_854_775_809.0))
        XCTAssertEqual(try JSONParser().parse("18446744073709551616"), .double(18_446_744_073_709_551_616.0))
        XCTAssertEqual(try JSONParser().parse("100000000000000000000000"), .double(1e23))
        // 301 digits: too big for Int64, still a finite double.
        let long = "1" + String(repeating: "0", count: 300)
        XCTAssertEqual(try JSONParser().parse(long), .double(1e300))
    }

    func testFractionOrExponentMakesADouble() throws {
        XCTAssertEqual(try JSONParser().parse("1.0"), .double(1))
        XCTAssertEqual(try JSONParser().parse("1e2"), .double(100))
        XCTAssertEqual(try JSONParser().parse("1E2"), .double(100))
        XCTAssertEqual(try JSONParser().parse("1e+2"), .double(100))
        XCTAssertEqual(try JSONParser().parse("1e-2"), .double(0.01))
        XCTAssertEqual(try JSONParser().parse("-0.5"), .double(-0.5))
        XCTAssertEqual(try JSONParser().parse("0e0"), .double(0))
        XCTAssertEqual(try JSONParser().parse("1.5e3"), .double(1500))
        XCTAssertEqual(try JSONParser().parse("1e007"), .double(1e7))
    }

    func testNegativeZero() throws {
        // `-0` has no fraction or exponent and fits Int64: it is the integer 0 (the sign cannot
        // be kept by an integer). `-0.0` and `-0e0` keep the sign as doubles.
        XCTAssertEqual(try JSONParser().parse("-0"), .integer(0))
        let negative = try JSONParser().parse("-0.0")
        guard case .double(let d) = negative else { return XCTFail("\(negative)") }
        XCTAssertEqual(d.sign, .minus)
        XCTAssertEqual(d, 0)
        guard case .double(let e) = try JSONParser().parse("-0e0") else { return XCTFail() }
        XCTAssertEqual(e.sign, .minus)
    }

    func testExtremeDoubles() throws {
        XCTAssertEqual(try JSONParser().parse("5e-324"), .double(Double.leastNonzeroMagnitude))
        XCTAssertEqual(try JSONParser().parse("1.7976931348623157e308"), .double(Double.greatestFiniteMagnitude))
        XCTAssertEqual(try JSONParser().parse("2.2250738585072014e-308"), .double(Double.leastNormalMagnitude))
        // Underflow rounds to zero (as JavaScript); only overflow is an error.
        XCTAssertEqual(try JSONParser().parse("1e-400"), .double(0))
        XCTAssertEqual(try JSONParser().parse("0.1"), .double(0.1))
        XCTAssertEqual(try JSONParser().parse("0.30000000000000004"), .double(0.30000000000000004))
    }

    func testNumbersOutOfRange() {
        assertParseError("1e400", "number out of range at byte 0")
        assertParseError("-1e400", "number out of range at byte 0")
        assertParseError("[0,1.8e308]", "number out of range at byte 3")
        assertParseError("1" + String(repeating: "0", count: 400), "number out of range at byte 0")
    }

    func testMalformedNumbers() {
        assertParseError("01", "unexpected character '1' after the JSON value at byte 1")
        assertParseError("-01", "unexpected character '1' after the JSON value at byte 2")
        assertParseError("[01]", "expected ',' or ']' in an array, found character '1' at byte 2")
        assertParseError("-", "unexpected end of input at byte 1")
        assertParseError("-x", "expected a digit in a number at byte 1")
        assertParseError("- 1", "expected a digit in a number at byte 1")
        assertParseError("1.", "unexpected end of input at byte 2")
        assertParseError("1.e3", "expected a digit after '.' at byte 2")
        assertParseError("[1.]", "expected a digit after '.' at byte 3")
        assertParseError("1e", "unexpected end of input at byte 2")
        assertParseError("1e+", "unexpected end of input at byte 3")
        assertParseError("1e-x", "expected a digit in an exponent at byte 3")
        assertParseError("[1e]", "expected a digit in an exponent at byte 3")
        assertParseError(".5", "unexpected character '.' at byte 0")
        assertParseError("+1", "unexpected character '+' at byte 0")
        assertParseError("NaN", "unexpected character 'N' at byte 0")
        assertParseError("Infinity", "unexpected character 'I' at byte 0")
        assertParseError("-Infinity", "expected a digit in a number at byte 1")
        assertParseError("0x10", "unexpected character 'x' after the JSON value at byte 1")
        assertParseError("1.5.2", "unexpected character '.' after the JSON value at byte 3")
        assertParseError("1_000", "unexpected character '_' after the JSON value at byte 1")
    }

    // MARK: Literals

    func testLiterals() {
        assertParseError("tru", "unexpected end of input at byte 3")
        assertParseError("nul", "unexpected end of input at byte 3")
        assertParseError("[f", "unexpected end of input at byte 2")
        assertParseError("trUe", "invalid literal at byte 2")
        assertParseError("[nulL]", "invalid literal at byte 4")
        assertParseError("True", "unexpected character 'T' at byte 0")
        assertParseError("truex", "unexpected character 'x' after the JSON value at byte 4")
        assertParseError("undefined", "unexpected character 'u' at byte 0")
        assertParseError("None", "unexpected character 'N' at byte 0")
    }

    // MARK: Strings

    func testEscapes() throws {
        XCTAssertEqual(try JSONParser().parse(#""\"\\\/\b\f\n\r\t""#), .string("\"\\/\u{08}\u{0C}\n\r\t"))
        XCTAssertEqual(try JSONParser().parse(#""\u0041\u00e9\u00E9\u20AC""#), .string("Aéé€"))
        XCTAssertEqual(try JSONParser().parse(#""\u0000""#), .string("\u{0}"))
        XCTAssertEqual(try JSONParser().parse(#""a\u0000b""#).stringValue?.utf8.count, 3)
        XCTAssertEqual(try JSONParser().parse(#""\uD83D\uDE00""#), .string("😀"))
        XCTAssertEqual(try JSONParser().parse(#""\ud83d\ude00x""#), .string("😀x"))
        XCTAssertEqual(try JSONParser().parse(#""\uDBFF\uDFFF""#), .string("\u{10FFFF}"))
        XCTAssertEqual(try JSONParser().parse(#""é\n😀""#), .string("é\n😀"))
    }

    func testLoneSurrogatesBecomeReplacementCharacters() throws {
        XCTAssertEqual(try JSONParser().parse(#""\uD800""#), .string("\u{FFFD}"))
        XCTAssertEqual(try JSONParser().parse(#""\uDC00""#), .string("\u{FFFD}"))
        XCTAssertEqual(try JSONParser().parse(#""\uD800x""#), .string("\u{FFFD}x"))
        XCTAssertEqual(try JSONParser().parse(#""\uDE00\uD83D""#), .string("\u{FFFD}\u{FFFD}"))
        XCTAssertEqual(try JSONParser().parse(#""\uD800\uD800""#), .string("\u{FFFD}\u{FFFD}"))
        XCTAssertEqual(try JSONParser().parse(#""\uD800\u0041""#), .string("\u{FFFD}A"))
        XCTAssertEqual(try JSONParser().parse(#""\uD800\n""#), .string("\u{FFFD}\n"))
        XCTAssertEqual(try JSONParser().parse(#""\uD83D\uD83D\uDE00""#), .string("\u{FFFD}😀"))
        XCTAssertEqual(try JSONParser().parse(#"{"\uDFFF":1}"#), ["\u{FFFD}": 1])
    }

    func testBadEscapes() {
        assertParseError(#""\x""#, "invalid escape: character 'x' after '\\' at byte 2")
        assertParseError(#""ab\a""#, "invalid escape: character 'a' after '\\' at byte 4")
        assertParseError(#""\U0041""#, "invalid escape: character 'U' after '\\' at byte 2")
        assertParseError(#""\'""#, "invalid escape: character ''' after '\\' at byte 2")
        assertParseError([0x22, 0x5C, 0x0A, 0x22], "invalid escape: byte 0xA after '\\' at byte 2")
        assertParseError([0x22, 0x5C, 0xC3, 0xA9, 0x22], "invalid escape: byte 0xC3 after '\\' at byte 2")
        assertParseError(#""\u12G4""#, "invalid hex digit in a \\u escape at byte 5")
        assertParseError(#""\u12""#, "invalid hex digit in a \\u escape at byte 5")
        assertParseError(#""\u""#, "invalid hex digit in a \\u escape at byte 3")
        assertParseError(#""\u-123""#, "invalid hex digit in a \\u escape at byte 3")
        assertParseError(#""\uD800\u12""#, "invalid hex digit in a \\u escape at byte 11")
        assertParseError(#""\"#, "unterminated string at byte 2")
        assertParseError(#""\u12"#, "unterminated string at byte 5")
        assertParseError(#""\u"#, "unterminated string at byte 3")
    }

    func testUnterminatedStrings() {
        assertParseError(#"""#, "unterminated string at byte 1")
        assertParseError(#""abc"#, "unterminated string at byte 4")
        assertParseError(#"["abc\n"#, "unterminated string at byte 7")
        assertParseError(#"{"type"#, "unterminated string at byte 6")
        assertParseError(#"{"a":"é"#, "unterminated string at byte 8")
    }

    func testControlCharactersInStrings() {
        for byte in UInt8(0)..<0x20 {
            assertParseError([0x22, 0x61, byte, 0x22], "unescaped control character in a string at byte 2")
            // Also after an escape (the slow path).
            assertParseError([0x22, 0x5C, 0x6E, byte, 0x22], "unescaped control character in a string at byte 3")
        }
        // DEL is not a control character for JSON.
        XCTAssertEqual(try JSONParser().parse([0x22, 0x7F, 0x22]), .string("\u{7F}"))
    }

    func testValidUTF8IsAccepted() throws {
        let samples = ["\u{80}", "\u{7FF}", "\u{800}", "\u{D7FF}", "\u{E000}", "\u{FFFD}", "\u{FFFF}",
                       "\u{10000}", "\u{10FFFF}", "日本語", "Ünïcødé", "👩‍👩‍👧"]
        for sample in samples {
            XCTAssertEqual(try JSONParser().parse("\"\(sample)\""), .string(sample))
            XCTAssertEqual(try JSONParser().parse("\"\\n\(sample)\""), .string("\n" + sample))
        }
    }

    func testInvalidUTF8IsRejected() {
        let cases: [(String, [UInt8])] = [
            ("0xFF", [0xFF]),
            ("0xFE", [0xFE]),
            ("lone continuation", [0x80]),
            ("lone continuation 0xBF", [0xBF]),
            ("overlong slash", [0xC0, 0xAF]),
            ("overlong 2-byte", [0xC1, 0xBF]),
            ("overlong 3-byte", [0xE0, 0x80, 0xAF]),
            ("overlong 3-byte max", [0xE0, 0x9F, 0xBF]),
            ("overlong 4-byte", [0xF0, 0x80, 0x80, 0xAF]),
            ("overlong 4-byte max", [0xF0, 0x8F, 0xBF, 0xBF]),
            ("UTF-8 high surrogate", [0xED, 0xA0, 0x80]),
            ("UTF-8 low surrogate", [0xED, 0xBF, 0xBF]),
            ("UTF-8 surrogate pair", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
            ("beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("0xF5 lead", [0xF5, 0x80, 0x80, 0x80]),
            ("5-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
            ("truncated 2-byte", [0xC3]),
            ("truncated 3-byte", [0xE2, 0x82]),
            ("truncated 4-byte", [0xF0, 0x9F, 0x98]),
            ("continuation missing", [0xC3, 0x41]),
            ("third byte not continuation", [0xE2, 0x82, 0x41]),
            ("fourth byte not continuation", [0xF0, 0x9F, 0x98, 0x41]),
        ]
        for (name, sequence) in cases {
            // Inside a string, on the fast path and after an escape; the offset is the lead byte.
            let fast = [0x22, 0x61] + sequence + [0x22]
            XCTAssertEqual(parseError(fast)?.description, "invalid UTF-8 at byte 2", name)
            let slow = [0x22, 0x5C, 0x74] + sequence + [0x22]
            XCTAssertEqual(parseError(slow)?.description, "invalid UTF-8 at byte 3", name)
            // At the very end of the input.
            XCTAssertEqual(parseError([0x22] + sequence)?.byteOffset, 1, name)
            // In a key.
            XCTAssertEqual(parseError([0x7B, 0x22] + sequence + Array(#"":1}"#.utf8))?.description,
                           "invalid UTF-8 at byte 2", name)
        }
        // Outside strings every non-ASCII byte is simply unexpected.
        assertParseError([0xFF], "unexpected byte 0xFF at byte 0")
        assertParseError([0x5B, 0xC3, 0xA9, 0x5D], "unexpected byte 0xC3 at byte 1")
    }

    // MARK: Structure errors

    func testTypicalBrokenInputs() {
        assertParseError("", "unexpected end of input at byte 0")
        assertParseError("   ", "unexpected end of input at byte 3")
        assertParseError(#"{"type":"#, "unexpected end of input at byte 8")
        assertParseError(#"{"type": "#, "unexpected end of input at byte 9")
        assertParseError("{", "unexpected end of input at byte 1")
        assertParseError("[", "unexpected end of input at byte 1")
        assertParseError("[1", "unexpected end of input at byte 2")
        assertParseError("[1,", "unexpected end of input at byte 3")
        assertParseError(#"{"a""#, "unexpected end of input at byte 4")
        assertParseError(#"{"a":1"#, "unexpected end of input at byte 6")
        assertParseError(#"{"a":1,"#, "unexpected end of input at byte 7")
        assertParseError("]", "unexpected character ']' at byte 0")
        assertParseError("}", "unexpected character '}' at byte 0")
        assertParseError("[1]]", "unexpected character ']' after the JSON value at byte 3")
        assertParseError("{} {}", "unexpected character '{' after the JSON value at byte 3")
        assertParseError(#"{"a":1} x"#, "unexpected character 'x' after the JSON value at byte 8")
        assertParseError("1 2", "unexpected character '2' after the JSON value at byte 2")
        assertParseError("null\u{0}", "unexpected byte 0x0 after the JSON value at byte 4")
        assertParseError("[1 2]", "expected ',' or ']' in an array, found character '2' at byte 3")
        assertParseError("[1;2]", "expected ',' or ']' in an array, found character ';' at byte 2")
        assertParseError(#"{"a" 1}"#, "expected ':' after an object key, found character '1' at byte 5")
        assertParseError(#"{"a"=1}"#, "expected ':' after an object key, found character '=' at byte 4")
        assertParseError(#"{"a":1 "b":2}"#, "expected ',' or '}' in an object, found character '\"' at byte 7")
        assertParseError("{1:2}", "expected a string key, found character '1' at byte 1")
        assertParseError("{a:1}", "expected a string key, found character 'a' at byte 1")
        assertParseError(#"{"a":}"#, "unexpected character '}' at byte 5")
        assertParseError(#"["a":1]"#, "expected ',' or ']' in an array, found character ':' at byte 4")
        assertParseError(#"{"a":1]"#, "expected ',' or '}' in an object, found character ']' at byte 6")
        assertParseError("[1}", "expected ',' or ']' in an array, found character '}' at byte 2")
    }

    func testTrailingAndMissingCommas() {
        assertParseError("[1,]", "unexpected character ']' at byte 3")
        assertParseError("[1, ]", "unexpected character ']' at byte 4")
        assertParseError(#"{"a":1,}"#, "expected a string key, found character '}' at byte 7")
        assertParseError("[,1]", "unexpected character ',' at byte 1")
        assertParseError("[1,,2]", "unexpected character ',' at byte 3")
        assertParseError("{,}", "expected a string key, found character ',' at byte 1")
    }

    func testCommentsAndSingleQuotes() {
        assertParseError("// c\n1", "unexpected character '/' at byte 0")
        assertParseError("/* c */ 1", "unexpected character '/' at byte 0")
        assertParseError("[1] // c", "unexpected character '/' after the JSON value at byte 4")
        assertParseError("[1, /* c */ 2]", "unexpected character '/' at byte 4")
        assertParseError("# c\n1", "unexpected character '#' at byte 0")
        assertParseError("'a'", "unexpected character ''' at byte 0")
        assertParseError("{'a':1}", "expected a string key, found character ''' at byte 1")
        assertParseError(#"{"a":'b'}"#, "unexpected character ''' at byte 5")
    }

    // MARK: Depth

    func testDepthLimitExactlyAtAndOverTheLimit() throws {
        let limit = JSONParser.defaultMaxDepth
        let atLimit = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        XCTAssertNoThrow(try JSONParser().parse(atLimit))
        let over = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        assertParseError(over, "nesting deeper than \(limit) at byte \(limit)")

        let objectsAt = String(repeating: #"{"a":"#, count: limit - 1) + "{}" + String(repeating: "}", count: limit - 1)
        XCTAssertNoThrow(try JSONParser().parse(objectsAt))
        let objectsOver = String(repeating: #"{"a":"#, count: limit) + "{}" + String(repeating: "}", count: limit)
        assertParseError(objectsOver, "nesting deeper than \(limit) at byte \(5 * limit)")

        // Mixed and a custom limit.
        assertParseError(#"[{"a":[1]}]"#, "nesting deeper than 2 at byte 6", maxDepth: 2)
        XCTAssertNoThrow(try JSONParser(maxDepth: 3).parse(#"[{"a":[1]}]"#))
        XCTAssertEqual(try JSONParser(maxDepth: 0).parse("1"), 1)
        assertParseError("[]", "nesting deeper than 0 at byte 0", maxDepth: 0)
        // Depth is nesting, not the number of containers: siblings do not add up.
        let siblings = "[" + Array(repeating: "[[]]", count: 1000).joined(separator: ",") + "]"
        XCTAssertNoThrow(try JSONParser(maxDepth: 3).parse(siblings))
    }

    func testVeryDeepNestingFailsWithoutCrashing() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertEqual(parseError(deep)?.reason, "nesting deeper than \(JSONParser.defaultMaxDepth)")
        let unclosed = String(repeating: #"{"a":["#, count: 10_000)
        XCTAssertEqual(parseError(unclosed)?.reason, "nesting deeper than \(JSONParser.defaultMaxDepth)")
        let bigLimit = String(repeating: "[", count: 100_000)
        XCTAssertEqual(parseError(bigLimit, maxDepth: 2_000)?.reason, "nesting deeper than 2000")
    }

    func testErrorDescription() {
        let error = JSONParseError(reason: "unexpected end of input", byteOffset: 8)
        XCTAssertEqual(error.description, "unexpected end of input at byte 8")
        XCTAssertEqual("\(error)", "unexpected end of input at byte 8")
        XCTAssertEqual(parseError(#"{"type":"#), error)
    }

    func testParsingAStringNeverSeesInvalidUTF8() throws {
        // Swift strings are valid UTF-8 already: every scalar survives.
        let text = "\"\u{1}\u{1F}\u{7F}\u{80}\u{10FFFF}\""
        assertParseError(text, "unescaped control character in a string at byte 1")
        XCTAssertEqual(try JSONParser().parse("\"\u{7F}\u{80}\u{10FFFF}\""), .string("\u{7F}\u{80}\u{10FFFF}"))
    }
}
