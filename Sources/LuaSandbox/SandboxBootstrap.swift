/// The trusted Lua chunk that composes what rules see, run once per sandbox while the full
/// standard library is still reachable. It copies the safe parts into fresh tables, wraps the
/// ones that need limits, makes every shared table read-only, and returns the environment
/// factory. After it runs, the C side drops the standard library's globals and loaded-module
/// table, so nothing unsafe stays reachable from Lua.
///
/// The withheld names are listed here so that using one fails with an error naming it rather
/// than "attempt to index a nil value".
enum SandboxBootstrap {
    static let source = #"""
local host, G = ...
local ipairs, pairs, setmetatable = G.ipairs, G.pairs, G.setmetatable
local stock_os, stock_math = G.os, G.math

local function copy(source, names)
  local t = {}
  for _, name in ipairs(names) do t[name] = source[name] end
  return t
end

local base = copy(G, {"assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select",
  "tonumber", "tostring", "type", "rawequal", "rawlen", "rawget", "getmetatable"})
base._VERSION = G._VERSION
base.rawset = host.rawset
base.rawget = host.rawget
base.rawlen = host.rawlen
base.next = host.next
base.xpcall = host.xpcall
base.setmetatable = host.setmetatable
base.collectgarbage = host.collectgarbage
base.null = host.null
base.array = host.array
base.object = host.object
base.jsontype = host.jsontype

local sstring = copy(G.string, {"byte", "char", "format", "len", "lower", "upper", "reverse", "sub",
  "pack", "packsize", "unpack"})
sstring.rep = host.rep
host.register_patterns(sstring)
host.guard_missing(sstring, "string", {"dump"})

local stable = copy(G.table, {"concat", "insert", "remove", "pack", "unpack"})
stable.move = host.wrap_move(G.table.move)
stable.sort = host.wrap_sort(G.table.sort)

local smath = copy(stock_math, {"abs", "ceil", "floor", "fmod", "huge", "log", "max", "maxinteger",
  "min", "mininteger", "modf", "pi", "sqrt", "tointeger", "type", "ult", "exp", "sin", "cos", "tan",
  "asin", "acos", "atan", "random"})
function smath.randomseed(x, y)
  if x == nil then error("math.randomseed needs a seed in the sandbox (runs are deterministic)", 2) end
  return stock_math.randomseed(x, y)
end

local clock = {}
local sos = {
  time = function(t)
    if t == nil and clock.now then return clock.now end
    return stock_os.time(t)
  end,
  date = function(format, t)
    if t == nil and clock.now then t = clock.now end
    return stock_os.date(format, t)
  end,
  clock = function()
    if clock.now then return 0.0 end
    return stock_os.clock()
  end,
}
host.guard_missing(sos, "os", {"execute", "exit", "getenv", "remove", "rename", "tmpname", "setlocale"})

local scoroutine = copy(G.coroutine, {"create", "resume", "yield", "status", "wrap", "isyieldable", "running"})
host.guard_missing(scoroutine, "coroutine", {"close"})

local sutf8 = copy(G.utf8, {"char", "charpattern", "codes", "codepoint", "len", "offset"})

base.string = host.freeze(sstring, "string")
base.table = host.freeze(stable, "table")
base.math = host.freeze(smath, "math")
base.os = host.freeze(sos, "os")
base.coroutine = host.freeze(scoroutine, "coroutine")
base.utf8 = host.freeze(sutf8, "utf8")
host.set_string_metatable(sstring, host.freeze({__index = base.string}, "string metatable"))
host.guard_missing(base, "", {"io", "package", "require", "dofile", "loadfile", "debug", "print",
  "loadstring", "module", "setfenv", "getfenv", "newproxy", "gcinfo"})

-- Each chunk gets an environment of its own: its globals stay private, reads fall through to
-- the shared read-only base.
local env_mt = {__index = base, __metatable = false}
local function make_env()
  local env = setmetatable({}, env_mt)
  env._G = env
  env.load = host.loader(env)
  return env
end

local trusted = make_env()
trusted.sandbox = {
  freeze = host.freeze,
  globals = base,
  set_clock = function(now) clock.now = stock_math.type(now) and now or nil end,
  reseed = function(seed) stock_math.randomseed(seed) end,
  -- The unbudgeted originals, for host code that proves the budgeted ones give the same results.
  stock_patterns = copy(G.string, {"find", "match", "gmatch", "gsub"}),
}
stock_math.randomseed(0)
return make_env, trusted
"""#
}
