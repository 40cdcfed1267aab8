import XCTest
import PinJSON
import LuaSandbox
@testable import PinRules

final class RuleLinterTests: XCTestCase {
    /// `line:col: message` for each warning, in order.
    private func lint(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let diagnostics = RuleLinter.lint(source, path: "rule.lua")
        for diagnostic in diagnostics {
            XCTAssertEqual(diagnostic.severity, .warning, file: file, line: line)
            XCTAssertEqual(diagnostic.file, "rule.lua", file: file, line: line)
        }
        return diagnostics.map { "\($0.line ?? 0):\($0.column ?? 0): \($0.message)" }
    }

    private let assignmentNote = "(globals stay private to this rule file; prefer local)"

    // MARK: Each kind, with exact positions

    func testWithheldGlobals() {
        let source = """
            local x = 1
            io.write("hi")
              print(x)
            local r = require("socket")
            local f = dofile, loadfile, debug.traceback, package.path
            print("again")
            """
        XCTAssertEqual(lint(source), [
            "2:1: 'io' is not available in the sandbox",
            "3:3: 'print' is not available in the sandbox",
            "4:11: 'require' is not available in the sandbox",
            "5:11: 'dofile' is not available in the sandbox",
            "5:19: 'loadfile' is not available in the sandbox",
            "5:29: 'debug' is not available in the sandbox",
            "5:46: 'package' is not available in the sandbox",
        ])
    }

    func testWithheldLibraryFields() {
        let source = """
            local a = os.execute("ls")
            local b = os["exit"]
            local c = string.dump(print2)
            local d = coroutine.close
            local e = _G.os.getenv("HOME")
            local g = _G.io
            os.remove("x") os.rename("a", "b")
            local ok = os.time() + os.clock() + #os.date("%Y") + math.floor(1) + #string.rep("a", 2)
            local h = os.difftime, math.pow, table.getn, utf8.char
            local i = os.execute
            """
        XCTAssertEqual(lint(source), [
            "1:11: 'os.execute' is not available in the sandbox",
            "2:11: 'os.exit' is not available in the sandbox",
            "3:11: 'string.dump' is not available in the sandbox",
            "3:23: undeclared global 'print2'",
            "4:11: 'coroutine.close' is not available in the sandbox",
            "5:11: 'os.getenv' is not available in the sandbox",
            "6:11: 'io' is not available in the sandbox",
            "7:1: 'os.remove' is not available in the sandbox",
            "7:16: 'os.rename' is not available in the sandbox",
            "9:11: 'os.difftime' is not available in the sandbox",
            "9:24: 'math.pow' is not available in the sandbox",
            "9:34: 'table.getn' is not available in the sandbox",
        ])
    }

    func testLocalsShadowingLibrariesAreNotChecked() {
        let source = """
            local os = { execute = function() end }
            os.execute("fine: a local table")
            local function f(io) return io.write end
            return f
            """
        XCTAssertEqual(lint(source), [])
    }

    func testCollectgarbageAndRandomseed() {
        let source = """
            local kb = collectgarbage("count")
            collectgarbage()
            collectgarbage("collect")
            collectgarbage "step"
            local opt = "count"
            collectgarbage(opt)
            collectgarbage(nil)
            math.randomseed(42)
            math.randomseed()
            """
        XCTAssertEqual(lint(source), [
            "2:1: 'collectgarbage(\"collect\")' is not available in the sandbox (only \"count\" is)",
            "4:1: 'collectgarbage(\"step\")' is not available in the sandbox (only \"count\" is)",
            "9:1: 'math.randomseed' needs a seed in the sandbox (runs are deterministic)",
        ])
    }

    func testUndeclaredGlobalReads() {
        let source = """
            local function f(a)
              return a + missing, missing, other.field
            end
            return { before = function(event, ctx) return f(event) + undefined_thing end }
            """
        XCTAssertEqual(lint(source), [
            "2:14: undeclared global 'missing'",
            "2:32: undeclared global 'other'",
            "4:58: undeclared global 'undefined_thing'",
        ])
    }

