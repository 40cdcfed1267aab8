import XCTest
import PinJSON
@testable import LuaSandbox

/// `callReturningTapes` must give exactly what `call` gives, whatever the rule did to its
/// arguments: kept, changed, moved, replaced, removed or added members, at any depth.
final class TapeResultTests: XCTestCase {
    /// Rules that touch their argument in different ways; each returns it (or a new value).
    static let rules: [String] = [
        "return function(e) return e end",
        "return function(e) return 1, e, 'x' end",
        """
        return function(e)
          if type(e) == "table" and jsontype(e) == "object" then e.added = {b = 1, a = array({1, 2})} end
          return e
        end
        """,
        """
        return function(e)
          if type(e) ~= "table" then return e end
          for k, v in pairs(e) do
            if type(v) == "table" and jsontype(v) == "object" then v.zz = k; v.aa = null end
          end
          return e
        end
        """,
        """
        return function(e)
          if type(e) ~= "table" or jsontype(e) ~= "object" then return e end
          local first
          for k in pairs(e) do first = k; break end
          if first ~= nil then e[first] = nil end
          return e
        end
        """,
        """
        return function(e)
          if type(e) ~= "table" then return e end
          local out = {}
          for k, v in pairs(e) do out[tostring(k)] = v end
          return e, out
        end
        """,
        """
        return function(e)
          if type(e) ~= "table" then return e end
          local copy = jsontype(e) == "array" and array() or object()
          for k, v in pairs(e) do copy[k] = v end
          return {wrapped = e, copy = copy, again = e}
        end
        """,
    ]

    func testTapeResultsEqualDecodedResults() throws {
        let sandbox = try LuaSandbox()
        let rules = try Self.rules.enumerated().map { try sandbox.load($1, chunkName: "rule\($0).lua") }
        var generator = JSONGenerator(seed: 99)
        for round in 0..<400 {
            let value = generator.value(depth: round % 4)
            let text = JSONWriter.string(value)
            let tape = JSONTape(value)
            for (number, rule) in rules.enumerated() {
                let decoded = try sandbox.call(rule, arguments: [.json(value)])
                let patched = try sandbox.callReturningTapes(rule, arguments: [.tape(tape)])
                XCTAssertEqual(patched.tapes.count, decoded.values.count, "rule \(number): \(text)")
                for (tape, expected) in zip(patched.tapes, decoded.values) {
                    XCTAssertTrue(JSONGenerator.identical(tape.value, expected), "rule \(number): \(text)\n\(tape.value)\n\(expected)")
                    XCTAssertTrue(JSONTape.isWellFormed(tape.bytes), "rule \(number): \(text)")
                    XCTAssertEqual(tape.depth, JSONTape(expected).depth, "rule \(number): \(text)")
                    XCTAssertEqual(tape, JSONTape(expected), "rule \(number): \(text)")
                }
            }
        }
    }

