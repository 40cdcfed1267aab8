-- Comparison corpus for the budgeted pattern functions (see pattern_compare.lua).
-- Returns a list of {fn = "find"|"match"|"gmatch"|"gsub", args = table.pack(...)}.
-- Hand-written cases first (grouped by feature), then a deterministic
-- cross product and deterministic pseudo-random patterns on short subjects
-- (short, so that no case backtracks for long).

local cases = {}
local function add(fn, ...) cases[#cases + 1] = { fn = fn, args = table.pack(...) } end
local function F(...) add("find", ...) end
local function M(...) add("match", ...) end
local function G(...) add("gmatch", ...) end
local function S(...) add("gsub", ...) end

local mixed = "Hello, World! 123\t\n\0x\127\255\xe2\x82\xac_ zZ~"

-- character classes and their complements, alone, repeated, and in sets
for _, c in ipairs({ "a", "c", "d", "g", "l", "p", "s", "u", "w", "x" }) do
  S(mixed, "%" .. c, "<%0>")
  S(mixed, "%" .. c:upper() .. "+", "#")
  M(mixed, "[%" .. c .. "]+")
end
M(mixed, "%z")            -- %z (NUL) is deprecated but still a class in 5.4
M(mixed, "%Z")            -- and its complement
S(mixed, ".", "%0%0", 5)

-- escapes of magic characters
F("a.b", "%.")
F("a%b", "%%")
F("a[b]", "%[(.)%]")
F("x-y", "%-")
F("(x)", "%((%a)%)")
F("a+b*c?d^e$f", "%+(.)%*(.)%?")
M("1^2", "1%^2")
M("$5", "%$(%d)")

-- sets
M("abcxyz", "[abc]+")
M("abcxyz", "[a-c]+")
M("abcxyz", "[^a-c]+")
M("a_1-b", "[%d_]+")
M("]]a", "[]]+")
M("]]a", "[^]]")
M("a]b", "[]a]+")
M("a-b", "[a-]+")
M("-ab", "[-a]+")
M("a-z", "[%a-z]+")        -- class then literal '-' then 'z'
M("abc", "[z-a]")          -- empty range
M("x]y", "[%]]")
M("a-z", "[a%-z]+")
M("a\1\2b", "[\0-\31]+")
M("AbC", "[%u]+")
M("AbC", "[^%u]")
M("x^y", "[x^]+")
M("^^", "[%^]+")
M("abc", "[a-]")
M("b-", "[a-]+$")
M("a", "[^]")              -- error: ']' after '^' is literal, then unterminated

-- quantifiers
F("aaab", "a*b")
F("b", "a*b")
F("aaab", "a+b")
F("b", "a+b")
F("aaab", "a-b")
F("ab", "ab?c?")
M("<a><b>", "<(.-)>")
M("<a><b>", "<(.*)>")
M("xxxx", "x-$")
M("abc", ".-")
M("abc", ".-$")
M("", "a*")
M("", "a-")
M("", "a?")
M("", "a+")
M("*x", "*x")              -- a leading quantifier character is a literal
M("+x", "+x")
M("?x", "?x")
M("-x", "-x")
M("aab", "a?a?a?b")
M("color colour", "colou?r", 5)
M("ab", "(ab)?")           -- '?' after ')' is a literal
M("ab?", "(ab)?")

-- anchors
F("abc", "^a")
F("abc", "^b")
F("abc", "c$")
F("abc", "b$")
F("a$b", "$b")             -- '$' not at the end is a literal
F("a$", "a$$")
M("a^b", "a^b")            -- '^' not at the start is a literal
M("", "^$")
M("", "^")
M("", "$")
M("abc", "^abc$")
M("abc", "^(.-)$")
F("aaa", "^a", 2)
M("x", "^^x")
M("^x", "^^x")

-- captures
M("hello world", "(%w+) (%w+)")
M("abc", "((a)(b))")
M("abc", "(a(b(c)))")
M("abc", "()a()")
F("hello", "l()")
F("hello", "(l)(l)")
F("hello", "()ll()")
M("abc", "()")
M("", "()")
M("abc", "(.)(.)(.)$")
M("a1b2", "(%a)(%d)(%a)(%d)")
M("key = value", "^(%w+)%s*=%s*(%w+)$")
M("aaa", "(a*(.)%w(%s*))")
M("abc", "(()())")

-- back-references
M("hello hello", "(%w+) %1")
M("hello world", "(%w+) %1")
F("xaaay", "(a+)%1")
F("abab", "(ab)%1")
M("\"quoted\" text", "([\"'])(.-)%1")
F("aa", "()a%1")           -- a position capture never matches as text
M("abcabc", "(a)(b)(c)%1%2%3")
F("aaa", "(a)%1%1")
M("x", "(x)%1?")           -- a back-reference item takes no quantifier: '?' literal

-- %b
M("f(a(b)c)d", "%b()")
M("f((a)", "%b()")
M("f(a))", "%b()")
M("[[x]]", "%b[]")
M("'a' 'b'", "%b''")
M("xaxbx", "%bxx")
M("a{}", "%b{}")
S("f(x) g(y(z))", "%b()", "[]")
F("((((", "%b()")
M("", "%b()")
M(")(", "%b()")
M("(a)", "%b()$")

-- %f frontier
S("THE (quick) fox", "%f[%a]%a+", "W")
M("hello", "%f[%a]")
F("hello", "%f[%A]")       -- at the end: the next char is a virtual NUL
F("hello world", "%f[%w]%w+", 3)
F("abc", "%f[%l]")
F("abc", "%f[a]")
F("abc", "%f[^a]")
F("a\0b", "%f[\0]")
F("a\0b", "%f[%z]")
S("the cat sat", "%f[%w]%w+%f[%W]", string.upper)
M("THE", "%f[%l]")
F("", "%f[%a]")
F("", "%f[^%a]")

-- init argument
for _, i in ipairs({ 0, 1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -100, math.maxinteger, math.mininteger }) do
  F("abc", "b", i)
  F("abc", "", i)
  M("abc", ".", i)
  G("abc", ".", i)
end
F("", "", 1)
F("", "", 2)
F("", "", 0)
F("", "", -1)
M("", ".-", 1)
M("", ".-", 2)
F("abc", "c", 3.0)         -- float with an integer value
F("abc", "%a", "2")        -- numeric string
G("abc", "", 4)
G("abc", "", 5)

-- find: plain flag and the no-specials fast path
F("a.b", ".", 1, true)
F("a.b", ".", 1, false)
F("a.b", ".", 1, nil)
F("a.b", ".", 1, 0)        -- 0 is true in Lua
F("a+b", "a+b", 1, true)
F("a+b", "a+b")
F("hello", "l", -2, true)
F("hello", "", 10, true)
F("hello", "xyz", 1, true)
F("hello", "hello!", 1, true)
F("abc", "", 4, true)
F("aXbXc", "X", 3)
F("a]b", "]")              -- ']' is not special
F("a)b", ")")              -- nor is ')'
F("abc", "a)")             -- so this is a plain search, no error
F("a\0b", "\0b")
F("a\0b", "b\0")
F("a\0\0b", "\0\0", 1, true)
F(("ab"):rep(50) .. "abc", "abc")

-- number arguments are coerced to strings
F(12345, 34)
M(3.5, "%d%.%d")
S(123, "2", "x")
S(123, "9", "x")           -- no change: returns the coerced string
G(1e15, "%d")

-- match edge cases
M("", "")
M("abc", "")
M("abc", "", 4)
M("abc", "", 5)
M("hello", "(h)(e)(l)(l)(o)")

-- gmatch
G("one two  three", "%a+")
G("k1=v1, k2=v2", "(%w+)=(%w+)")
G("abc", "")
G("abc", "()")
G("", "")
G("", "x*")
G("abc", "x*")
G("abc", "%a*")
G("a,b,,c", "([^,]*)")
G("aaa", "^a")             -- in gmatch '^' is a literal
G("a^a^", "^a")
G("hello", "l*")
G("aXbXc", "X", -2)
G("hello world from lua", "%a+", 7)
G("abc", ".", 0)
G("日本語", "[\xe0-\xef][\x80-\xbf]*")
G("a\0b\0c", "[^\0]+")
G("f(a) g(b)", "%b()")
G("abab", "(a)(b)")
G("THE (quick) fox", "%f[%a]%a+")
G("abc", "(a)", 10)
G("abc", "(")              -- errors are raised by the iterator
G("abc", "%1")

-- gsub: string replacement
S("hello world", "o", "0")
S("hello world", "(o)", "[%1]")
S("hello world", "o", "%0%0")
S("hello world", "l+", "%%")
S("hello", "", "-")
S("", "", "-")
S("abc", "%w*", "-")
S("abc", "x*", "-")
S("hello world", "(%w+) (%w+)", "%2 %1")
S("hello", "l", "%1")      -- %1 without captures is the whole match
S("hello", "()l", "%1")    -- a position capture in the replacement
S("hello", "(l)()", "%2%1")
S("abc", "b", "%")         -- error: '%' at the end
S("abc", "b", "%x")        -- error: invalid use of '%'
S("abc", "b", "%2")        -- error: invalid capture index
S("abc", "(b)", "%2")
S("abc", "b", "%0%1%%")
S("abc", "b", 42)          -- a number replacement is a string
S("abc", "b", 4.5)
S("a.b.c", "%.", "%%.")
S("abc", "b", "x\0y")

-- gsub: n argument
for _, n in ipairs({ 0, 1, 2, 3, 4, -1, math.maxinteger, math.mininteger }) do
  S("aaa", "a", "b", n)
end
S("aaa", "a", "b", 2.0)
S("aaa", "a", "b", "1")
S("aaa", "^a", "b")
S("aaa", "^a", "b", 0)
S("aaa", "^", ">")
S("aaa", "$", "<")
S("aaa", "^$", "x")
S("", "^$", "x")
S("hello world", "%w+", "<%0>", 1)

-- gsub: table replacement
local tbl = { hello = "HI", world = false, lua = 54, pi = 3.5, big = 2^63 }
S("hello world lua pi other", "%w+", tbl)
S("hello world", "(%w+)", tbl)
S("$name is $age", "%$(%w+)", { name = "Ann", age = 7 })
S("abc", "()", { [1] = "one", [2] = "two" })   -- position captures index the table
S("abc", "%w", { a = { } })                    -- error: invalid replacement value (a table)
S("abc", "%w", { a = true })                   -- error: (a boolean)
S("abc", "%w", {})
S("abc", "%w", setmetatable({}, { __index = function(_, k) return k:upper() end }))

-- gsub: function replacement
S("hello world", "%w+", string.upper)
S("hello world", "%w+", function() return nil end)
S("hello world", "%w+", function() return false end)
S("hello world", "%w+", function(w) return #w end)
S("hello world", "%w+", function(w) return #w / 2 end)
S("hello world", "(%w)(%w*)", function(a, b) return a:upper() .. b end)
S("abc", "()", function(p) return p end)
S("abc", "%w", function() return {} end)      -- error
S("abc", "%w", function() return true end)    -- error
S("abc", "%w", function() error("boom") end)  -- error raised by the callback
S("abc", "%w", function() return "x", "y" end)
S("abc", "", function() return "-" end)
S("a b", "%w", function(c) if c == "a" then return "A" end end)

-- gsub: invalid replacement types and other argument errors
S("abc", "b", true)
S("abc", "b", nil)
S("abc", "b")
S("abc", "b", "x", 1.5)
S("abc", "b", "x", "z")
F()
F("abc")
F("abc", {})
F("abc", "b", "x")
F("abc", "b", 1.5)
M(nil, "a")
M("abc", nil)
G()
G("abc", "b", 2.5)
S()

-- malformed patterns: same messages as stock
for _, p in ipairs({
  "[a", "[^", "[", "[]", "[^]", "[%", "%", "a%", "(a", "a)", "(()", "%1", "(a)%2", "(a%1)",
  "%0", "%b", "%ba", "%f", "%fa", "%f[a", "%f[]", "(()%1)", "((a)", "a)(", "[a-%]", "%f",
}) do
  F("abc", p)
  M("", p)
  S("abc", p, "x")
end
M("a", "(a)")
M("abc", ("()"):rep(32))
M("abc", ("()"):rep(33))            -- too many captures
M(("a"):rep(250), ("a?"):rep(250))  -- pattern too complex
M(("a"):rep(150), ("a?"):rep(150))
M(("a"):rep(250), ("(a)"):rep(1) .. ("a?"):rep(199))
M(("a"):rep(300), ("a*"):rep(5))
M(("a"):rep(40), ("(a)"):rep(32))   -- 32 captures is the maximum
G("abc", "[a")
G("abc", "(()")
F("abc", "a", 1, true)

-- UTF-8 and binary bytes
M("héllo", "h(.)")
M("héllo", "h([\x80-\xff]+)")
S("naïve café", "[\xc0-\xff][\x80-\xbf]*", "?")
G("añb€c", utf8.charpattern)
M("\xff\xfe", "[\xfe-\xff]+")
M("\xff", "%a")
F("abc\0def", "\0")
F("abc\0def", "%z")
M("a\0b", "[%z]")
M("a\0b", "[\0]")
M("a\0b", "%c")
M("a\0b", ".%z.")
S("a\0b\0", "\0", "0")
S("a\0b\0", "%c", "<%0>")
F("x\0y", "[\0]")
M("x\0\0y", "\0+")
M("ab", "a\0?b")
M("\0", "^\0$")

-- cross product: patterns x subjects
local subjects = { "", "a", "ab", "aab", "abab", "a b", "x(y)z", "AbC1", "..", "a-b" }
local patterns = {
  "a", "a*", "a+", "a-", "a?", ".", "%a+", "(a)", "()", "^a", "b$", "[ab]+", "%b()",
  "%f[%a]", "(a*)(b?)", "(.)%1", "[^a]", "%s", ".-b", "",
}
for _, p in ipairs(patterns) do
  for _, s in ipairs(subjects) do
    M(s, p)
    S(s, p, "<%0>")
  end
  F("aab ab", p)
  G("aab ab", p)
end

-- deterministic pseudo-random patterns on short subjects
local seed = 12345
local function rnd(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n + 1
end
local atoms = { "a", "b", ".", "%a", "%d", "[ab]", "[^a]", "%s", "x", "%%", "[%d_]" }
local quants = { "", "", "", "*", "+", "-", "?" }
local specials = { "(", ")", "()", "%1", "%b()", "%f[%w]", "^", "$" }
local rsubjects = { "aab1 b", "ab_ba(x)", "a a a", "1b2a", "(a(b)a)", "" }
local function random_pattern()
  local parts = {}
  for i = 1, rnd(5) do
    if rnd(5) == 1 then
      parts[i] = specials[rnd(#specials)]
    else
      parts[i] = atoms[rnd(#atoms)] .. quants[rnd(#quants)]
    end
  end
  return table.concat(parts)
end
for _ = 1, 150 do
  local p = random_pattern()
  local s = rsubjects[rnd(#rsubjects)]
  F(s, p)
  M(s, p, rnd(4) - 2)
  G(s, p)
  S(s, p, "[%0]")
end

return cases