    func testGlobalAssignments() {
        let source = """
            counter = 0
            function helper() return counter end
            local function bump()
              counter = counter + 1
              total, seen = 1, helper()
            end
            if true then nested = 1 end
            function helper() end
            string = nil
            return { before = function() bump() end, after = function() return nested end }
            """
        XCTAssertEqual(lint(source), [
            "1:1: assignment to undeclared global 'counter' \(assignmentNote)",
            "2:10: assignment to undeclared global 'helper' \(assignmentNote)",
            "5:3: assignment to undeclared global 'total' \(assignmentNote)",
            "5:10: assignment to undeclared global 'seen' \(assignmentNote)",
            "7:14: assignment to undeclared global 'nested' \(assignmentNote)",
            "9:1: assignment to global 'string' hides the sandbox's 'string' in this rule file; prefer local",
        ])
    }

    func testGlobalAssignedLaterCountsAsDeclaredForReads() {
        // Flow-insensitive on purpose: the read of `config` is fine because the file assigns it.
        let source = """
            local function get() return config.x end
            config = { x = 1 }
            """
        XCTAssertEqual(lint(source), ["2:1: assignment to undeclared global 'config' \(assignmentNote)"])
    }

    func testEachNameReportedOncePerKindAtItsFirstPosition() {
        let source = """
            local a = nope + nope
            local b = nope
            print(1) print(2)
            x = 1 x = 2
            local c = os.exit, os.exit
            """
        XCTAssertEqual(lint(source), [
            "1:11: undeclared global 'nope'",
            "3:1: 'print' is not available in the sandbox",
            "4:1: assignment to undeclared global 'x' \(assignmentNote)",
            "5:11: 'os.exit' is not available in the sandbox",
        ])
    }

    // MARK: Scopes

    func testScopes() {
        let source = """
            for i = 1, 3 do local inside = i end
            for k, v in pairs({}) do local _ = k .. v end
            local y = i, k, v, inside
            do local d = 1 end
            local z = d
            local w = w
            while false do local loopvar = 1 end
            local q = loopvar
            if true then local t1 = 1 elseif false then local t2 = t1 else local t3 = t2 end
            local after = t1
            """
        XCTAssertEqual(lint(source), [
            "3:11: undeclared global 'i'",
            "3:14: undeclared global 'k'",
            "3:17: undeclared global 'v'",
            "3:20: undeclared global 'inside'",
            "5:11: undeclared global 'd'",
            "6:11: undeclared global 'w'",
            "8:11: undeclared global 'loopvar'",
            "9:56: undeclared global 't1'",
            "9:75: undeclared global 't2'",
        ])
    }

    func testRepeatUntilSeesTheBodysLocals() {
        let source = """
            local n = 0
            repeat
              local done = n > 3
              n = n + 1
            until done
            local again = done
            """
        XCTAssertEqual(lint(source), ["6:15: undeclared global 'done'"])
    }

    func testMethodsSelfAndFieldsAreNotGlobals() {
        let source = """
            local obj = {}
            function obj:greet(name) return self.prefix .. name end
            function obj.plain() return self end
            local t = { name = 1, ["key"] = name2, nested = { event = 2 } }
            local u = obj.name, obj:greet("x"), t.nested.event
            """
        XCTAssertEqual(lint(source), [
            "3:29: undeclared global 'self'",
            "4:33: undeclared global 'name2'",
        ])
    }

    func testFunctionNamesInDottedDefinitionsAreReads() {
        let source = """
            function M.helper() end
            function string.trim(s) end
            function os.exit() end
            """
        XCTAssertEqual(lint(source), [
            "1:10: undeclared global 'M'",
            "2:10: 'string.trim' is not available in the sandbox",
            "3:10: 'os.exit' is not available in the sandbox",
        ])
    }

    func testLocalFunctionRecursionVarargsAndAttributes() {
        let source = """
            local function fact(n) if n <= 1 then return 1 end return n * fact(n - 1) end
            local g = function(...) local a, b = ... return select("#", ...) + a + b end
            local limit <const>, handle <close> = 10, nil
            local f = function() return fact(limit) end
            """
        XCTAssertEqual(lint(source), [])
    }

