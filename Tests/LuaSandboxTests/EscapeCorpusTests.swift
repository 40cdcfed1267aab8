import XCTest
import PinJSON
@testable import LuaSandbox

/// Escape corpus, part 1: runaway CPU and memory. Every test asserts the exact typed error, that
/// the bomb ended well within a generous bound, and that the same sandbox then runs a normal
/// rule correctly.
final class EscapeCorpusTests: XCTestCase {
    // MARK: Instructions and deadline

    func testInfiniteLoopHitsInstructionLimit() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.limit(.instructions, sandbox.run("return function() while true do end end"))
        Expect.usable(sandbox)
    }

    func testInfiniteLoopAtLoadTimeHitsInstructionLimit() throws {
        let sandbox = try LuaSandbox.forTests()
        Expect.limit(.instructions, sandbox.run("local i = 0 while true do i = i + 1 end"))
        Expect.usable(sandbox)
    }

    func testPcallLoopCannotSwallowTheLimit() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            local function loop() while true do end end
            return function()
              while true do pcall(loop) end
            end
            """)
        Expect.limit(.instructions, outcome)
        Expect.usable(sandbox)
    }

    func testXpcallWithLoopingHandlerCannotSwallowTheLimit() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            local function loop() while true do end end
            return function()
              while true do
                xpcall(loop, function(e) while true do end end)
                pcall(error, "again")
              end
            end
            """)
        Expect.limit(.instructions, outcome)
        Expect.usable(sandbox)
    }

    func testLoopInsideCoroutine() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            return function()
              local co = coroutine.create(function() while true do end end)
              local ok, err = coroutine.resume(co)
              -- the resume caught the limit error; the limit stays breached
              while true do coroutine.resume(coroutine.create(function() end)) end
            end
            """)
        Expect.limit(.instructions, outcome)
        Expect.usable(sandbox)
    }

    func testLoopInsideCoroutineWrapSwallowedByPcall() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            return function()
              while true do
                pcall(coroutine.wrap(function() while true do pcall(function() while true do end end) end end))
              end
            end
            """)
        Expect.limit(.instructions, outcome)
        Expect.usable(sandbox)
    }

    func testLoopInsideCoroutineCreatedAtLoadTime() throws {
        let sandbox = try LuaSandbox.forTests()
        let rule = try sandbox.load("""
            local co = coroutine.create(function()
              coroutine.yield("ready")
              while true do end
            end)
            assert(select(2, coroutine.resume(co)) == "ready")
            return function() return coroutine.resume(co) end
            """, chunkName: "lateloop.lua")
        Expect.limit(.instructions, sandbox.run(rule))
        Expect.usable(sandbox)
        // The dead coroutine stays dead; the rule reports it without hanging.
        Expect.values([false, "cannot resume dead coroutine"], sandbox.run(rule))
    }

    func testCoroutineCreatedAtLoadTimeLoopingUnderPcall() throws {
        let sandbox = try LuaSandbox.forTests()
        let rule = try sandbox.load("""
            local co = coroutine.wrap(function()
              coroutine.yield()
              while true do pcall(function() while true do end end) end
            end)
            co()
            return function() while true do pcall(co) end end
            """, chunkName: "lateloop2.lua")
        Expect.limit(.instructions, sandbox.run(rule))
        Expect.usable(sandbox)
    }

    func testDeadlineWithHugeInstructionBudget() throws {
        var limits = SandboxLimits.test
        limits.instructions = 0  // none: only the deadline can stop it
        let sandbox = try LuaSandbox.forTests(limits: limits)
        let outcome = sandbox.run("return function() while true do end end")
        Expect.limit(.deadline, outcome)
        XCTAssertGreaterThanOrEqual(outcome.seconds, 0.25)
        Expect.usable(sandbox)

        limits.instructions = Int64.max
        sandbox.limits = limits
        Expect.limit(.deadline, sandbox.run("return function() while true do pcall(function() while true do end end) end end"))
        Expect.usable(sandbox)
    }

    func testHugeDeadlineDoesNotTrap() throws {
        let sandbox = try LuaSandbox.forTests()
        sandbox.limits.deadline = .seconds(Int64.max)
        Expect.limit(.instructions, sandbox.run("return function() while true do end end"))
        Expect.usable(sandbox)
    }

    func testLimitsApplyAfterChangingThem() throws {
        let sandbox = try LuaSandbox.forTests()
        let rule = try sandbox.load("return function(n) local s = 0 for i = 1, n do s = s + i end return s end", chunkName: "sum.lua")
        Expect.values([500_000_500_000], sandbox.run(rule, arguments: [1_000_000]))
        sandbox.limits.instructions = 100_000
        Expect.limit(.instructions, sandbox.run(rule, arguments: [1_000_000]))
        Expect.values([5050], sandbox.run(rule, arguments: [100]))
    }

    // MARK: Memory

    func testTableMemoryBomb() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        let outcome = sandbox.run("""
            return function()
              local t = {}
              local i = 0
              while true do i = i + 1; t[i] = {i, i, i} end
            end
            """)
        Expect.limit(.memory, outcome)
        Expect.usable(sandbox)
        XCTAssertLessThan(sandbox.memoryInUse, 4 << 20, "the breaching call's garbage was not collected")
    }

    func testTableMemoryBombUnderPcall() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        let outcome = sandbox.run("""
            return function()
              local keep = {}
              while true do
                pcall(function() local t = {} for i = 1, 1e9 do t[i] = i end end)
                keep[#keep + 1] = {}
              end
            end
            """)
        Expect.limit(.memory, outcome)
        Expect.usable(sandbox)
    }

    func testConcatMemoryBomb() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        Expect.limit(.memory, sandbox.run("return function() local s = 'x' while true do s = s .. s end end"))
        Expect.usable(sandbox)
    }

    func testTableConcatMemoryBomb() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        let outcome = sandbox.run("""
            return function()
              local parts = {}
              for i = 1, 16 do parts[i] = ("x"):rep(64 * 1024) end
              local s = table.concat(parts)
              local t = {}
              while true do t[#t + 1] = table.concat({s, s, tostring(#t)}) end
            end
            """)
        Expect.limit(.memory, outcome)
        Expect.usable(sandbox)
    }

    func testStringRepHugeCountIsAMemoryLimit() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        Expect.limit(.memory, sandbox.run("return function() return ('x'):rep(1e10) end"))
        Expect.usable(sandbox)
        Expect.limit(.memory, sandbox.run("return function() return string.rep('abc', math.maxinteger, ',') end"))
        Expect.usable(sandbox)
    }

    func testStringRepJustUnderTheCapIsAMemoryLimit() throws {
        // The count passes the up-front check (count < cap), but the buffer cannot be allocated.
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        Expect.limit(.memory, sandbox.run("return function() return ('x'):rep(15 * 1024 * 1024) end"))
        Expect.usable(sandbox)
    }

    func testEmptyStringRepeatedIsQuickAndFine() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        let outcome = sandbox.run("return function() return (''):rep(1e10), string.rep('', 1e10, ''), #('x'):rep(0) end")
        Expect.values(["", "", 0], outcome)
        Expect.ended(outcome)
        XCTAssertLessThan(outcome.seconds, 1)
    }

    func testStringRepSeparatorOnlyIsCharged() throws {
        // An empty string with a separator still builds (n - 1) separators.
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        Expect.limit(.memory, sandbox.run("return function() return (''):rep(1e10, ',') end"))
        Expect.values([",,,"], sandbox.run("return function() return (''):rep(4, ',') end"))
    }

    func testStringRepStockResults() throws {
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        Expect.values(["abab", "a-a-a", "", "x", ""], sandbox.run(
            "return function() return ('ab'):rep(2), ('a'):rep(3, '-'), ('a'):rep(-1), ('x'):rep(1, ','), ('a'):rep(0, ',') end"))
    }

    // MARK: C-level loops the count hook cannot see

    func testPatternBombInFind() throws {
        try PendingFeatures.requireBudgetedPatterns()
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run(#"return function() return string.find(("a"):rep(400), "a*a*a*b") end"#)
        XCTAssertTrue(outcome.error == .limit(.instructions) || outcome.error == .limit(.deadline), "\(String(describing: outcome.error))")
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testPatternBombInMatchAndGmatch() throws {
        try PendingFeatures.requireBudgetedPatterns()
        let sandbox = try LuaSandbox.forTests()
        for source in [
            #"return function() return ("a"):rep(16):match(("a-"):rep(15) .. "b") end"#,
            #"return function() for m in ("a"):rep(300):gmatch("a*a*a*b") do end end"#,
        ] {
            let outcome = sandbox.run(source)
            XCTAssertTrue(outcome.error == .limit(.instructions) || outcome.error == .limit(.deadline), "\(String(describing: outcome.error))")
            Expect.ended(outcome)
            Expect.usable(sandbox)
        }
    }

    func testPatternBombInGsub() throws {
        try PendingFeatures.requireBudgetedPatterns()
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run(#"return function() return (("a"):rep(300) .. "c"):gsub("a*a*a*b", "x") end"#)
        XCTAssertTrue(outcome.error == .limit(.instructions) || outcome.error == .limit(.deadline), "\(String(describing: outcome.error))")
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testPlainFindBomb() throws {
        // lmemfind is O(subject x needle): plain find needs the budget too.
        try PendingFeatures.requireBudgetedPatterns()
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run(#"return function() local s = ("a"):rep(4e6) return s:find(("a"):rep(2e6) .. "b", 1, true) end"#)
        XCTAssertTrue(outcome.error == .limit(.instructions) || outcome.error == .limit(.deadline), "\(String(describing: outcome.error))")
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testGsubWithManyMatchesAndNoOutputIsBounded() throws {
        // Millions of matches that produce nothing: no memory grows, only the budget can stop it.
        try PendingFeatures.requireBudgetedPatterns()
        var limits = SandboxLimits.test
        limits.instructions = 0
        let sandbox = try LuaSandbox.forTests(limits: limits)
        let outcome = sandbox.run(#"return function() local s = ("x"):rep(4e6) while true do s:gsub("x", "") end end"#)
        XCTAssertTrue(outcome.error == .limit(.deadline) || outcome.error == .limit(.memory), "\(String(describing: outcome.error))")
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testGsubOutputBombIsAMemoryLimit() throws {
        try PendingFeatures.requireBudgetedPatterns()
        // The memory bombs' limits: under a slow build (AddressSanitizer) the test limits' 300 ms
        // deadline came first.
        let sandbox = try LuaSandbox.forTests(limits: .memoryTest)
        let outcome = sandbox.run(#"return function() local s = ("x"):rep(1e6) while true do s = s:gsub("x", "xx") end end"#)
        XCTAssertTrue(outcome.error == .limit(.memory) || outcome.error == .limit(.instructions), "\(String(describing: outcome.error))")
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testTableSortAndMoveAreCharged() throws {
        // A generous deadline: this is about the charge, which must be what ends these.
        var limits = SandboxLimits.test
        limits.deadline = .seconds(2)
        let sandbox = try LuaSandbox.forTests(limits: limits)
        Expect.limit(.instructions, sandbox.run("""
            return function()
              local t = {}
              for i = 1, 100000 do t[i] = i end
              while true do table.move(t, 1, math.maxinteger // 4, 1, {}) end
            end
            """))
        Expect.usable(sandbox)
        Expect.limit(.instructions, sandbox.run("""
            return function()
              local t = {}
              for i = 1, 300000 do t[i] = (i * 7919) % 300007 end
              while true do table.sort(t) end
            end
            """))
        Expect.usable(sandbox)
    }

    func testTableMoveOfNilsEndsAtTheDeadlineWithoutInstructionLimit() throws {
        var limits = SandboxLimits.test
        limits.instructions = 0
        let sandbox = try LuaSandbox.forTests(limits: limits)
        Expect.limit(.deadline, sandbox.run("return function() table.move({}, 1, math.maxinteger - 10, 2) end"))
        Expect.limit(.deadline, sandbox.run("return function() local t = {} table.move(t, 1, 1e15, 3) end"))
        Expect.usable(sandbox)
    }

    func testTableMoveMatchesStockLua() throws {
        // Moves longer than one slice (4096), overlapping both ways, into another table.
        let sandbox = try LuaSandbox.forTests()
        Expect.values([true], sandbox.run("""
            return function()
              local function list(n) local t = {} for i = 1, n do t[i] = i end return t end
              local function check(t, expected) for i = 1, #expected do if t[i] ~= expected[i] then return false end end return #t == #expected end
              local n = 10000
              local a = table.move(list(n), 1, n, 3)           -- overlapping, towards the end
              local exp = {1, 2} for i = 1, n do exp[i + 2] = i end
              if not check(a, exp) then return "up" end
              local b = table.move(list(n), 3, n, 1)           -- overlapping, towards the start
              exp = {} for i = 3, n do exp[#exp + 1] = i end exp[n - 1] = n - 1 exp[n] = n
              if not check(b, exp) then return "down" end
              local c = table.move(list(n), 1, n, 1, {})       -- into another table
              if not check(c, list(n)) then return "other" end
              local ok, err = pcall(table.move, {}, math.mininteger, 0, 1)
              if ok or not err:find("too many elements to move") then return err end
              ok, err = pcall(table.move, {}, 1, 10000, math.maxinteger)
              if ok or not err:find("destination wrap around") then return err end
              return true
            end
            """))
    }

    func testLoadOfHugeSourceIsCharged() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            return function()
              local src = "return " .. ("1+"):rep(100000) .. "1"
              while true do load(src) end
            end
            """)
        XCTAssertTrue(outcome.error == .limit(.instructions) || outcome.error == .limit(.deadline), "\(String(describing: outcome.error))")
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    // MARK: Recursion

    func testDeepLuaRecursionIsAStackOverflow() throws {
        // Enough memory that Lua's own stack limit (1,000,000 slots) comes first.
        var limits = SandboxLimits.test
        limits.memoryBytes = 256 << 20
        limits.instructions = 50_000_000
        limits.deadline = .milliseconds(2500)  // growing Lua's stack to its maximum takes ~1 s here
        let sandbox = try LuaSandbox.forTests(limits: limits)
        let outcome = sandbox.run("local function f(n) return 1 + f(n + 1) end return function() return f(1) end")
        Expect.runtime("stack overflow", outcome)
        Expect.usable(sandbox)
    }

    func testDeepLuaRecursionUnderSmallMemoryEndsCleanly() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("local function f(n) return 1 + f(n + 1) end return function() return f(1) end")
        switch outcome.error {
        case .runtime(let message, _, _, _)?: XCTAssertTrue(message.contains("stack overflow"), message)
        case .limit(.memory)?: break
        default: XCTFail("unexpected \(String(describing: outcome.error))")
        }
        Expect.ended(outcome)
        Expect.usable(sandbox)
    }

    func testRecursionThroughIndexFunction() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            return function()
              local t = setmetatable({}, {})
              getmetatable(t).__index = function(self, k) return self[k .. "x"] end
              return t.a
            end
            """)
        Expect.runtime("stack overflow", outcome)
        Expect.usable(sandbox)
    }

    func testRecursionThroughIndexTableChain() throws {
        let sandbox = try LuaSandbox.forTests()
        let outcome = sandbox.run("""
            return function()
              local a, b = {}, {}
              setmetatable(a, {__index = b})
              setmetatable(b, {__index = a})
              return a.missing
            end
            """)
        Expect.runtime("'__index' chain too long", outcome)
        Expect.usable(sandbox)
    }
}
