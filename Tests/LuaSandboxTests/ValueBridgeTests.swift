import XCTest
import PinJSON
@testable import LuaSandbox

/// The value bridge: how JSON values become Lua values and come back.
final class ValueBridgeTests: XCTestCase {
    // MARK: null

    func testNullIsASentinelVisibleToRules() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([true, false, "null", "null", "userdata", true], sandbox.run("""
            return function(e)
              return e.a == null, e.a == nil, tostring(e.a), jsontype(e.a), type(null), e.missing == nil
            end
            """, arguments: [["a": nil]]))
    }

    func testAssigningNullKeepsTheKeyAndNilRemovesIt() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([["keep": nil, "new": nil, "list": [1, nil, 3]]], sandbox.run("""
            return function(e)
              e.keep = null
              e.new = null
              e.drop = nil
              e.list[2] = null
              return e
            end
            """, arguments: [["keep": 1, "drop": "x", "list": [1, 2, 3]]]))
    }

    func testNullInsideArraysCrossesBothWays() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([[nil, 1, nil], 3], sandbox.run("return function(a) return a, #a end", arguments: [[nil, 1, nil]]))
    }

    func testNilResultsBecomeNull() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([nil, 1, nil], sandbox.run("return function() return nil, 1, null end"))
        Expect.values([], sandbox.run("return function() end"))
    }

    func testNullMetatableIsProtected() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([false], sandbox.run("return function() return getmetatable(null) end"))
        Expect.runtime("bad argument", sandbox.run("return function() setmetatable(null, {}) end"))
    }

    // MARK: Arrays and objects

    func testEmptyArrayAndObjectStayDistinctBothWays() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([["a": [], "o": [:], "nested": [[], [:]]], "array", "object"], sandbox.run(
            "return function(e) return e, jsontype(e.a), jsontype(e.o) end",
            arguments: [["a": [], "o": [:], "nested": [[], [:]]]]))
    }

    func testArrayEmptiedByTheRuleStaysAnArray() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([["list": [], "obj": [:]]], sandbox.run(
            "return function(e) e.list[1] = nil; e.obj.k = nil; return e end",
            arguments: [["list": [1], "obj": ["k": 1]]]))
    }

    func testMarkersForTablesBuiltByRules() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([[], [:], [1, 2], ["k": 1], [:], "array", "object"], sandbox.run("""
            return function()
              local a = array()
              local t = {1, 2}
              local marked = array(t)
              assert(marked == t, "array(t) marks t in place")
              return a, object(), t, object({k = 1}), {}, jsontype(array()), jsontype(object({}))
            end
            """))
    }

    func testMarkerCanBeSwitched() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([[:], []], sandbox.run("return function(e) return object(e.a), array(e.o) end", arguments: [["a": [], "o": [:]]]))
        Expect.values([["x": 1]], sandbox.run("return function() local t = setmetatable(array(), nil) t.x = 1 return t end"))
    }

    func testMarkersRefuseOtherMetatablesAndSharedTables() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.runtime("already has a metatable", sandbox.run("return function() return array(setmetatable({}, {})) end"))
        Expect.runtime("read-only", sandbox.run("return function() return object(string) end"))
        Expect.usable(sandbox)
    }

    func testUnmarkedEmptyTableIsAnObject() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([[:], ["e": [:]], "object"], sandbox.run("return function() return {}, {e = {}}, jsontype({}) end"))
    }

    func testInferredArrays() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([[1, 2, 3], ["a", ["b"]], "array", [true, false]], sandbox.run(
            "return function() local t = {} t[3] = true t[1] = 1 t[2] = 2 return {1, 2, 3}, {'a', {'b'}}, jsontype({1}), {true, false} end"))
    }

    func testInferredObjectsWithNumericLookingKeys() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([["1": "a", "2": "b"], "object"], sandbox.run(
            "return function(o) return o, jsontype(o) end", arguments: [["1": "a", "2": "b"]]))
    }

    func testSparseAndMixedTablesAreBadReturns() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.badReturn(path: "", reasonContains: "sparse", sandbox.run("return function() return {[1] = 1, [3] = 3} end"))
        Expect.badReturn(path: "items", reasonContains: "sparse", sandbox.run("return function() return {items = {1, nil, 3}} end"))
        Expect.badReturn(path: "mixed", reasonContains: "mixes array and object", sandbox.run("return function() return {mixed = {1, 2, k = 3}} end"))
        Expect.badReturn(path: "odd", reasonContains: "neither strings nor positive integers", sandbox.run("return function() return {odd = {[1.5] = 1}} end"))
        Expect.badReturn(path: "odd", reasonContains: "neither strings nor positive integers", sandbox.run("return function() return {odd = {[true] = 1}} end"))
        Expect.badReturn(path: "odd", reasonContains: "neither strings nor positive integers", sandbox.run("return function() return {odd = {[0] = 1}} end"))
        Expect.badReturn(path: "list", reasonContains: "non-integer keys", sandbox.run("return function(e) e.list.x = 1 return e end", arguments: [["list": [1]]]))
        Expect.badReturn(path: "list", reasonContains: "holes", sandbox.run("return function(e) e.list[5] = 1 return e end", arguments: [["list": [1]]]))
        Expect.badReturn(path: "obj", reasonContains: "non-string key", sandbox.run("return function(e) e.obj[1] = 1 return e end", arguments: [["obj": ["k": 1]]]))
        Expect.badReturn(path: "a[2].b", reasonContains: "sparse", sandbox.run("return function() return {a = {1, {b = {[2] = 0}}}} end"))
        Expect.usable(sandbox)
    }

    // MARK: Numbers

    func testIntegersAndFloatsStayApart() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([1, 1.0, 3.0, 9_007_199_254_740_992.0, 2, -0.0], sandbox.run(
            "return function() return 1, 1.0, 3 / 1, 2^53, 5 // 2, -0.0 end"))
        Expect.values(["integer", "float", "integer", "float"], sandbox.run(
            "return function(a, b, c, d) return math.type(a), math.type(b), math.type(c), math.type(d) end",
            arguments: [1, 1.0, 0, -0.0]))
    }

    func testSixtyFourBitIntegersAreExact() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([.integer(.max), .integer(.min), true, true, .integer(9_007_199_254_740_993)], sandbox.run(
            "return function(a, b, c) return a, b, a == math.maxinteger, b == math.mininteger, c end",
            arguments: [.integer(.max), .integer(.min), .integer(9_007_199_254_740_993)]))
        Expect.values([.integer(.min)], sandbox.run("return function() return math.maxinteger + 1 end"))
    }

    func testNonFiniteNumbersAreBadReturns() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.badReturn(path: "x", reasonContains: "not finite", sandbox.run("return function() return {x = 0/0} end"))
        Expect.badReturn(path: "[2]", reasonContains: "not finite", sandbox.run("return function() return {1, math.huge} end"))
        Expect.badReturn(path: "", reasonContains: "not finite", sandbox.run("return function() return -math.huge end"))
        Expect.usable(sandbox)
    }

    // MARK: jsontype

    func testJsontype() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values(["null", "boolean", "integer", "float", "string", "array", "object", "object", "array", "object", nil, nil, nil], sandbox.run("""
            return function()
              return jsontype(null), jsontype(true), jsontype(1), jsontype(1.5), jsontype("s"),
                jsontype({1, 2}), jsontype({a = 1}), jsontype({}), jsontype(array()), jsontype({1, 2, x = 1}),
                jsontype(nil), jsontype(jsontype), jsontype(coroutine.create(function() end))
            end
            """))
        Expect.runtime("bad argument", sandbox.run("return function() return jsontype() end"))
    }

    // MARK: Strings and arguments

    func testStringsWithNulAndUnicodeCrossBothWays() throws {
        let sandbox = try LuaSandbox.forTests()
        let text = "a\u{0}b é 😀 \u{10FFFF}"
        Expect.values([.string(text), .integer(Int64(text.utf8.count))], sandbox.run("return function(s) return s, #s end", arguments: [.string(text)]))
    }

    func testObjectKeysKeepExactBytes() throws {
        let sandbox = try LuaSandbox.forTests()
        let precomposed = "\u{E9}", decomposed = "e\u{301}"
        var object = JSONObject()
        object.appendUnique(precomposed, 1)
        object.appendUnique(decomposed, 2)
        let outcome = sandbox.run("return function(o) local n = 0 for _ in pairs(o) do n = n + 1 end return n end",
                                  arguments: [.object(object)])
        Expect.values([2], outcome)
    }

    func testTooDeepArgumentIsABadArgument() throws {
        let sandbox = try LuaSandbox.forTests(maxDepth: 4)
        var value: JSONValue = 1
        for _ in 0..<10 { value = [value] }
        let rule = try sandbox.load("return function(x) return x end", chunkName: "id.lua")
        XCTAssertThrowsError(try sandbox.call(rule, arguments: [.json(value)])) { error in
            guard case SandboxError.badArgument(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("nesting deeper than 4"), reason)
        }
        Expect.values([[[1]]], sandbox.run(rule, arguments: [[[1]]]))
    }

    func testMaxDepthAboveTheCapIsClampedConsistently() throws {
        let sandbox = try LuaSandbox.forTests(maxDepth: 5000)
        var value: JSONValue = 1
        for _ in 0..<1100 { value = [value] }
        let rule = try sandbox.load("return function(x) return x end", chunkName: "id.lua")
        XCTAssertThrowsError(try sandbox.call(rule, arguments: [.json(value)])) { error in
            guard case SandboxError.badArgument(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("nesting deeper than 1024"), reason)
        }
    }

    func testReferenceArguments() throws {
        let sandbox = try LuaSandbox.forTests()
        let config = try sandbox.load("return {threshold = 3}", chunkName: "config.lua")
        let rule = try sandbox.load("return function(cfg, x) return x > cfg.threshold end", chunkName: "rule.lua")
        let result = try sandbox.call(rule, arguments: [.reference(config), .json(5)])
        XCTAssertEqual(result.values, [true])
        let other = try LuaSandbox.forTests()
        XCTAssertThrowsError(try other.call(rule)) { error in
            guard case SandboxError.host = error else { return XCTFail("\(error)") }
        }
    }

    func testCallingAFieldOfAReturnedTable() throws {
        let sandbox = try LuaSandbox.forTests()
        let module = try sandbox.load("return {double = function(x) return 2 * x end, value = 1}", chunkName: "m.lua")
        XCTAssertEqual(try sandbox.call(module, field: "double", arguments: [.json(21)]).values, [42])
        XCTAssertThrowsError(try sandbox.call(module, field: "value")) { error in
            guard case SandboxError.host = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try sandbox.call(module, field: "missing")) { error in
            guard case SandboxError.host = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try sandbox.call(module, field: "double", arguments: [.json(2.5)]).values, [5.0])
    }

    func testOversizeResult() throws {
        let sandbox = try LuaSandbox.forTests(maxResultBytes: 1000)
        Expect.badReturn(path: "big", reasonContains: "larger than 1000 bytes", sandbox.run("return function() return {big = ('x'):rep(2000)} end"))
        Expect.values([.string(String(repeating: "x", count: 900))], sandbox.run("return function() return ('x'):rep(900) end"))
    }
}
