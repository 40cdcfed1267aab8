import XCTest
import PinJSON

/// Parses `text`, returning the error it throws, or nil when it parses.
func parseError(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONParseError? {
    parseError(Array(text.utf8), maxDepth: maxDepth)
}

func parseError(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONParseError? {
    do {
        _ = try JSONParser(maxDepth: maxDepth).parse(bytes)
        return nil
    } catch {
        return error
    }
}

/// Asserts that `input` fails with exactly `message` ("reason at byte N").
func assertParseError(
    _ input: String, _ message: String, maxDepth: Int = JSONParser.defaultMaxDepth,
    file: StaticString = #filePath, line: UInt = #line
) {
    assertParseError(Array(input.utf8), message, maxDepth: maxDepth, file: file, line: line)
}

func assertParseError(
    _ input: [UInt8], _ message: String, maxDepth: Int = JSONParser.defaultMaxDepth,
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let error = parseError(input, maxDepth: maxDepth) else {
        XCTFail("expected \(message), but \(String(decoding: input, as: UTF8.self).debugDescription) parsed",
                file: file, line: line)
        return
    }
    XCTAssertEqual(error.description, message, "input \(input)", file: file, line: line)
    XCTAssertGreaterThanOrEqual(error.byteOffset, 0, file: file, line: line)
    XCTAssertLessThanOrEqual(error.byteOffset, input.count, file: file, line: line)
}

/// Parses `text`, failing the test (and returning nil) when it does not parse.
func parsed(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
    do {
        return try JSONParser().parse(text)
    } catch {
        XCTFail("\(text.debugDescription) did not parse: \(error)", file: file, line: line)
        return nil
    }
}

/// Same structure and the same bits: unlike `==`, tells `-0.0` from `0.0` and keeps key order.
func identical(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.integer(let a), .integer(let b)): return a == b
    case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
    case (.string(let a), .string(let b)): return Array(a.unicodeScalars) == Array(b.unicodeScalars)
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { identical($0, $1) }
    case (.object(let a), .object(let b)):
        return a.count == b.count && zip(a, b).allSatisfy {
            // Keys by their bytes: `String ==` would equate canonically equivalent keys.
            $0.key.utf8.elementsEqual($1.key.utf8) && identical($0.value, $1.value)
        }
    default: return false
    }
}

/// SplitMix64: small, fast and deterministic across platforms.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
