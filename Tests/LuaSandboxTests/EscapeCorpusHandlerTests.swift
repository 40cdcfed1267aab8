import XCTest
import PinJSON
@testable import LuaSandbox

/// Escape corpus, part 4: message handlers, error values and coroutines combined with limits.
/// A limit error raised by the hook reaches an xpcall handler while Lua has hooks disabled; these
/// tests pin down that no such handler can keep running.
final class EscapeCorpusHandlerTests: XCTestCase {
    func testLoopingXpcallHandlerAfterALimit() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.limit(.instructions, sandbox.run("""
            return function()
              xpcall(function() while true do end end, function(e) while true do end end)
            end
            """))
        Expect.usable(sandbox)
    }

    func testLoopingXpcallHandlerAfterADeadline() throws {
        var limits = SandboxLimits.test
        limits.instructions = 0
        let sandbox = try LuaSandbox.forTests(limits: limits)
        Expect.limit(.deadline, sandbox.run("""
            return function()
              xpcall(function() while true do end end, function(e) while true do end end)
            end
            """))
        Expect.usable(sandbox)
    }

    func testLoopingXpcallHandlerAtLoadTime() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.limit(.instructions, sandbox.run("xpcall(function() while true do end end, function() while true do end end)"))
        Expect.usable(sandbox)
    }

    func testLoopingXpcallHandlerInsideACoroutine() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.limit(.instructions, sandbox.run("""
            return function()
              local co = coroutine.wrap(function()
                xpcall(function() while true do end end, function() while true do end end)
              end)
              while true do pcall(co) end
            end
            """))
        Expect.usable(sandbox)
    }

    func testNestedXpcallHandlersAfterALimit() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.limit(.instructions, sandbox.run("""
            local function spin() while true do end end
            return function()
              xpcall(function()
                xpcall(spin, function() xpcall(spin, spin) while true do end end)
              end, function() while true do end end)
            end
            """))
        Expect.usable(sandbox)
    }

    func testMemoryBombInXpcallHandler() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        Expect.limit(.memory, sandbox.run("""
            return function()
              xpcall(function() local t = {} while true do t[#t + 1] = {} end end,
                     function() local t = {} while true do t[#t + 1] = {} end end)
            end
            """))
        Expect.usable(sandbox)
    }

    func testXpcallStillWorksNormally() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([false, "handled: boom", true, 3, 4], sandbox.run("""
            return function()
              local ok, msg = xpcall(function() error("boom", 0) end, function(e) return "handled: " .. e end)
              local ok2, a, b = xpcall(function(x, y) return x, y end, function() end, 3, 4)
              return ok, msg, ok2, a, b
            end
            """))
        Expect.values([1, 2], sandbox.run("""
            return function()
              local co = coroutine.wrap(function()
                xpcall(function() coroutine.yield(1) coroutine.yield(2) end, function(e) return e end)
              end)
              return co(), co()
            end
            """))
        Expect.runtime("bad argument #2 to 'xpcall'", sandbox.run("return function() xpcall(function() end) end"))
        // A handler that itself fails: as stock Lua, xpcall returns false.
        Expect.values([false], sandbox.run("return function() return (xpcall(function() error('a') end, function() error('b') end)) end"))
    }

    func testErrorObjectWithLoopingTostringAtLoadTime() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("error(setmetatable({}, {__tostring = function() while true do end end}))")
        switch outcome.error {
        case .limit(.instructions)?, .limit(.deadline)?: break
        case .runtime(let message, _, _, _)?: XCTAssertEqual(message, "(error object is a table value)")
        default: XCTFail("unexpected \(String(describing: outcome.error))")
        }
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testErrorObjectWithTostringAfterALimit() throws {
        // The limit error is what the host sees, whatever a rule throws afterwards.
        let sandbox = try LuaSandbox.forTests()
        Expect.limit(.instructions, sandbox.run("""
            return function()
              pcall(function() while true do end end)
              error(setmetatable({}, {__tostring = function() return "not me" end}))
            end
            """))
        Expect.usable(sandbox)
    }

    func testMemoryBombInsideCoroutinesUnderPcall() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        Expect.limit(.memory, sandbox.run("""
            local keep = {}
            return function()
              while true do
                pcall(coroutine.wrap(function() local t = {} while true do t[#t + 1] = ("x"):rep(1000) .. #t end end))
                keep[#keep + 1] = ("y"):rep(1000)
              end
            end
            """))
        Expect.usable(sandbox)
    }

    func testHostTablesAreNotVisibleToRules() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.values([true, true, true], sandbox.run("return function() return sandbox == nil, host == nil, _G._G == _G end"))
    }
}
