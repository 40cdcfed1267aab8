import XCTest
@testable import PinJSON

/// The fast path of `JSONTapeParser` must give exactly the careful path's tape whenever it
/// takes a text, decline every text the careful path rejects, and take the texts events are
/// made of (or it would be dead weight).
final class FastTapeScannerTests: XCTestCase {
    func assertAgrees(_ text: [UInt8], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let parser = JSONTapeParser()
        let careful: Result<JSONTape, any Error> = Result { try text.withUnsafeBytes { try parser.parseCarefully($0) } }
        guard parser.fastPathTakes(text) else { return }
        switch careful {
        case .success(let expected):
            let fast = try? parser.parse(text)
            XCTAssertEqual(fast, expected, "\(label): \(String(decoding: text, as: UTF8.self))", file: file, line: line)
            XCTAssertEqual(fast?.depth, expected.depth, label, file: file, line: line)
        case .failure(let error):
            XCTFail("\(label): the fast path took a text the parser rejects (\(error)): \(String(decoding: text, as: UTF8.self))", file: file, line: line)
        }
    }

    func testTypicalEventsTakeTheFastPath() throws {
        let event = #"{"anonymousId":"1818e811","channel":"web","context":{"app":{"build":"1.0.0"},"screen":{"density":2,"width":1440},"traits":{"email":"user@example.com"}},"integrations":{"All":true},"messageId":"36f6","type":"track","event":"Product Added","properties":{"value":34.26,"revenue":-0.5,"products":[{"price":117.02,"quantity":1,"variant":null,"on_sale":false}],"empty":{},"list":[]}}"#
        let parser = JSONTapeParser()
        XCTAssertTrue(parser.fastPathTakes(Array(event.utf8)))
        assertAgrees(Array(event.utf8), "event")
        XCTAssertEqual(try parser.parse(Array(event.utf8)).value, try JSONParser().parse(event))
        for plain in [#"{"café":"naïve 😀"}"#, " [1, 2.5 ,\n-0, -0.0, 0.125, 123456789012345678] ", "true", "\"s\"", "{}", "[]", "-12"] {
            XCTAssertTrue(parser.fastPathTakes(Array(plain.utf8)), plain)
            assertAgrees(Array(plain.utf8), plain)
        }
    }

