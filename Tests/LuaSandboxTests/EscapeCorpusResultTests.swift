import XCTest
import PinJSON
@testable import LuaSandbox

/// Escape corpus, part 3: results that cannot cross the bridge, hostile result tables, error
/// values that are not strings, and coroutine misuse.
final class EscapeCorpusResultTests: XCTestCase {
    // MARK: Results

    func testCyclicResultNamesThePath() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.badReturn(path: "properties.self", reasonContains: "cycle", sandbox.run("""
            return function()
              local p = {name = "x"}
              p.self = p
              return {properties = p}
            end
            """))
        Expect.usable(sandbox)
        Expect.badReturn(path: "[1][2]", reasonContains: "cycle", sandbox.run("""
            return function()
              local a = {}
              local b = {1, a}
              a[1] = b
              return a
            end
            """))
        Expect.usable(sandbox)
    }

    func testSharedSubtableIsNotACycle() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([["a": ["k": 1], "b": ["k": 1]]], sandbox.run("return function() local s = {k = 1} return {a = s, b = s} end"))
    }

    func testExponentialSharedSubtablesHitTheSizeLimit() throws {
        let sandbox = try LuaSandbox.forTests(maxResultBytes: 1 << 20)
        let outcome = sandbox.run("return function() local t = {s = 'xxxxxxxx'} for i = 1, 40 do t = {t, t} end return t end")
        guard case .badReturn(_, let reason, _)? = outcome.error else { return XCTFail("\(String(describing: outcome.error))") }
        XCTAssertTrue(reason.contains("larger than"), reason)
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testVeryDeepResult() throws {
        let sandbox = try LuaSandbox.forTests(maxDepth: 8)
        Expect.badReturn(path: "a.a.a.a.a.a.a.a", reasonContains: "nesting deeper than 8", sandbox.run("""
            return function() local t = {} for i = 1, 100 do t = {a = t} end return t end
            """))
        Expect.usable(sandbox)
        Expect.values([["a": ["a": [[]]]]], sandbox.run("return function() return {a = {a = {array()}}} end"))
        let deep = try LuaSandbox.forTests()
        let outcome = deep.run("return function() local t = {} for i = 1, 100000 do t = {t} end return t end")
        guard case .badReturn(let path, let reason, 1)? = outcome.error else { return XCTFail("\(String(describing: outcome.error))") }
        XCTAssertTrue(path.hasPrefix("[1][1][1]"), path)
        XCTAssertTrue(reason.contains("nesting deeper than 256"), reason)
        Expect.usable(deep)
    }

    func testFunctionValuedResultNamesThePath() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.badReturn(path: "properties.products[2].price", reasonContains: "function", sandbox.run("""
            return function() return {properties = {products = {{price = 1}, {price = function() end}}}} end
            """))
        Expect.usable(sandbox)
        Expect.badReturn(path: "", reasonContains: "function", sandbox.run("return function() return 1, function() end end"))
        guard case .badReturn(_, _, let position)? = sandbox.run("return function() return 1, function() end end").error else {
            return XCTFail("no bad return")
        }
        XCTAssertEqual(position, 2)
        Expect.usable(sandbox)
    }

    func testThreadAndUserdataValues() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.badReturn(path: "co", reasonContains: "thread", sandbox.run("return function() return {co = coroutine.create(function() end)} end"))
        Expect.badReturn(path: "[\"not an identifier\"]", reasonContains: "thread", sandbox.run(
            "return function() return {['not an identifier'] = coroutine.running()} end"))
        Expect.usable(sandbox)
    }

    func testPathsEscapeOddKeys() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.badReturn(path: #"["a\"b"]["line\10two"]["nul\0"]"#, reasonContains: "function", sandbox.run(
            #"return function() return {['a"b'] = {["line\ntwo"] = {["nul\0"] = function() end}}} end"#))
        let outcome = sandbox.run(#"return function() return {["k\n\255"] = 1} end"#)
        XCTAssertEqual(outcome.warnings, ["invalid UTF-8 repaired at [\"k\\10\u{FFFD}\"]"])
    }

    func testHostileResultTableIsReadRaw() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            return function()
              local t = {a = 1, nested = {b = true}}
              setmetatable(t, {
                __index = function() error("boom") end,
                __newindex = function() error("boom") end,
                __pairs = function() while true do end end,
                __len = function() while true do end end,
                __tostring = function() error("boom") end,
                __metatable = "locked",
              })
              local list = setmetatable({1, 2, 3}, {__index = function() error("boom") end, __len = function() return 99 end})
              return t, list
            end
            """)
        Expect.values([["a": 1, "nested": ["b": true]], [1, 2, 3]], outcome)
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testNonUTF8StringsAreRepairedWithAWarning() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run(#"return function() return {name = "ok\255bad", list = {"fine", "\xC0\xAF"}}, "\237\160\128" end"#)
        Expect.values([["name": "ok\u{FFFD}bad", "list": ["fine", "\u{FFFD}\u{FFFD}"]], "\u{FFFD}\u{FFFD}\u{FFFD}"], outcome)
        XCTAssertEqual(Set(outcome.warnings), [
            "invalid UTF-8 repaired at name", "invalid UTF-8 repaired at list[2]", "invalid UTF-8 repaired at (result)",
        ])
        // Valid UTF-8, including astral characters and NUL, crosses unchanged and without warning.
        let clean = sandbox.run(#"return function() return "a\0b ü 😀 \u{10FFFF}" end"#)
        Expect.values(["a\0b ü 😀 \u{10FFFF}"], clean)
        XCTAssertEqual(clean.warnings, [])
    }

    func testNonUTF8KeysAreRepaired() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run(#"return function() return {["k\255"] = 1} end"#)
        Expect.values([["k\u{FFFD}": 1]], outcome)
        XCTAssertEqual(outcome.warnings.count, 1)
    }

    // MARK: Error values

    func testErrorNil() throws {
        let sandbox = try LuaSandbox.forTests()
        let message = Expect.runtime("nil", sandbox.run("return function() error(nil) end"))
        XCTAssertEqual(message, "(error object is a nil value)")
        Expect.usable(sandbox)
        Expect.runtime("nil", sandbox.run("return function() error() end"))
    }

    func testErrorTable() throws {
        let sandbox = try LuaSandbox.forTests()
        let message = Expect.runtime("table", sandbox.run("return function() error({code = 1}) end"))
        XCTAssertEqual(message, "(error object is a table value)")
        Expect.runtime("custom 7", sandbox.run("return function() error(setmetatable({}, {__tostring = function() return 'custom 7' end})) end"))
        Expect.runtime("42", sandbox.run("return function() error(42) end"))
        Expect.usable(sandbox)
    }

    func testErrorWithThrowingTostring() throws {
        let sandbox = try LuaSandbox.forTests()
        let message = Expect.runtime("table", sandbox.run("""
            return function() error(setmetatable({}, {__tostring = function() error("boom") end})) end
            """))
        XCTAssertEqual(message, "(error object is a table value)")
        Expect.usable(sandbox)
    }

    func testErrorWithLoopingTostringEnds() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            return function() error(setmetatable({}, {__tostring = function() while true do end end})) end
            """)
        switch outcome.error {
        case .limit(.instructions)?, .limit(.deadline)?: break
        case .runtime(let message, _, _, _)?: XCTAssertEqual(message, "(error object is a table value)")
        default: XCTFail("unexpected \(String(describing: outcome.error))")
        }
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testRuntimeErrorCarriesChunkLineAndTraceback() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("return function()\n  local x = nil\n  return x.field\nend", chunkName: "rules/npe.lua")
        guard case .runtime(let message, let chunk, let line, let traceback)? = outcome.error else {
            return XCTFail("\(String(describing: outcome.error))")
        }
        XCTAssertTrue(message.contains("attempt to index a nil value"), message)
        XCTAssertFalse(message.hasPrefix("rules/npe.lua:3:"), message)
        XCTAssertEqual(chunk, "rules/npe.lua")
        XCTAssertEqual(line, 3)
        XCTAssertTrue(traceback?.contains("rules/npe.lua:3") ?? false, traceback ?? "no traceback")
    }

    // MARK: Coroutines

    func testYieldAtTopLevelOfACall() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.runtime("attempt to yield from outside a coroutine", sandbox.run("return function() coroutine.yield(1) end"))
        Expect.usable(sandbox)
        Expect.runtime("attempt to yield from outside a coroutine", sandbox.run("coroutine.yield()"))
        Expect.usable(sandbox)
        Expect.runtime("attempt to yield", sandbox.run("return function() table.sort({3, 2, 1}, function(a, b) coroutine.yield() end) end"))
        Expect.usable(sandbox)
    }

    func testCoroutinesWorkNormally() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([[1, 2, 3], "dead"], sandbox.run("""
            return function()
              local out = {}
              local co = coroutine.create(function() for i = 1, 3 do coroutine.yield(i) end end)
              while true do
                local ok, v = coroutine.resume(co)
                if v == nil then break end
                out[#out + 1] = v
              end
              return out, coroutine.status(co)
            end
            """))
    }

    func testErrorInsideWrappedCoroutineIsARuntimeError() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.runtime("inner", sandbox.run("return function() coroutine.wrap(function() error('inner') end)() end"))
        Expect.usable(sandbox)
    }
}
