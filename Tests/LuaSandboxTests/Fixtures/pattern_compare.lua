-- Runs every case of a pattern corpus through two implementations of
-- find/match/gmatch/gsub and returns a list of mismatch descriptions
-- (empty when they agree).
--
--   local mismatches = assert(loadfile("pattern_compare.lua"))(stock, guarded, corpus)
--
-- Called with no arguments, the chunk returns the comparison function instead.
--
-- stock/guarded: tables with find, match, gmatch, gsub.
-- corpus: list of {fn = "find"|"match"|"gmatch"|"gsub", args = {..., n = N}}.
--
-- Both implementations are called through a local variable with the same name
-- (never as a tail call), so "bad argument #n to 'find'" messages name the
-- function identically. As a safety net, a qualified name such as
-- 'string.find' is reduced to 'find' before comparing.

local format, concat, pack, unpack = string.format, table.concat, table.pack, table.unpack
local sgsub, mtype = string.gsub, math.type

local MAX_ITER = 10000 -- gmatch results collected per case, at most

local function show(v)
  local t = type(v)
  if t == "string" then
    return format("%q", v)
  elseif t == "number" then
    return mtype(v) .. ":" .. format("%.17g", v)
  elseif t == "nil" or t == "boolean" then
    return tostring(v)
  else
    return "<" .. t .. ">" -- tables/functions: addresses never compare equal
  end
end

local function show_list(r)
  local parts = {}
  for i = 1, r.n do parts[i] = show(r[i]) end
  return "(" .. concat(parts, ", ") .. ")"
end

local function normalize_error(e)
  if type(e) ~= "string" then return "<" .. type(e) .. " error>" end
  return (sgsub(e, "(bad argument #%d+ to ')[%w_]+%.", "%1"))
end

local callers = {}

function callers.find(impl, a, n)
  local find = impl.find
  return show_list(pack(find(unpack(a, 1, n))))
end

function callers.match(impl, a, n)
  local match = impl.match
  return show_list(pack(match(unpack(a, 1, n))))
end

function callers.gsub(impl, a, n)
  local gsub = impl.gsub
  return show_list(pack(gsub(unpack(a, 1, n))))
end

function callers.gmatch(impl, a, n)
  local gmatch = impl.gmatch
  local it = gmatch(unpack(a, 1, n))
  local out = {}
  for _ = 1, MAX_ITER do
    local r = pack(it())
    if r.n == 0 then break end
    out[#out + 1] = show_list(r)
    if r[1] == nil then break end
  end
  return "[" .. concat(out, " ") .. "]"
end

local function run(impl, case)
  local call = callers[case.fn]
  if not call then return "bad case: unknown fn " .. tostring(case.fn) end
  local a = case.args or {}
  local ok, res = pcall(call, impl, a, a.n or #a)
  if ok then return "ok " .. res end
  return "error " .. normalize_error(res)
end

local function describe_args(a)
  local parts = {}
  for i = 1, (a.n or #a) do
    local s = show(a[i])
    if #s > 60 then s = s:sub(1, 57) .. "..." end
    parts[i] = s
  end
  return concat(parts, ", ")
end

local function compare(stock, guarded, corpus)
  local mismatches = {}
  for i, case in ipairs(corpus) do
    local want = run(stock, case)
    local got = run(guarded, case)
    if want ~= got then
      mismatches[#mismatches + 1] = format("case %d: %s(%s)\n  stock:   %s\n  guarded: %s",
        i, tostring(case.fn), describe_args(case.args or {}), want, got)
    end
  end
  return mismatches
end

local stock, guarded, corpus = ...
if stock == nil then return compare end
return compare(stock, guarded, corpus)