    /// The fast path makes the tape's room once per line (seven bytes per byte of text, and 64
    /// more) and then writes without checking (debug builds assert the room): the texts that
    /// take the most tape per byte must fit, at every size.
    func testTheDensestTextsFitTheRoomMadeForThem() {
        let parser = JSONTapeParser()
        var texts = ["0", "[0]", "[[0]]", "[[]]", "[{}]", #"{"":0}"#, #"{"":[]}"#, #"[""]"#, "[-0]", "[1.5]"]
        for depth in [2, 8, 32, 63] {
            texts.append(String(repeating: "[", count: depth) + "0" + String(repeating: "]", count: depth))
            texts.append(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        }
        for count in [1, 7, 100, 5000] {
            texts.append("[" + Array(repeating: "[]", count: count).joined(separator: ",") + "]")
            texts.append("[" + Array(repeating: "[0]", count: count).joined(separator: ",") + "]")
            texts.append("[" + Array(repeating: "0", count: count).joined(separator: ",") + "]")
            texts.append("{" + (0..<count).map { #""\#($0)":{}"# }.joined(separator: ",") + "}")
        }
        for text in texts {
            XCTAssertTrue(parser.fastPathTakes(Array(text.utf8)), String(text.prefix(40)))
            assertAgrees(Array(text.utf8), String(text.prefix(40)))
        }
        // Longer lines than the fast path takes go to the careful parser, with the same result.
        let long = "[" + Array(repeating: "\"" + String(repeating: "x", count: 1000) + "\"", count: 1100).joined(separator: ",") + "]"
        XCTAssertFalse(parser.fastPathTakes(Array(long.utf8)))
        let parsed = try? parser.parse(Array(long.utf8))
        XCTAssertEqual(parsed.map { $0.count(of: $0.root) }, 1100)
    }

    func testUnusualTextsGoToTheCarefulPath() {
        let parser = JSONTapeParser()
        let declined = [
            #"{"a":"x\"y"}"#, #"{"a\n":1}"#, "[1e5]", "[1E-5]", "[0.1234567890123456]", "[1234567890123456789]",
            #"{"a":1,"a":2}"#, "\u{FEFF}{}", "[01]", "[1.]", "[-]", "[tru]", "[nul]", "{\"a\":1,}", "[1,]", "{\"a\" 1}",
            "[\"\u{01}\"]", String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "", "   ", "{} x",
        ]
        for text in declined {
            XCTAssertFalse(parser.fastPathTakes(Array(text.utf8)), text)
        }
        XCTAssertFalse(parser.fastPathTakes([0x5B, 0x22, 0xFF, 0x22, 0x5D]))   // ["\xFF"]
        XCTAssertFalse(parser.fastPathTakes([0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D]))   // a surrogate
        // Nesting within the parser's own limit only.
        XCTAssertFalse(JSONTapeParser(parser: JSONParser(maxDepth: 2)).fastPathTakes(Array("[[[1]]]".utf8)))
        XCTAssertTrue(JSONTapeParser(parser: JSONParser(maxDepth: 3)).fastPathTakes(Array("[[[1]]]".utf8)))
    }

    /// Short keys are found, hashed and copied a word at a time when 16 bytes of text follow
    /// them, byte by byte otherwise: every length, with an odd byte anywhere, near the end of the
    /// text or not, and duplicates found whichever way each key was read.
    func testKeysOfEveryLengthAgree() {
        let parser = JSONTapeParser()
        let padding = #","pad":"\#(String(repeating: "p", count: 20))"}"#
        for length in 0...24 {
            let key = Array((0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) })
            var variants = [key]
            for position in 0..<length {
                for odd: [UInt8] in [[0x5C, 0x22], [0x5C, 0x5C], [0x01], [0x7F], [0xC3, 0xA9], [0xFF], [0x80], [0xE2, 0x82, 0xAC]] {
                    variants.append(Array(key[..<position]) + odd + Array(key[(position + 1)...]))
                }
            }
            for variant in variants {
                let member = [0x22] + variant + Array(#"":1"#.utf8)
                for text in [[0x7B] + member + [0x7D], [0x7B] + member + Array(padding.utf8), Array(#"{"x":{"#.utf8) + member + Array("}}".utf8)] {
                    assertAgrees(text, "key of \(length) bytes")
                }
            }
            let member = #""\#(String(decoding: key, as: UTF8.self))":1"#
            for text in ["{\(member)}", "{\(member)\(padding)", "{\(member),\(member)}", "{\(member),\(member)\(padding)",
                         "{\(member)\(padding.dropLast()),\(member)}"] {
                let takes = parser.fastPathTakes(Array(text.utf8))
                XCTAssertEqual(takes, !text.contains("\(member),\(member)") && !text.hasSuffix(",\(member)}"), text)
                assertAgrees(Array(text.utf8), text)
            }
        }
    }

    /// The scan reads bytes without checking the end of the text until a container closes at
    /// the last byte that is not white space (see `FastTapeScanner.scan`): texts cut short
    /// anywhere, or closed early, must be declined like any other the parser rejects.
    func testTextsCutShortAgree() {
        let parser = JSONTapeParser()
        let event = Array(#"{"a":{"b":[1,{"c":"dddddddddddddddddddd"},[]],"e":{}},"f":[[true,false,null,-1.5]],"g":"h"}"#.utf8)
        for length in 0...event.count {
            let prefix = Array(event[..<length])
            for text in [prefix, prefix + Array("}".utf8), prefix + Array("]".utf8), prefix + Array("}  \n".utf8), prefix + Array(" ]\t".utf8)] {
                assertAgrees(text, "cut at \(length)")
            }
        }
        for text in [#"{"a":{}"#, #"{"a":{"b":1}"#, "[[]", "[[1]", "[{}", "[[] ", "{\"a\":[]  ", #"{"a":"}"#, "[1,[2]] ", #"{"a":1}}"#, "[ ]  \n", "[1]]", "{}]"] {
            XCTAssertEqual(parser.fastPathTakes(Array(text.utf8)), (try? JSONParser().parse(text)) != nil, text)
            assertAgrees(Array(text.utf8), text)
        }
    }

    func testRandomNumbersAgree() {
        var random = SplitMix64(seed: 0xFA57)
        for _ in 0..<5000 {
            let digits = Int(random.next() % 17) + 1
            var text = (random.next() % 2 == 0 ? "-" : "") + String(random.next() % 10)
            for _ in 1..<digits { text += String(random.next() % 10) }
            if random.next() % 2 == 0 {
                text += "."
                for _ in 0..<Int(random.next() % 8) + 1 { text += String(random.next() % 10) }
            }
            assertAgrees(Array("[\(text)]".utf8), text)
        }
    }

    func testRandomByteMutationsAgree() {
        var random = SplitMix64(seed: 0xFA58)
        let seed = Array(#"{"a":[1,2.5,{"b":"c d","e":null}],"f":true,"g":-0.25,"h":{}}"#.utf8)
        let alphabet = Array(#"{}[],:"\ -+.eE0123456789tfnrul"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xA9, 0xE2, 0xFF]
        for iteration in 0..<5000 {
            var text = seed
            for _ in 0..<Int(random.next() % 3) + 1 {
                let position = Int(random.next() % UInt64(text.count))
                switch random.next() % 3 {
                case 0: text[position] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: text.remove(at: position)
                default: text.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: position)
                }
            }
            assertAgrees(text, "mutation \(iteration)")
        }
    }

    /// Strings are checked and copied 16 bytes at a time while 16 bytes of text remain, then a
    /// byte at a time: every length around those boundaries, as keys and as values, with an odd
    /// byte (an escape, a control character, UTF-8 of every length, bytes that are not UTF-8)
    /// at every offset, with the text ending right after or long after.
    func testStringsOfEveryLengthAndOffsetAgree() {
        let parser = JSONTapeParser()
        let odd: [[UInt8]] = [[0x5C, 0x22], [0x5C, 0x6E], [0x5C, 0x75, 0x30, 0x30, 0x34, 0x31], [0x01], [0x1F], [0x7F], [0x22],
                              [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xFF], [0x80], [0xC3], [0xE2, 0x82],
                              [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xF4, 0x90, 0x80, 0x80]]
        for length in 0...40 {
            let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
            var variants = [plain]
            for offset in 0..<max(length, 1) {
                for bytes in odd {
                    variants.append(Array(plain.prefix(offset)) + bytes + Array(plain.dropFirst(offset + 1)))
                }
            }
            for variant in variants {
                let string = [0x22] + variant + [0x22]
                let texts: [[UInt8]] = [
                    string,
                    [0x5B] + string + [0x5D],
                    Array(#"{"k":"#.utf8) + string + [0x7D],
                    [0x7B] + string + Array(":1}".utf8),
                    [0x7B] + string + Array(#":1,"padding":"pppppppppppppppppppppppp"}"#.utf8),
                    Array(#"{"a":["#.utf8) + string + Array(#",1,"pppppppppppppppppppppp"]}"#.utf8),
                    Array("[ ".utf8) + string + Array(" ]".utf8),
                ]
                for text in texts {
                    assertAgrees(text, "string of \(variant.count) bytes")
                }
                // Plain strings (ASCII, UTF-8 that is well formed) take the fast path.
                if String(validating: variant, as: UTF8.self).map({ !$0.contains { $0 == "\"" || $0 == "\\" || $0.asciiValue.map { $0 < 0x20 } == true } }) == true {
                    XCTAssertTrue(parser.fastPathTakes([0x5B] + string + [0x5D]), "\(variant)")
                    XCTAssertTrue(parser.fastPathTakes([0x7B] + string + Array(#":1,"padding":"pppppppppppppppppppppppp"}"#.utf8)), "\(variant)")
                }
            }
        }
    }

    /// Multi-byte UTF-8 across the boundaries of the 16-byte blocks, and strings of it alone.
    func testUTF8AcrossBlockBoundariesAgrees() {
        let parser = JSONTapeParser()
        for sequence in ["é", "€", "😀", "日本語"] {
            for before in 0...34 {
                for after in [0, 1, 7, 15, 16, 17, 30] {
                    let text = "{\"k\":\"" + String(repeating: "a", count: before) + sequence + String(repeating: "b", count: after)
                        + "\",\"" + String(repeating: sequence, count: before % 9) + "\":[\"" + String(repeating: sequence, count: after) + "\"]}"
                    XCTAssertTrue(parser.fastPathTakes(Array(text.utf8)), text)
                    assertAgrees(Array(text.utf8), text)
                    XCTAssertEqual(try parser.parse(Array(text.utf8)).value, try JSONParser().parse(text), text)
                }
            }
        }
    }

    /// Numbers of up to 7 digits (and up to 7 after a point) are read a word at a time when 8
    /// bytes of text follow them: every digit count, with what may follow a number, and
    /// without room for a word.
    func testNumbersReadAWordAtATimeAgree() {
        let parser = JSONTapeParser()
        var random = SplitMix64(seed: 0xFA59)
        var numbers = ["0", "-0", "0.5", "-0.5", "00", "01", "1", "-1", "9", "10", "-", "-a", "1.", "1.e5", ".5", "1e5", "1E5", "1.5e3", "1.5E-3"]
        for digits in 1...10 {
            for fraction in 0...10 {
                for _ in 0..<20 {
                    var text = (random.next() % 2 == 0 ? "-" : "") + String(random.next() % 9 + 1)
                    for _ in 1..<digits { text += String(random.next() % 10) }
                    if fraction > 0 {
                        text += "."
                        for _ in 0..<fraction { text += String(random.next() % 10) }
                    }
                    numbers.append(text)
                }
            }
        }
        let followers = ["]", ",1]", ",\"pppppppppppppppp\"]", "      ]", "e1,\"pppppppppppppppp\"]", "x\"pppppppppppppppp\"]",
                         "\u{E9}\"pppppppppppppppp\"]", "0]", ".\"pppppppppppppppp\"]"]
        for number in numbers {
            for follower in followers {
                let text = "[" + number + follower
                assertAgrees(Array(text.utf8), text)
                if let expected = try? JSONParser().parse(text) {
                    XCTAssertEqual(try parser.parse(Array(text.utf8)).value, expected, text)
                }
            }
            for padding in 0...9 {
                let text = #"{"n":"# + number + "," + String(repeating: " ", count: padding) + #""s":"pppppppppppppppp"}"#
                assertAgrees(Array(text.utf8), text)
            }
        }
        XCTAssertTrue(parser.fastPathTakes(Array(#"{"n":1234567,"m":-7654321.1234567,"p":"pppppppppppppppp"}"#.utf8)))
    }

    /// Texts cut short anywhere in a long string or number, or right after one.
    func testEventsCutShortInLongStringsAgree() {
        let event = Array(#"{"anonymousId":"1818e811-892f-902b-d23f-0824128b2f33","ua":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 été €","n":[1440,34.26,-117.02,1234567.7654321],"e":{}}"#.utf8)
        for length in 0...event.count {
            let prefix = Array(event[..<length])
            for text in [prefix, prefix + Array("}".utf8), prefix + Array("\"}".utf8), prefix + Array("]}".utf8), prefix + Array("\"]}".utf8)] {
                assertAgrees(text, "cut at \(length)")
            }
        }
    }
}
