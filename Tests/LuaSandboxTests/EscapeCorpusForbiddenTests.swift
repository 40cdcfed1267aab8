import XCTest
import PinJSON
@testable import LuaSandbox

/// Escape corpus, part 2: what rules may not reach, finalizers and to-be-closed values, and
/// poisoning of shared tables.
final class EscapeCorpusForbiddenTests: XCTestCase {
    private func assertForbidden(_ name: String, _ body: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.forbidden(name, sandbox.run("return function() \(body) end"), file: file, line: line)
        Expect.usable(sandbox, file: file, line: line)
        // At load time (top level) too.
        Expect.forbidden(name, sandbox.run(body), file: file, line: line)
        Expect.usable(sandbox, file: file, line: line)
    }

    // MARK: Withheld libraries and functions

    func testIo() throws {
        try assertForbidden("io", #"io.write("x")"#)
        try assertForbidden("io", #"return io.open("/etc/passwd"):read("a")"#)
    }

    func testOsFunctions() throws {
        try assertForbidden("os.execute", #"os.execute("true")"#)
        try assertForbidden("os.exit", "os.exit(1)")
        try assertForbidden("os.getenv", #"return os.getenv("HOME")"#)
        try assertForbidden("os.remove", #"os.remove("/tmp/x")"#)
        try assertForbidden("os.rename", #"os.rename("/tmp/x", "/tmp/y")"#)
        try assertForbidden("os.tmpname", "return os.tmpname()")
        try assertForbidden("os.setlocale", #"os.setlocale("C")"#)
    }

    func testModulesAndFiles() throws {
        try assertForbidden("require", #"require("os")"#)
        try assertForbidden("package", #"package.loadlib("libc.so.6", "system")"#)
        try assertForbidden("package", "return package.loaded")
        try assertForbidden("dofile", #"dofile("/etc/passwd")"#)
        try assertForbidden("loadfile", #"loadfile("/etc/passwd")"#)
    }

    func testDebugAndPrint() throws {
        try assertForbidden("debug", "debug.sethook(function() end, 'c')")
        try assertForbidden("debug", "return debug.getregistry()")
        try assertForbidden("print", #"print("hello")"#)
    }

    func testCollectGarbage() throws {
        try assertForbidden(#"collectgarbage("collect")"#, #"collectgarbage("collect")"#)
        try assertForbidden(#"collectgarbage("collect")"#, "collectgarbage()")
        try assertForbidden(#"collectgarbage("stop")"#, #"collectgarbage("stop")"#)
        let sandbox = try LuaSandbox.forTests()
        Expect.values(["float"], sandbox.run(#"return function() return math.type(collectgarbage("count")) end"#))
        let count = try XCTUnwrap(sandbox.run(#"return function() return collectgarbage("count") end"#).values.first)
        guard case .double(let kilobytes) = count else { return XCTFail("count is \(count)") }
        XCTAssertGreaterThan(kilobytes, 1)
    }

    func testCoroutineCloseIsWithheld() throws {
        try assertForbidden("coroutine.close", "coroutine.close(coroutine.create(function() end))")
    }

    func testMissingNamesThatAreNotWithheldAreNil() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([true, true, true], sandbox.run(
            "return function() return undefined_global == nil, string.nosuch == nil, os.nosuch == nil end"))
    }

    // MARK: Bytecode and string.dump

    func testBinaryChunkThroughLoad() throws {
        try assertForbidden("load(binary chunk)", #"return load("\27Lua\x54\0\x19\x93\r\n\x1a\n")"#)
        try assertForbidden("load(binary chunk)", #"return load("\27Lua", "x", "b")"#)
    }

    func testLoadWithReaderFunctionIsRefused() throws {
        try assertForbidden("load(function)", #"local parts = {"return 1"} return load(function() return table.remove(parts) end)"#)
    }

    func testLoadTextInBinaryModeFailsLikeStockLua() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run(#"return function() local f, err = load("return 1", "x", "b") return f == nil, err end"#)
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.values.first, true)
    }

    func testStringDump() throws {
        try assertForbidden("string.dump", "return string.dump(function() end)")
        try assertForbidden("string.dump", #"return ("").dump(function() end)"#)
        try assertForbidden("string.dump", #"return getmetatable("").__index.dump(function() end)"#)
        try assertForbidden("string.dump", #"local s = "x" return s:dump()"#)
    }

    func testStringMetatableIsAReadOnlyView() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([true, "ABC", true], sandbox.run("""
            return function()
              local mt = getmetatable("")
              return mt.__index == string, mt.__index.upper("abc"), getmetatable("x") == mt
            end
            """))
    }

    // MARK: Finalizers and to-be-closed values

    func testGcMetamethodRefused() throws {
        try assertForbidden("__gc", "setmetatable({}, {__gc = function() while true do end end})")
        try assertForbidden("__gc", "setmetatable({}, {__gc = true})")
    }

    func testCloseMetamethodRefused() throws {
        try assertForbidden("__close", "setmetatable({}, {__close = function() end})")
    }

    func testToBeClosedVariableWithCloseMetatableRefused() throws {
        try assertForbidden("__close", """
            do
              local x <close> = setmetatable({}, {__close = function() while true do end end})
            end
            """)
    }

    func testToBeClosedVariableWithoutCloseIsAnError() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.runtime("non-closable value", sandbox.run("return function() local x <close> = {} end"))
        Expect.values([true], sandbox.run("return function() do local x <close> = nil end do local y <close> = false end return true end"))
        Expect.usable(sandbox)
    }

    func testCloseAddedToMetatableAfterSetmetatableIsRefused() throws {
        // A metatable accepted by setmetatable cannot gain __close or __gc afterwards, neither by
        // assignment nor by rawset, so no to-be-closed variable or generic `for` closing value
        // ever reaches a rule's __close (Lua 5.4.4 has memory-safety bugs there).
        try assertForbidden("__close", """
            local mt = {}
            local t = setmetatable({}, mt)
            mt.__close = function() end
            """)
        try assertForbidden("__close", """
            local mt = {}
            local t = setmetatable({}, mt)
            rawset(mt, "__close", function() end)
            """)
        try assertForbidden("__gc", """
            local mt = {}
            local t = setmetatable({}, mt)
            mt.__gc = function() end
            """)
        try assertForbidden("__close", """
            local mt = {}
            local t = setmetatable({}, mt)
            for k in next, {}, nil, (function() mt.__close = function() end return t end)() do end
            """)
    }

    func testMetatablesStayOrdinaryForRules() throws {
        // The guard on metatables does not change ordinary metatable use.
        let sandbox = try LuaSandbox.forTests()
        Expect.values([3, "hi", true, 7], sandbox.run("""
            return function()
              local Point = {}
              Point.__index = Point
              local p = setmetatable({x = 1, y = 2}, Point)
              function Point:sum() return self.x + self.y end
              Point.__add = function(a, b) return a:sum() + b end
              Point.greeting = "hi"
              rawset(Point, "k", 1)
              local q = setmetatable({x = 3, y = 4}, Point)
              return p:sum(), q.greeting, getmetatable(q) == Point, q:sum()
            end
            """))
    }

    func testTablesWithMetatablesCannotBecomeMetatables() throws {
        // The price of the guard: a metatable cannot have a metatable of its own (class
        // inheritance goes through __index tables instead), and no table is its own metatable.
        let sandbox = try LuaSandbox.forTests()
        Expect.runtime("cannot be used as a metatable", sandbox.run(
            "return function() local Derived = setmetatable({}, {__index = {}}) return setmetatable({}, Derived) end"))
        Expect.runtime("cannot have a metatable of its own", sandbox.run(
            "return function() local mt = {} setmetatable({}, mt) setmetatable(mt, {}) end"))
        Expect.runtime("its own metatable", sandbox.run("return function() local t = {} setmetatable(t, t) end"))
        Expect.values([false], sandbox.run("return function() local mt = {} setmetatable({}, mt) return getmetatable(mt) end"))
        Expect.values(["base", "derived"], sandbox.run("""
            return function()
              local Base = {}
              Base.__index = Base
              function Base:name() return "base" end
              local methods = setmetatable({}, Base)
              function methods:own() return "derived" end
              local Derived = {__index = methods}
              local obj = setmetatable({}, Derived)
              return obj:name(), obj:own()
            end
            """))
        Expect.usable(sandbox)
    }

    // MARK: Poisoning shared tables

    func testPoisoningIsRefusedAndInvisibleToOtherChunks() throws {
        let sandbox = try LuaSandbox.forTests()
        let attacks: [(name: String, code: String)] = [
            ("string.upper", "string.upper = function() return 'pwned' end"),
            ("string.newfield", "string.newfield = 1"),
            ("string metatable.__index", #"getmetatable("").__index = {upper = function() return 'pwned' end}"#),
            ("string metatable.__index", #"rawset(getmetatable(""), "__index", {})"#),
            ("string.upper", "rawset(string, 'upper', function() return 'pwned' end)"),
            ("table.insert", "table.insert = function() end"),
            ("math.floor", "math.floor = nil"),
            ("os.time", "os.time = function() return 0 end"),
            ("coroutine.wrap", "coroutine.wrap = nil"),
            ("utf8.char", "utf8.char = nil"),
            ("string", "setmetatable(string, {})"),
            ("string", "setmetatable(string, nil)"),
            ("string metatable", #"setmetatable(getmetatable(""), {})"#),
        ]
        for attack in attacks {
            Expect.forbidden(attack.name, sandbox.run("return function() \(attack.code) end", chunkName: "evil.lua"))
            Expect.forbidden(attack.name, sandbox.run(attack.code, chunkName: "evil-top.lua"))
            // A chunk that swallows the error sees nothing changed either.
            Expect.values([true], sandbox.run("return function() return not pcall(function() \(attack.code) end) end", chunkName: "evil-pcall.lua"))
        }
        Expect.values(["ABC", "ABC", 3, 1, "x,y,z", 12, true], sandbox.run("""
            return function()
              local t = {"x", "z"}
              table.insert(t, 2, "y")
              return ("abc"):upper(), string.upper("abc"), #t, math.floor(1.5), table.concat(t, ","),
                utf8.char(49, 50) + 0, os.time ~= nil
            end
            """, chunkName: "victim.lua"))
        Expect.usable(sandbox)
    }

    func testRedefiningLibraryNamesStaysPrivateToTheChunk() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values(["pwned"], sandbox.run("string = {upper = function() return 'pwned' end} return function() return string.upper('a') end", chunkName: "a.lua"))
        Expect.values(["A", "table"], sandbox.run("return function() return string.upper('a'), type(_G.string) end", chunkName: "b.lua"))
    }

    func testEnvironmentMetatableIsProtected() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([false], sandbox.run("return function() return getmetatable(_G) end"))
        Expect.runtime("protected metatable", sandbox.run("return function() setmetatable(_G, nil) end"))
        Expect.usable(sandbox)
    }

    func testPerChunkGlobals() throws {
        let sandbox = try LuaSandbox.forTests()
        let a = try sandbox.load("x = 1 function getx() return x end return function() y = 2 return x end", chunkName: "a.lua")
        let b = try sandbox.load("return function() return x, y, getx end", chunkName: "b.lua")
        Expect.values([1], sandbox.run(a))
        Expect.values([nil, nil, nil], sandbox.run(b))
        Expect.values([1], sandbox.run(a))
    }

    func testRandomSeedFromConfigurationIsDeterministic() throws {
        let source = "return function() local t = {} for i = 1, 5 do t[i] = math.random(1, 1000000) end return t, math.random() end"
        let first = try LuaSandbox.forTests(randomSeed: 42).run(source)
        let second = try LuaSandbox.forTests(randomSeed: 42).run(source)
        let other = try LuaSandbox.forTests(randomSeed: 7).run(source)
        XCTAssertNil(first.error)
        XCTAssertEqual(first.values, second.values)
        XCTAssertNotEqual(first.values, other.values)
        let sandbox = try LuaSandbox.forTests(randomSeed: 42)
        try sandbox.reseed(42)
        XCTAssertEqual(sandbox.run(source).values, first.values)
        Expect.runtime("needs a seed", sandbox.run("return function() math.randomseed() end"))
    }

    func testFixedTime() throws {
        let sandbox = try LuaSandbox.forTests(fixedTime: 1_700_000_000)
        Expect.values([1_700_000_000, "2023-11-14", 0.0], sandbox.run(
            #"return function() return os.time(), os.date("!%Y-%m-%d"), os.clock() end"#))
        Expect.values([86400], sandbox.run("return function() return os.time({year = 1970, month = 1, day = 2, hour = 0}) - os.time({year = 1970, month = 1, day = 1, hour = 0}) end"))
        try sandbox.setFixedTime(nil)
        let now = try XCTUnwrap(sandbox.run("return function() return os.time() end").values.first)
        guard case .integer(let seconds) = now else { return XCTFail("os.time() gave \(now)") }
        XCTAssertGreaterThan(seconds, 1_700_000_000)
    }

    func testLoadUsesTheChunksOwnEnvironment() throws {
        let sandbox = try LuaSandbox.forTests()
        let a = try sandbox.load(#"secret = "a" return function() return load("return secret")(), load("leak = 1")() end"#, chunkName: "a.lua")
        let b = try sandbox.load(#"return function() return load("return secret")(), leak end"#, chunkName: "b.lua")
        Expect.values(["a"], sandbox.run(a))
        Expect.values([nil, nil], sandbox.run(b))
        // An explicit environment is honoured, and cannot reach the shared base.
        Expect.values([5, true], sandbox.run(#"return function() return load("return v", "x", "t", {v = 5})(), load("return string", "x", "t", {})() == nil end"#))
        // Forbidden names stay forbidden inside loaded code.
        Expect.forbidden("io", sandbox.run(#"return function() return load("return io.open")() end"#))
    }

    func testSyntaxErrorsGiveChunkLineAndColumn() throws {
        let sandbox = try LuaSandbox.forTests()
        do {
            _ = try sandbox.load("local a = 1\nlocal b = = 2\n", chunkName: "rules/broken.lua")
            XCTFail("compiled")
        } catch {
            guard case .syntax(let chunk, let line, let column, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(chunk, "rules/broken.lua")
            XCTAssertEqual(line, 2)
            XCTAssertEqual(column, 11)
            XCTAssertTrue(message.contains("unexpected symbol"), message)
        }
        // The token Lua names occurs several times on the line: the failing one is found.
        for (source, expected) in [("if x = 1 then y = 2 end", 6), ("local t = {a = 1, b = = 2}", 23), ("local sendend = 1 end", 19),
                                   ("local s = 'é' x = = 1", 19)] {
            do {
                _ = try sandbox.load(source, chunkName: "col.lua")
                XCTFail("compiled: \(source)")
            } catch {
                guard case .syntax(_, let line, let column, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(line, 1, source)
                XCTAssertEqual(column, expected, "\(source): \(error)")
            }
        }
        do {
            _ = try sandbox.load("return function()\n  if x then\n", chunkName: "eof.lua")
            XCTFail("compiled")
        } catch {
            guard case .syntax(let chunk, let line, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(chunk, "eof.lua")
            XCTAssertEqual(line, 3)
        }
        Expect.usable(sandbox)
    }

    func testSyntaxErrorInsideLoadIsAValueNotAnError() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run(#"return function() local f, err = load("x = = 1", "=inner") return f, err end"#)
        Expect.values([nil, "inner:1: unexpected symbol near '='"], outcome)
    }
}
