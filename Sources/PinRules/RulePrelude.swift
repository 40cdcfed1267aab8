/// Host code (trusted Lua) that implements the rule contract inside the sandbox: the `drop`
/// global, read-only `ctx` tables, and one trampoline per hook that calls the rule and reports
/// what it did in plain values the bridge can carry back. Keeping the contract here lets each
/// hook be one call into Lua per event.
enum RulePrelude {
    static let chunkName = "pinrules-prelude"

    static let source = #"""
local freeze, globals = sandbox.freeze, sandbox.globals
local drops = setmetatable({}, {__mode = "k"})
local rules = {}
local logs = nil   -- made on the first log line of a call: most calls log nothing
local MAX_LOGS, MAX_LOG_LENGTH = 100, 2000

-- drop(reason): what a hook returns to suppress the event (before) or the call (after).
function globals.drop(reason)
  local marker = {reason = reason == nil and "" or tostring(reason)}
  drops[marker] = true
  return marker
end

local function log(...)
  if logs == nil then logs = array() end
  if #logs >= MAX_LOGS then return end
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  local line = table.concat(parts, " ")
  if #line > MAX_LOG_LENGTH then line = line:sub(1, MAX_LOG_LENGTH) .. "..." end
  logs[#logs + 1] = line
end

local function readonly(value, name)
  if type(value) ~= "table" then return value end
  local copy = {}
  for k, v in next, value do copy[k] = readonly(v, name .. "." .. tostring(k)) end
  return freeze(copy, name)
end

local M = {}

-- Checks a loaded rule and keeps it with its ctx. Returns its index and what it offers.
function M.register(module, name, config, now)
  if type(module) ~= "table" then
    return nil, "the rule file must return a table like { before = function(event, ctx) ... end }, not " .. type(module)
  end
  local rule_name = module.name
  if rule_name ~= nil and type(rule_name) ~= "string" then return nil, "'name' must be a string" end
  local on_error = module.on_error
  if on_error == nil then on_error = "dead-letter" end
  if on_error ~= "dead-letter" and on_error ~= "pass" and on_error ~= "drop" then
    return nil, "'on_error' must be \"dead-letter\", \"pass\" or \"drop\", not " .. tostring(on_error)
  end
  for _, hook in ipairs({"before", "after"}) do
    if module[hook] ~= nil and type(module[hook]) ~= "function" then
      return nil, "'" .. hook .. "' must be a function, not " .. type(module[hook])
    end
  end
  local unknown = array()
  for key in next, module do
    if key ~= "name" and key ~= "on_error" and key ~= "before" and key ~= "after" then
      unknown[#unknown + 1] = tostring(key)
    end
  end
  table.sort(unknown)
  rule_name = rule_name or name
  local ctx = freeze({
    rule = rule_name,
    config = readonly(config, "ctx.config"),
    now = now,
    log = log,
  }, "ctx")
  rules[#rules + 1] = {before = module.before, after = module.after, ctx = ctx}
  return #rules, {name = rule_name, on_error = on_error,
                  has_before = module.before ~= nil, has_after = module.after ~= nil, unknown = unknown}
end

-- before(event, ctx): nothing = continue with the (changed) event, drop(reason), or a
-- replacement event table. The common case, continuing without logs, returns the event alone:
-- every value returned is one more to read back.
function M.before(index, event)
  local rule = rules[index]
  logs = nil
  local result = rule.before(event, rule.ctx)
  if result == nil then
    if logs == nil then return event end
    return "continue", event, logs
  end
  if drops[result] then return "drop", result.reason, logs end
  if type(result) == "table" then return "replace", result, logs end
  return "invalid", "before returned a " .. type(result) ..
    "; expected nothing, drop(reason) or an event table", logs
end

-- after(call, event, ctx) for each call: nothing = keep the (changed) call, drop(reason), a
-- replacement call, or a list of calls (fan-out). Returns, per input call, what it became.
function M.after(index, calls, event)
  local rule = rules[index]
  logs = nil
  local results = array()
  for i = 1, #calls do
    local call = calls[i]
    local result = rule.after(call, event, rule.ctx)
    if result == nil then
      results[i] = array({call})
    elseif drops[result] then
      results[i] = result.reason
    elseif type(result) == "table" then
      if result.fn ~= nil or jsontype(result) == "object" then
        results[i] = array({result})
      else
        results[i] = array(result)
      end
    else
      return "invalid", "after returned a " .. type(result) ..
        " for call " .. i .. "; expected nothing, drop(reason), a call or a list of calls", logs
    end
  end
  return "ok", results, logs
end

return M
"""#
}