    func testResultTapesGoBackInAsArguments() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function(e, n) e.count = (e.count or 0) + n; e.list = array({n}); return e end", chunkName: "count.lua")
        var tape = JSONTape(["keep": ["deep": [1, 2, ["x": "y"]]], "count": 0])
        for step in 1...5 {
            tape = try sandbox.callReturningTapes(rule, arguments: [.tape(tape), .json(.integer(Int64(step)))]).tapes[0]
        }
        XCTAssertEqual(tape.value, ["keep": ["deep": [1, 2, ["x": "y"]]], "count": 15, "list": [5]])
    }

    func testInvalidUTF8IsRepairedAsCallRepairsIt() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(#"return function(e) e["k\255"] = "v\254w"; e.s = "\237\160\128"; return e end"#, chunkName: "bad.lua")
        let argument: JSONValue = ["a": 1]
        let decoded = try sandbox.call(rule, arguments: [.json(argument)])
        let patched = try sandbox.callReturningTapes(rule, arguments: [.tape(JSONTape(argument))])
        XCTAssertEqual(patched.tapes.map(\.value), decoded.values)
        XCTAssertEqual(patched.warnings.sorted(), decoded.warnings.sorted())
        XCTAssertFalse(patched.warnings.isEmpty)
    }

    /// New keys (valid and repaired ones mixed) are sorted by their bytes after repair, in new
    /// and changed objects nested in each other's new members; the patcher's lists are reused
    /// from call to call.
    func testNewKeysNestedAndRepairedAcrossCalls() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(#"""
            return function(e, n)
              local inner = {["b\255"] = n, a = 1, ["\255"] = {z = 1, ["y\254"] = 2}, c = {}}
              e["k\255"] = inner
              e.zz = {b = 2, a = {d = 1, c = 2}}
              e.keep.added = {q = n, ["p\255"] = e.keep.deep}
              e.keep.deep = nil
              e.a = e.keep
              return e, inner, {x = e.keep, ["w\255"] = 1}
            end
            """#, chunkName: "nested.lua")
        for n in 1...20 {
            let argument: JSONValue = ["keep": ["deep": [1, 2, ["x": "y"]], "other": true], "count": .integer(Int64(n)), "b": "c"]
            let decoded = try sandbox.call(rule, arguments: [.json(argument), .json(.integer(Int64(n)))])
            let patched = try sandbox.callReturningTapes(rule, arguments: [.tape(JSONTape(argument)), .json(.integer(Int64(n)))])
            XCTAssertEqual(patched.tapes.map { JSONWriter.string($0.value) }, decoded.values.map { JSONWriter.string($0) })
            XCTAssertEqual(patched.tapes, decoded.values.map { JSONTape($0) })
            XCTAssertEqual(patched.warnings.sorted(), decoded.warnings.sorted())
            XCTAssertEqual(patched.warnings.count, 11)   // inner is read twice
        }
    }

    /// Small scalar results share the bytes of an equal recent one; each is still its own value.
    func testRepeatedScalarResultsAcrossCalls() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("""
            local values = {"continue", null, true, 1, 1.0, "drop", "x\\255", -0.0, false, "a longer string than thirty-two bytes"}
            return function(n) local v = values[n % #values + 1]; return v, n, "continue", v end
            """, chunkName: "scalars.lua")
        for n in 0..<60 {
            let decoded = try sandbox.call(rule, arguments: [.json(.integer(Int64(n)))]).values
            let tapes = try sandbox.callReturningTapes(rule, arguments: [.json(.integer(Int64(n)))]).tapes
            XCTAssertEqual(tapes, decoded.map { JSONTape($0) }, "call \(n)")
            XCTAssertEqual(tapes.map(\.depth), [0, 0, 0, 0], "call \(n)")
            XCTAssertTrue(zip(tapes, decoded).allSatisfy { JSONGenerator.identical($0.value, $1) }, "call \(n)")
        }
    }

    /// Each call's changed event comes back in storage the next call may reuse: a result still
    /// held keeps its bytes, every later call notwithstanding.
    func testKeptResultTapesKeepTheirBytes() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("""
            return function(e, n) e.n = n; e.list[#e.list + 1] = n; return e end
            """, chunkName: "kept.lua")
        var kept: [(JSONTape, JSONValue)] = []
        for n in 0..<200 {
            let event: JSONValue = ["id": .string("event \(n)"), "list": [1, 2], "nested": ["a": ["b": .integer(Int64(n))]]]
            let tape = try sandbox.callReturningTapes(rule, arguments: [.tape(JSONTape(event)), .json(.integer(Int64(n)))]).tapes[0]
            let expected: JSONValue = ["id": .string("event \(n)"), "list": [1, 2, .integer(Int64(n))],
                                       "nested": ["a": ["b": .integer(Int64(n))]], "n": .integer(Int64(n))]
            XCTAssertEqual(tape.value, expected, "call \(n)")
            if n % 3 == 0 { kept.append((tape, expected)) }
        }
        for (tape, expected) in kept { XCTAssertEqual(tape.value, expected) }
    }
}