    func testGotoAndLabels() {
        let source = """
            for i = 1, 3 do
              if i == 2 then goto continue end
              ::continue::
            end
            goto done
            ::done::
            """
        XCTAssertEqual(lint(source), [])
    }

    func testLocalEnvDisablesGlobalChecks() {
        XCTAssertEqual(lint("local _ENV = { x = 1 }\nreturn x + print"), [])
    }

    // MARK: Strings, comments, positions

    func testStringsAndCommentsAreNotCode() {
        let source = #"""
            -- io.write("comment")
            --[[ io.write("long comment")
            print(x) ]]
            --[==[ os.execute("x") ]] still a comment ]==]
            local a = "io.write('s') \" print(y)"
            local b = [[io.write("long")]]
            local c = [=[
            print(z) ]] os.execute()
            ]=]
            local d = 'esc \'\\ \x41\65\u{48}\z
                       print(w)'
            local e = undeclared_after_strings
            """#
        XCTAssertEqual(lint(source), ["12:11: undeclared global 'undeclared_after_strings'"])
    }

    func testColumnsCountUnicodeScalarsAndLinesFollowLua() {
        XCTAssertEqual(lint("local s = \"héllo\" .. zzz"), ["1:22: undeclared global 'zzz'"])
        XCTAssertEqual(lint("local a = 1\r\nlocal b = q1\rlocal c = q2\n\rlocal d = q3\r\n\r\nlocal e = q4"), [
            "2:11: undeclared global 'q1'",
            "3:11: undeclared global 'q2'",
            "4:11: undeclared global 'q3'",
            "6:11: undeclared global 'q4'",
        ])
        XCTAssertEqual(lint("local s = [[\nline2\r\nline3]] .. q\n"), ["3:12: undeclared global 'q'"])
        XCTAssertEqual(lint("\tlocal t = q"), ["1:12: undeclared global 'q'"])
    }

    func testOsIndexedWithAStringKey() {
        XCTAssertEqual(lint("local x = os[\"execute\"], os['time'], os[ [[getenv]] ], os[\"ex\" .. \"it\"]"), [
            "1:11: 'os.execute' is not available in the sandbox",
            "1:38: 'os.getenv' is not available in the sandbox",
        ])
        // `os[[getenv]]` is Lua for calling `os` with the string "getenv", not an index.
        XCTAssertEqual(lint("local x = os[[getenv]]"), [])
    }

    // MARK: Source that does not compile

    func testNothingReportedForSourceThatDoesNotCompile() {
        let broken = [
            "print(x",                      // syntax error
            "x = = 1",
            "local s = \"unfinished\nprint(y)",
            "local s = [[ never closed print(y)",
            "--[[ never closed comment",
            "print(\"\\q\")",                // invalid escape
            "print(\"\\300\")",              // decimal escape too large
            "print(3x)",                     // malformed number
            "print(1..2)",
            "print(0x)",
            "local $ = print",
            "print(a) @",
            "local x = [=print]",
            "return 1 print(z)",
            "x",
            "a.b",
            "f() = 1",
            "(a) = 1",
            "local function t.x() end",
            "for i in do end print(q)",
            String(repeating: "(", count: 300) + "print" + String(repeating: ")", count: 300),
        ]
        for source in broken {
            XCTAssertEqual(lint(source), [], source)
        }
    }

    func testDeepButLegalNestingIsLinted() {
        let nested = String(repeating: "(", count: 50) + "q" + String(repeating: ")", count: 50)
        XCTAssertEqual(lint("local x = " + nested), ["1:61: undeclared global 'q'"])
    }

    // MARK: Lexer

    func testLexerTokens() throws {
        let source = "a.b:c(...) :: x // y .. z << 1 >> 2 ~= 3 <= 4 >= 5 == 6 ~ 7 # [==[s]==] 0x1p4 .5 1e-3 3. 0xA.8"
        let tokens = try XCTUnwrap(LuaLexer.tokenize(source))
        XCTAssertEqual(tokens.map(\.text), [
            "a", ".", "b", ":", "c", "(", "...", ")", "::", "x", "//", "y", "..", "z", "<<", "1", ">>", "2", "~=", "3",
            "<=", "4", ">=", "5", "==", "6", "~", "7", "#", "s", "0x1p4", ".5", "1e-3", "3.", "0xA.8", "<eof>",
        ])
        XCTAssertEqual(tokens.first?.kind, .name)
        XCTAssertEqual(tokens[29].kind, .string)
        XCTAssertEqual(tokens[30].kind, .number)
        XCTAssertEqual(tokens.last?.kind, .eof)

        let strings = try XCTUnwrap(LuaLexer.tokenize(#"'\65\x42\u{43}\n' "a\z   b" [[\n]] [==[]]]==]"#))
        XCTAssertEqual(strings.map(\.text), ["ABC\n", "ab", "\\n", "]]", "<eof>"])

        let positions = try XCTUnwrap(LuaLexer.tokenize("local x <const> = 1\n  --[[c\nc]] y"))
        XCTAssertEqual(positions.map { "\($0.line):\($0.column)" }, ["1:1", "1:7", "1:9", "1:10", "1:15", "1:17", "1:19", "3:5", "3:6"])
        XCTAssertEqual(positions[0].kind, .keyword)

        XCTAssertNil(LuaLexer.tokenize("'abc"))
        XCTAssertNil(LuaLexer.tokenize("[=["))
        XCTAssertNil(LuaLexer.tokenize("'\\u{110000000}'"))
        XCTAssertNil(LuaLexer.tokenize("1e"))
        XCTAssertNil(LuaLexer.tokenize("é"))
        XCTAssertNotNil(LuaLexer.tokenize("--[= not long\nx"))
        XCTAssertNotNil(LuaLexer.tokenize("'é \u{0}'"))
    }

    // MARK: Realistic rules: no false positives

    static let realisticRules: [String: String] = [
        "10_rename.lua": """
            -- Renames events before the standard mapping.
            local RENAMES <const> = {
              ["Newsletter Subscribed"] = "Lead Generated",
              ["Order Done"] = "Order Completed",
            }

            return {
              name = "rename-events",
              before = function(event, ctx)
                local renamed = RENAMES[event.event]
                if renamed then
                  ctx.log("renamed", event.event, "to", renamed)
                  event.event = renamed
                end
              end,
            }
            """,
        "20_drop_internal.lua": """
            local INTERNAL = { "@example.com", "@internal.test" }

            local function is_internal(email)
              if type(email) ~= "string" then return false end
              email = email:lower()
              for _, suffix in ipairs(INTERNAL) do
                if email:sub(-#suffix) == suffix then return true end
              end
              return false
            end

            return {
              name = "drop-internal",
              on_error = "pass",
              before = function(event, ctx)
                if event.event == "Internal Ping" then return drop("internal traffic") end
                local traits = event.context and event.context.traits
                if traits and traits ~= null and is_internal(traits.email) then
                  return drop(string.format("internal user %s", traits.email))
                end
              end,
            }
            """,
        "30_add_property.lua": """
            return {
              after = function(call, event, ctx)
                if call.fn ~= "track" then return end
                call.data.np = "pinrules"
                call.data.rule_version = ctx.config.version or "1"
                local props = event.properties or {}
                if props.coupon ~= nil and props.coupon ~= null then
                  call.data.coupon = tostring(props.coupon):upper():gsub("%s", "")
                end
                call.data.day = os.date("!%Y-%m-%d", ctx.now or os.time())
              end,
            }
            """,
        "40_split_checkout.lua": """
            local floor, max = math.floor, math.max
            local insert, concat = table.insert, table.concat

            local function cents(value)
              local n = tonumber(value)
              if not n then return nil end
              return floor(n * 100 + 0.5) / 100
            end

            local function split_products(call)
              local calls = array()
              local products = call.data.line_items or array()
              for i = 1, #products, 1 do
                local item = products[i]
                local copy = object()
                for k, v in pairs(call.data) do copy[k] = v end
                copy.line_items = array({ item })
                copy.value = cents(item.product_price) or 0
                insert(calls, { fn = call.fn, event = call.event, data = copy })
              end
              return calls
            end

            return {
              name = "split-checkout",
              on_error = "dead-letter",
              after = function(call, event, ctx)
                if call.fn == "track" and call.event == "checkout" then
                  local total = 0
                  for _, item in ipairs(call.data.line_items or {}) do
                    total = total + (cents(item.product_price) or 0) * max(1, item.product_quantity or 1)
                  end
                  call.data.value = cents(total)
                  if #(call.data.line_items or {}) > 1 then
                    ctx.log("fan-out", concat({ "items:", tostring(#call.data.line_items) }, " "))
                    return split_products(call)
                  end
                elseif call.fn == "set" and jsontype(call.data) == "object" then
                  call.data.em = call.data.em and call.data.em:lower()
                end
              end,
            }
            """,
        "50_methods.lua": """
            local Counter = {}
            Counter.__index = Counter

            function Counter.new(limit)
              return setmetatable({ count = 0, limit = limit }, Counter)
            end

            function Counter:bump(n)
              self.count = self.count + (n or 1)
              return self.count <= self.limit
            end

            local M = { helpers = {} }
            function M.helpers.normalize(s)
              return (s:gsub("%s+", " "):gsub("^%s", ""):gsub("%s$", ""))
            end
            function M.helpers:describe() return self ~= nil end

            local counter = Counter.new(100)

            return {
              name = "methods",
              before = function(event, ctx)
                if not counter:bump() then return drop("rate limited") end
                if type(event.event) == "string" then
                  event.event = M.helpers.normalize(event.event)
                  local words = {}
                  for word in event.event:gmatch("%a+") do words[#words + 1] = word:lower() end
                  event.properties = event.properties or object()
                  event.properties.slug = table.concat(words, "-")
                  event.properties.len = utf8.len(event.event) or #event.event
                  event.properties.upper = ("%s!"):format(event.event:upper())
                end
              end,
            }
            """,
        "60_upvalues.lua": #"""
            local function memoize(fn)
              local cache = {}
              return function(key, ...)
                local hit = cache[key]
                if hit == nil then
                  hit = fn(key, ...)
                  cache[key] = hit
                end
                return hit
              end
            end

            local function count(...)
              local n = select("#", ...)
              local packed = table.pack(...)
              return n + packed.n
            end

            local hash = memoize(function(text)
              local h = 5381
              local i = 0
              repeat
                i = i + 1
                local b = text:byte(i)
                if b then h = (h * 33 + b) % 4294967296 end
              until b == nil or i >= #text
              return string.format("%08x", h)
            end)

            local TEMPLATE = [==[
              io.write("not code") -- ]] still inside
            ]==]

            return {
              before = function(event, ctx)
                for _, key in ipairs({ "userId", "anonymousId" }) do
                  local value = event[key]
                  if value == nil or value == null then goto continue end
                  event[key .. "_hash"] = hash(tostring(value))
                  ::continue::
                end
                local ok, err = pcall(error, "x")
                local co = coroutine.wrap(function(a) coroutine.yield(a + 1) end)
                event.n = count(co(1), ok, err) + #TEMPLATE
                while event.n > 10 do event.n = event.n // 2 end
                do local scratch <close> = nil end
                local t = 0x1F + 1e3 + 0.5 + .5e-2 + 0xA.8p1 + (3 ~ 5) + (1 << 4) + (256 >> 2) + (6 & 3) + (6 | 1)
                event.t = t + math.random(1, 6) + (rawlen({}) or 0) + (rawget(_G, "x") or 0)
                if jsontype(event.properties) == "object" then
                  event.properties.kb = collectgarbage("count") > 0 and _VERSION or "?"
                elseif event.properties == nil then
                  event.properties = object()
                else
                  error("properties must be an object, got " .. type(event.properties))
                end
                assert(xpcall(function() return next({}) end, function(m) return m end))
              end,
            }
            """#,
    ]

    func testRealisticRulesHaveNoWarnings() throws {
        let sandbox = try LuaSandbox()
        for (name, source) in Self.realisticRules.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(lint(source), [], name)
            // They are valid Lua: they compile and their top level runs in the real sandbox.
            XCTAssertNoThrow(try sandbox.load(source, chunkName: name), name)
        }
    }

    func testRealisticRulesLoadIntoTheEngine() throws {
        let sources = Self.realisticRules.sorted(by: { $0.key < $1.key }).map { RuleSource(fileName: $0.key, source: $0.value) }
        XCTAssertNoThrow(try PinRulesEngine(configJSON: .object([:]), rules: sources))
    }

    // MARK: The linter's lists match the real sandbox

    func testLibraryFieldListsMatchTheSandbox() throws {
        let sandbox = try LuaSandbox()
        let probe = try sandbox.load("""
            return function()
              local out = {}
              for _, lib in ipairs({ "string", "table", "math", "os", "coroutine", "utf8" }) do
                local keys = {}
                for key in pairs(_G[lib]) do keys[#keys + 1] = key end
                table.sort(keys)
                out[lib] = table.concat(keys, ",")
              end
              return out
            end
            """, chunkName: "probe")
        let result = try sandbox.call(probe)
        var expected: [String: JSONValue] = [:]
        for (library, fields) in RuleLinter.libraryFields {
            expected[library] = .string(fields.sorted().joined(separator: ","))
        }
        XCTAssertEqual(result.values, [.object(JSONObject(expected.map { ($0.key, $0.value) }))])
    }

    func testGlobalListsMatchTheSandbox() throws {
        let sandbox = try LuaSandbox()
        let probe = try sandbox.load("""
            return function(offered, withheld)
              local problems = {}
              for _, name in ipairs(offered) do
                if _G[name] == nil then problems[#problems + 1] = "missing " .. name end
              end
              for _, name in ipairs(withheld) do
                local ok, value = pcall(function() return _G[name] end)
                if ok and value ~= nil then problems[#problems + 1] = "offered " .. name end
              end
              return table.concat(problems, ", ")
            end
            """, chunkName: "probe")
        // `drop` comes from the rule prelude, `_ENV` is the chunk's upvalue.
        let offered = RuleLinter.offeredGlobals.subtracting(["drop", "_ENV"]).sorted().map { JSONValue.string($0) }
        let withheld = RuleLinter.withheldGlobals.sorted().map { JSONValue.string($0) }
        let result = try sandbox.call(probe, arguments: [.json(.array(offered)), .json(.array(withheld))])
        XCTAssertEqual(result.values, [""])
        XCTAssertTrue(RulePrelude.source.contains("function globals.drop("))
    }

    // MARK: Never crashes

    func testFuzzRandomBytesAndMutationsNeverCrash() {
        var random = SplitMix64(seed: 0x5EED_1234)
        let alphabet = Array("abcdefxyz_ 0123456789\n\r\t\"'\\[]=-.:;,(){}<>~/#+*^%&|!@$`é".utf8)
        var checked = 0
        // Random bytes, and random bytes drawn from Lua-ish characters.
        for round in 0..<1500 {
            let length = Int(random.next() % 200)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                let r = random.next()
                bytes.append(round % 2 == 0 ? UInt8(truncatingIfNeeded: r) : alphabet[Int(r % UInt64(alphabet.count))])
            }
            check(String(decoding: bytes, as: UTF8.self))
            checked += 1
        }
        // Mutations of valid rules: delete, insert, replace, duplicate and cut.
        let seeds = Self.realisticRules.values.sorted().map { Array($0.utf8) }
        for _ in 0..<3000 {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                guard !bytes.isEmpty else { break }
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 5 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: at)
                case 2: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                case 3:
                    let end = min(bytes.count, at + Int(random.next() % 40))
                    bytes.insert(contentsOf: bytes[at..<end], at: at)
                default: bytes.removeSubrange(at...)
                }
            }
            check(String(decoding: bytes, as: UTF8.self))
            checked += 1
        }
        // Pathological shapes.
        let shapes = [
            String(repeating: "(", count: 100_000),
            String(repeating: "{", count: 100_000),
            "x = " + String(repeating: "- ", count: 100_000) + "1",
            "x = " + String(repeating: "not ", count: 100_000) + "1",
            "x = a" + String(repeating: " .. a", count: 100_000),
            "x = a" + String(repeating: " ^ a", count: 100_000),
            "x = a" + String(repeating: " + a", count: 100_000),
            String(repeating: "do ", count: 100_000),
            String(repeating: "function f() ", count: 50_000),
            "x = " + String(repeating: "a.", count: 100_000) + "b",
            String(repeating: "local a = 1 ", count: 20_000) + "return q",
            "--[" + String(repeating: "=", count: 100_000) + "[",
            "'" + String(repeating: "\\", count: 100_001),
            String(repeating: "\r\n\n\r", count: 10_000) + "q()",
            "",
            "\u{FEFF}",
        ]
        for shape in shapes {
            check(shape)
            checked += 1
        }
        XCTAssertEqual(checked, 1500 + 3000 + shapes.count)
        // A long legal chain of additions is fine and linted.
        XCTAssertEqual(lint("x = a" + String(repeating: " + a", count: 10_000)).count, 2)
    }

    /// The lexer and parser accept exactly what Lua's compiler accepts, on mutations of valid
    /// rules, except for the checks the linter leaves to the compiler (goto labels, break,
    /// `...`, `<const>` assignments).
    func testParserAgreesWithLuaOnMutatedRules() throws {
        var random = SplitMix64(seed: 0xD1FF)
        let alphabet = Array("abcdefxyz_ 0123456789\n\r\t\"'\\[]=-.:;,(){}<>~/#+*^%&|!@$`é".utf8)
        let seeds = Self.realisticRules.values.sorted().map { Array($0.utf8) }
        let tolerated = ["label", "goto", "break", "'...'", "const variable", "jumps into the scope"]
        let sandbox = try LuaSandbox()
        var compiled = 0
        var rejected = 0
        for round in 0..<2500 {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(random.next() % 2)) {
                guard !bytes.isEmpty else { break }
                let at = Int(random.next() % UInt64(bytes.count))
                let byte = round % 5 == 0 ? UInt8(truncatingIfNeeded: random.next())
                    : alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(byte, at: at)
                default: bytes[at] = byte
                }
            }
            let source = String(decoding: bytes, as: UTF8.self)
            let parsed = RuleLinter.events(in: source) != nil
            var syntaxError: String? = nil
            do {
                _ = try sandbox.load(source, chunkName: "mutant.lua")
            } catch {
                if case .syntax(_, _, _, let message) = error { syntaxError = message }
            }
            if syntaxError == nil { compiled += 1 } else { rejected += 1 }
            if let syntaxError, parsed, tolerated.contains(where: { syntaxError.contains($0) }) { continue }
            XCTAssertEqual(parsed, syntaxError == nil, "Lua says \(syntaxError ?? "ok") for:\n\(source)")
        }
        XCTAssertGreaterThan(compiled, 200)
        XCTAssertGreaterThan(rejected, 200)
    }

    private func check(_ source: String, file: StaticString = #filePath, line: UInt = #line) {
        let lineCount = source.utf8.filter { $0 == 0x0A || $0 == 0x0D }.count + 1
        for diagnostic in RuleLinter.lint(source, path: "fuzz.lua") {
            guard let at = diagnostic.line, let column = diagnostic.column, at >= 1, at <= lineCount, column >= 1 else {
                XCTFail("bad position in \(diagnostic) for \(source.debugDescription)", file: file, line: line)
                return
            }
        }
    }
}

/// A small deterministic generator, so a failing fuzz case can be replayed.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
