import PinJSON
@testable import PinterestTag
import Testing

/// Custom properties are read by walking each configured path directly, falling back to
/// RudderStack's whole-tree flattening only when keys with dots or empty keys make the walk
/// ambiguous. These tests hold the walk to the flattening on awkward trees.
struct CustomPropertyLookupTests {
    /// Deterministic pseudo-random trees (SplitMix64) with keys chosen to collide: integer-like
    /// keys, leading zeros and, in every other tree, empty keys and keys with dots.
    struct Trees {
        var state: UInt64
        var awkward = false

        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }

        static let plainKeys = ["a", "b", "0", "1", "01", "é"]
        static let awkwardKeys = plainKeys + ["a.b", "", ".", "b.", ".a"]
        var keys: [String] { awkward ? Self.awkwardKeys : Self.plainKeys }
        static let leaves: [JSONValue] = [.null, false, true, 0, 25, 2.5, "", "x", [], [:], [1, nil]]

        mutating func value(depth: Int) -> JSONValue {
            switch depth > 2 ? 0 : next(4) {
            case 0, 1: return Self.leaves[next(Self.leaves.count)]
            case 2: return .array((0..<next(4)).map { _ in value(depth: depth + 1) })
            default: return .object(object(depth: depth + 1))
            }
        }

        mutating func object(depth: Int) -> JSONObject {
            var object = JSONObject()
            for _ in 0..<next(5) { object[keys[next(keys.count)]] = value(depth: depth) }
            return object
        }

        mutating func path() -> String {
            (0...next(3)).map { _ in keys[next(keys.count)] }.joined(separator: ".")
        }
    }

    @Test("5 a dot is found in a key of any length, at any position, and only then")
    func dotsInKeys() {
        for length in 0...20 {
            let plain = [UInt8](repeating: UInt8(ascii: "a"), count: length)
            // Bytes next to a dot's value (`-` and `/`) and above 0x80 must not pass for one.
            let lookalikes = plain.enumerated().map { $0.offset % 3 == 0 ? UInt8(ascii: "-") : $0.offset % 3 == 1 ? 0xAE : UInt8(ascii: "/") }
            for bytes in [plain, lookalikes] {
                bytes.withUnsafeBytes { #expect(!containsDot($0), "\(length)") }
                for position in 0..<length {
                    var dotted = bytes
                    dotted[position] = UInt8(ascii: ".")
                    dotted.withUnsafeBytes { #expect(containsDot($0), "\(length) \(position)") }
                }
            }
        }
    }

    @Test("5 the direct walk finds exactly what flattening finds, or defers to it")
    func walkMatchesFlatten() {
        var trees = Trees(state: 42)
        var resolved = 0
        var found = 0
        for round in 0..<4000 {
            trees.awkward = round % 2 == 1
            let properties = trees.object(depth: 0)
            let flat = PinterestMapper.flatten(properties)
            for _ in 0..<4 {
                let path = PinterestMapper.CustomPropertyPath(trees.path())
                guard let segments = path.segments,
                      case .resolved(let value) = PinterestMapper.flattenedValue(at: segments, in: properties)
                else { continue }
                resolved += 1
                if value != nil { found += 1 }
                #expect(value == flat[path.utf8], "\(path.key) in \(JSONValue.object(properties))")
            }
        }
        // The walk must answer most lookups itself, found or not, or it saves nothing.
        #expect(resolved > 6000)
        #expect(found > 400)
    }

    @Test("5 paths that only flattening can answer")
    func fallbacks() throws {
        func value(_ properties: String, _ path: String) throws -> JSONValue? {
            let result = try map(#"{"type":"track","event":"Order Completed","messageId":"m","properties":\#(properties)}"#,
                                 config: #"{"customProperties":[{"properties":\#(JSONWriter.string(.string(path)))}]}"#)
            return trackData(result)?[path]
        }
        // An empty key adds no segment while the prefix is empty.
        #expect(try value(#"{"":{"a":1}}"#, "a") == "1")
        #expect(try value(#"{"a":{"":1}}"#, "a.") == "1")
        #expect(try value(#"{"a":{"":{"":1}}}"#, "a..") == "1")
        // A key with a dot is reached whole; the later of two spellings wins.
        #expect(try value(#"{"a.b":2,"a":{"b":1}}"#, "a.b") == "1")
        #expect(try value(#"{"x":{"a.b":[3]}}"#, "x.a.b.0") == "3")
        // Array elements by canonical index only; containers with members are not leaves.
        #expect(try value(#"{"l":["p","q"]}"#, "l.1") == "q")
        #expect(try value(#"{"l":["p","q"]}"#, "l.01") == nil)
        #expect(try value(#"{"l":["p","q"]}"#, "l") == nil)
        #expect(try value(#"{"l":{"m":[]}}"#, "l.m") == "")
        #expect(try value(#"{"n":5}"#, "n.0") == nil)
    }
}
