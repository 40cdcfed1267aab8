-- Developer harness (not run by `make test`). From the Fixtures directory:
--   sh pattern_harness/build.sh && lua5.4 pattern_harness/run.lua
-- Compares the budgeted pattern functions with stock string.* over the corpus,
-- shows that pattern bombs are stopped by the budget, and compares speed.
local here = (arg and arg[0] or ""):match("^(.*)/pattern_harness/run%.lua$") or "."
package.cpath = "/tmp/?.so;" .. package.cpath
local P = require("pinpat") -- /tmp/pinpat.so (build.sh); also in package.loaded

local corpus = assert(dofile(here .. "/pattern_corpus.lua"))
local compare = assert(loadfile(here .. "/pattern_compare.lua"))
local stock = { find = string.find, match = string.match, gmatch = string.gmatch, gsub = string.gsub }

P.budget(0) -- unlimited for the comparison
local mismatches = compare(stock, P, corpus)
for _, m in ipairs(mismatches) do print(m) end
print(string.format("corpus: %d cases, %d mismatches", #corpus, #mismatches))

-- Bombs: each must end with "budget exceeded", quickly.
local LIMIT = 10000000 -- 10M steps
local bombs = {
  { "find a*a*a*b on 400 a", function() return P.find(("a"):rep(400), "a*a*a*b") end },
  { "match 15 x a- on 16 chars", function() return P.match(("a"):rep(16), ("a-"):rep(15) .. "b") end },
  { "gsub a*a*a*c on 300 a", function() return P.gsub(("a"):rep(300), "a*a*a*c", "x") end },
  { "gmatch a-a-a-a-b", function()
      for _ in P.gmatch(("a"):rep(300), "a-a-a-a-b") do end
    end },
  { "find .-.-.-.-x", function() return P.find(("y"):rep(200), ".-.-.-.-x") end },
  { "plain find worst case", function()
      return P.find(("a"):rep(2000000), ("a"):rep(200000) .. "b", 1, true)
    end },
}
local ok_all = #mismatches == 0
for _, b in ipairs(bombs) do
  P.budget(LIMIT)
  local t0 = os.clock()
  local ok, err = pcall(b[2])
  local dt = os.clock() - t0
  local used = P.used()
  local stopped = not ok and tostring(err):find("budget exceeded", 1, true) ~= nil
  ok_all = ok_all and stopped
  print(string.format("bomb %-28s %s after %.3f s (%d units charged)",
    b[1], stopped and "stopped" or ("NOT STOPPED: " .. tostring(err)), dt, used))
end
P.budget(0)

-- Speed on ordinary patterns: stock vs budgeted.
local text = ("The quick brown fox jumps over the lazy dog 12345, key=value; "):rep(20)
local function workload(lib)
  local n = 0
  for _ = 1, 2000 do
    n = n + (lib.find(text, "lazy%s+(%a+)") or 0)
    n = n + #(lib.match(text, "(%w+)=(%w+)") or "")
    for w in lib.gmatch(text, "%a+") do n = n + #w end
    local _, c = lib.gsub(text, "%d+", "#")
    n = n + c
    n = n + (lib.find(text, "dog 1", 1, true) or 0)
  end
  return n
end
local ts, tg, rs, rg = math.huge, math.huge, nil, nil
for _ = 1, 5 do -- interleaved, best of 5, to damp machine noise
  local t0 = os.clock()
  rs = workload(stock)
  ts = math.min(ts, os.clock() - t0)
  t0 = os.clock()
  rg = workload(P)
  tg = math.min(tg, os.clock() - t0)
end
ok_all = ok_all and rs == rg
print(string.format("speed: stock %.3f s, budgeted %.3f s, ratio %.2f (results %s)",
  ts, tg, tg / ts, rs == rg and "equal" or "DIFFER"))
print(ok_all and "ALL OK" or "FAILURES")
os.exit(ok_all and 0 or 1)
