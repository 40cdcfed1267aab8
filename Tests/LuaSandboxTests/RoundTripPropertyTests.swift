import XCTest
import PinJSON
@testable import LuaSandbox

/// Random JSON values go into Lua through an identity function and come back identical, byte for
/// byte (strings and keys compared as UTF-8, floats by bit pattern, integers apart from floats).
final class RoundTripPropertyTests: XCTestCase {
    func testRandomValuesRoundTripIdentically() throws {
        var generator = JSONGenerator(seed: 0x5EED_1234_ABCD_0001)
        let sandbox = try LuaSandbox.forTests()
        let identity = try sandbox.load("return function(...) return ... end", chunkName: "identity.lua")
        var checked = 0
        for _ in 0..<600 {
            let value = generator.value(depth: 0)
            let result = try sandbox.call(identity, arguments: [.json(value)])
            XCTAssertEqual(result.values.count, 1)
            XCTAssertEqual(result.warnings, [])
            let back = try XCTUnwrap(result.values.first)
            if !JSONGenerator.identical(value, back) {
                XCTFail("round trip changed \(value) into \(back)")
                return
            }
            checked += 1
        }
        XCTAssertEqual(checked, 600)
    }

    func testManyValuesInOneCallRoundTrip() throws {
        var generator = JSONGenerator(seed: 42)
        let sandbox = try LuaSandbox.forTests()
        let identity = try sandbox.load("return function(...) return ... end", chunkName: "identity.lua")
        let values = (0..<100).map { _ in generator.value(depth: 0) }
        let result = try sandbox.call(identity, arguments: values.map { .json($0) })
        XCTAssertEqual(result.values.count, values.count)
        for (original, back) in zip(values, result.values) where !JSONGenerator.identical(original, back) {
            XCTFail("round trip changed \(original) into \(back)")
        }
    }

    func testValuesRebuiltByLuaRoundTrip() throws {
        // A deep copy made by Lua code (marking copies like their originals) comes back identical.
        var generator = JSONGenerator(seed: 7)
        let sandbox = try LuaSandbox.forTests()
        let copy = try sandbox.load("""
            local function copy(v)
              local kind = jsontype(v)
              if kind == "array" then
                local t = array()
                for i = 1, #v do t[i] = copy(v[i]) end
                return t
              elseif kind == "object" then
                local t = object()
                for k, x in pairs(v) do t[k] = copy(x) end
                return t
              end
              return v
            end
            return copy
            """, chunkName: "copy.lua")
        for _ in 0..<200 {
            let value = generator.value(depth: 0)
            let back = try XCTUnwrap(try sandbox.call(copy, arguments: [.json(value)]).values.first)
            if !JSONGenerator.identical(value, back) {
                XCTFail("copy changed \(value) into \(back)")
                return
            }
        }
    }

    func testGeneratorCoversTheInterestingCases() {
        var generator = JSONGenerator(seed: 0x5EED_1234_ABCD_0001)
        var seen = Set<String>()
        func visit(_ value: JSONValue) {
            switch value {
            case .null: seen.insert("null")
            case .bool: seen.insert("bool")
            case .integer(let n):
                seen.insert("integer")
                if n == .min || n == .max { seen.insert("integer extreme") }
            case .double(let d):
                seen.insert("double")
                if d == d.rounded() { seen.insert("integral double") }
            case .string(let s):
                seen.insert("string")
                if s.unicodeScalars.contains(where: { $0.value > 0xFFFF }) { seen.insert("astral") }
            case .array(let a):
                seen.insert(a.isEmpty ? "empty array" : "array")
                a.forEach(visit)
            case .object(let o):
                seen.insert(o.isEmpty ? "empty object" : "object")
                o.forEach { visit($0.value) }
            }
        }
        for _ in 0..<600 { visit(generator.value(depth: 0)) }
        XCTAssertEqual(seen, ["null", "bool", "integer", "integer extreme", "double", "integral double", "string", "astral",
                              "empty array", "array", "empty object", "object"])
    }
}

/// SplitMix64: a tiny deterministic generator, so failures reproduce.
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

struct JSONGenerator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    private mutating func below(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }

    mutating func value(depth: Int) -> JSONValue {
        let containers = depth < 5
        switch below(containers ? 10 : 7) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2, 3: return .integer(integer())
        case 4: return .double(double())
        case 5, 6: return .string(string())
        case 7, 8:
            let count = below(3) == 0 ? 0 : below(6)
            return .array((0..<count).map { _ in value(depth: depth + 1) })
        default:
            let count = below(3) == 0 ? 0 : below(6)
            var keys = Set<[UInt8]>()
            var object = JSONObject()
            for _ in 0..<count {
                let key = string()
                guard keys.insert(Array(key.utf8)).inserted else { continue }
                object.appendUnique(key, value(depth: depth + 1))
            }
            return .object(object)
        }
    }

    private mutating func integer() -> Int64 {
        switch below(6) {
        case 0: return [Int64.min, Int64.max, 0, -1, 1, 9_007_199_254_740_993, -9_007_199_254_740_993][below(7)]
        case 1: return Int64(bitPattern: random.next())
        default: return Int64(below(2001)) - 1000
        }
    }

    private mutating func double() -> Double {
        switch below(5) {
        case 0:
            return [0.0, -0.0, 1.0, -1.0, 0.1, 1e300, -1e-300, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
                    .leastNormalMagnitude, 9_007_199_254_740_992.0, 1e15][below(12)]
        case 1:
            while true {
                let d = Double(bitPattern: random.next())
                if d.isFinite { return d }
            }
        case 2: return Double(below(2001) - 1000)  // integral floats must stay floats
        default: return (Double(random.next() % 1_000_000) - 500_000) / 1000
        }
    }

    private mutating func string() -> String {
        let length = below(4) == 0 ? 0 : below(12)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<length {
            let code: UInt32
            switch below(6) {
            case 0: code = UInt32(below(0x20))                     // control characters, NUL included
            case 1, 2: code = 0x20 + UInt32(below(0x5F))            // printable ASCII (quotes, backslash)
            case 3: code = 0xA0 + UInt32(below(0x700))              // Latin, Greek, Cyrillic...
            case 4:
                var c = 0x800 + UInt32(below(0xF800))               // rest of the BMP, no surrogates
                if (0xD800...0xDFFF).contains(c) { c = 0xFFFD }
                code = c
            default: code = 0x10000 + UInt32(below(0x100000))     // astral planes
            }
            if let scalar = Unicode.Scalar(code) { scalars.append(scalar) }
        }
        return String(scalars)
    }

    /// Exact equality: UTF-8 bytes for strings and keys, bit patterns for floats.
    static func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)): return Array(x.utf8) == Array(y.utf8)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            let left = x.elements.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            let right = y.elements.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return zip(left, right).allSatisfy { Array($0.key.utf8) == Array($1.key.utf8) && identical($0.value, $1.value) }
        default: return false
        }
    }
}
