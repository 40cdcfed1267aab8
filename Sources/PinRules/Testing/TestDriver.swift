/// Trusted Lua that runs the tests of one `*_test.lua` file inside its own sandbox.
///
/// Lua cannot call back into Swift, so each `test(name, fn)` body runs as a coroutine: `run`
/// yields the event to map, the Swift runner receives it as the result of its call, maps it with
/// a `MappingSession` (before-rules, mapping, after-rules) and resumes the coroutine with the
/// outcome table. Assertions raise an error carrying a table marked as a failure (what was
/// compared, in JSON-safe form); the driver hands it to Swift, which renders the field-level
/// diff with `ValueDiff`, the same code declarative cases use.
///
/// Functions the driver offers Swift: `list()`, `start(index)`, `resume(outcome)`, `abort()`,
/// `output()` (what the test printed).
/// Each returns one step: `{state = "run", event, options, line}`, `{state = "pass"}`,
/// `{state = "fail", failure}` or `{state = "error", message}`.
enum TestDriver {
    /// The chunk name of the driver; `locate` skips frames of this chunk to find the test line.
    static let chunkName = "pinrules-test-driver"

    static let source = #"""
local globals = sandbox.globals
local DRIVER = "pinrules-test-driver"
local MAX_DEPTH = 100

local entries = {}          -- {name, fn, line} in declaration order
local current = nil         -- the coroutine of the running test
local pending = nil         -- the request of the run() that yielded
local RUN = {}              -- what run() yields: only this identity is a run request
local failures = setmetatable({}, {__mode = "k"})
local counter = 0           -- messageId counter of the event helpers

-- The line in the test file that called into the driver: error(msg, level) prefixes the
-- position of that stack level, which needs no debug library. Frames of the driver are skipped.
local function locate()
  for level = 3, 60 do
    local _, where = pcall(error, "", level)
    if type(where) ~= "string" then return nil end
    if where ~= "" and where:sub(1, #DRIVER) ~= DRIVER then
      local line = where:match(":(%d+): $")
      if line then return math.tointeger(tonumber(line)) end
    end
  end
  return nil
end

-- A copy that can cross to the host as JSON: functions and other Lua-only values become
-- descriptive strings, cycles and very deep nesting are cut.
local function plain(value, depth, seen)
  local kind = type(value)
  if kind == "nil" or kind == "boolean" or kind == "string" then return value end
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then return tostring(value) end
    return value
  end
  if value == null then return value end
  if kind ~= "table" then return "<" .. kind .. ">" end
  depth, seen = depth or 0, seen or {}
  if seen[value] then return "<cycle>" end
  if depth >= MAX_DEPTH then return "<too deep>" end
  seen[value] = true
  local copy = {}
  if jsontype(value) == "array" then
    for i = 1, rawlen(value) do copy[i] = plain(value[i], depth + 1, seen) end
    copy = array(copy)
  else
    for k, v in pairs(value) do copy[tostring(k)] = plain(v, depth + 1, seen) end
    copy = object(copy)
  end
  seen[value] = nil
  return copy
end

-- Why a value cannot be handed to the pipeline as an event, or nil when it can.
local function not_json(value, path, depth, seen)
  local kind = type(value)
  if kind == "nil" or kind == "boolean" or kind == "string" or value == null then return nil end
  if kind == "number" then
    if value ~= value or value == math.huge or value == -math.huge then
      return path .. " is " .. tostring(value) .. ", which JSON cannot hold"
    end
    return nil
  end
  if kind ~= "table" then return path .. " is a " .. kind .. ", which cannot become JSON" end
  if seen[value] then return path .. " refers back to itself" end
  if depth >= MAX_DEPTH then return path .. " is nested too deeply" end
  seen[value] = true
  for k, v in pairs(value) do
    local problem = not_json(v, path .. "." .. tostring(k), depth + 1, seen)
    if problem then return problem end
  end
  seen[value] = nil
  return nil
end

-- Deep comparison, mirroring ValueDiff in Swift: numbers by value, an empty array equals an
-- empty object (a Lua {} cannot say which it is), subset = wanted keys only, null = absent.
local function equal(got, want, subset, depth)
  if depth > MAX_DEPTH then return false end
  if subset and want == null then return got == nil or got == null end
  local tg, tw = type(got), type(want)
  if tg ~= "table" or tw ~= "table" then return tg == tw and got == want end
  local kg, kw = jsontype(got), jsontype(want)
  if kg ~= kw then return next(got) == nil and next(want) == nil end
  if kg == "array" then
    if rawlen(got) ~= rawlen(want) then return false end
    for i = 1, rawlen(want) do
      if not equal(got[i], want[i], subset, depth + 1) then return false end
    end
    return true
  end
  for k, v in pairs(want) do
    if not equal(got[k], v, subset, depth + 1) then return false end
  end
  if not subset then
    for k in pairs(got) do
      if want[k] == nil then return false end
    end
  end
  return true
end

local function raise(assertion, failure, message)
  failure.assertion = assertion
  if message ~= nil then failure.message = tostring(message) end
  failure.line = locate()
  failures[failure] = true
  error(failure, 0)
end

local function check_outcome(out, name)
  if type(out) ~= "table" or type(out.status) ~= "string" then
    error(name .. ": expected the outcome of run(event), got " .. type(out), 3)
  end
end

-- What Swift needs to describe an outcome in event terms.
local function summary(out)
  return plain({status = out.status, reason = out.reason, rule = out.rule, error = out.error,
                pintrk = out.pintrk, trace = out.trace})
end

local function find_call(out, event)
  for _, call in ipairs(out.calls or {}) do
    if event == nil and call.fn == "track" then return call end
    if event ~= nil and ((call.fn == "track" and call.event == event) or (call.fn ~= "track" and call.fn == event)) then
      return call
    end
  end
  return nil
end

-- print(...): the test's output, shown with its result (the sandbox has no stdout).
local output = array()
local MAX_OUTPUT, MAX_OUTPUT_LINE = 200, 2000
function globals.print(...)
  if #output >= MAX_OUTPUT then return end
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  local line = table.concat(parts, "\t")
  if #line > MAX_OUTPUT_LINE then line = line:sub(1, MAX_OUTPUT_LINE) .. "..." end
  output[#output + 1] = line
end

-- test(name, fn): declares a test.
function globals.test(name, fn)
  if current ~= nil then error("test() declares tests at the top level of the test file, not inside a test", 2) end
  if type(name) ~= "string" or name == "" then error("test(name, fn): name must be a non-empty string", 2) end
  if type(fn) ~= "function" then error("test(name, fn): fn must be a function, not " .. type(fn), 2) end
  entries[#entries + 1] = {name = name, fn = fn, line = locate()}
end

-- run(event [, options]): maps the event through the suite's rules; returns the outcome.
function globals.run(event, options)
  if current == nil or coroutine.running() ~= current then
    error("run() works only inside a test body (test(name, function() ... end)), not in a nested coroutine", 2)
  end
  if type(event) ~= "table" then error("run(event): the event must be a table, not " .. type(event), 2) end
  local problem = not_json(event, "event", 0, {})
  if problem then error("run(event): " .. problem, 2) end
  if options ~= nil then
    if type(options) ~= "table" then error("run(event, options): options must be a table", 2) end
    for key, value in pairs(options) do
      if key == "config" then
        if type(value) ~= "table" then error("run(): options.config must be a table (a destination config)", 2) end
        problem = not_json(value, "options.config", 0, {})
        if problem then error("run(): " .. problem, 2) end
      elseif key == "rules" then
        if type(value) ~= "table" then error("run(): options.rules must be a list of rule paths", 2) end
        for i, path in ipairs(value) do
          if type(path) ~= "string" then error("run(): options.rules[" .. i .. "] must be a string", 2) end
        end
      else
        error("run(): unknown option '" .. tostring(key) .. "' (options are config and rules)", 2)
      end
    end
  end
  pending = {event = event, options = options, line = locate()}
  return coroutine.yield(RUN)
end

-- assert_eq(got, want [, message]): deep equality.
function globals.assert_eq(got, want, message)
  if not equal(got, want, false, 0) then
    raise("assert_eq", {kind = "eq", got = plain(got), want = plain(want)}, message)
  end
  return got
end

-- assert_match(got, want [, message]): every field of want is in got with a matching value.
function globals.assert_match(got, want, message)
  if not equal(got, want, true, 0) then
    raise("assert_match", {kind = "match", got = plain(got), want = plain(want)}, message)
  end
  return got
end

-- assert_sent(outcome [, event [, message]]): sent, and with a track call of that Pinterest
-- event (or a call of that function: "set" for an identify).
function globals.assert_sent(out, event, message)
  check_outcome(out, "assert_sent")
  if out.status == "sent" and (event == nil or find_call(out, event) ~= nil) then return out end
  raise("assert_sent", {kind = "status", want_status = "sent", want_event = event, outcome = summary(out)}, message)
end

-- assert_dropped(outcome [, reason [, message]]): dropped, with a reason containing `reason`.
function globals.assert_dropped(out, reason, message)
  check_outcome(out, "assert_dropped")
  if out.status == "dropped" then
    if reason == nil or string.find(tostring(out.reason or ""), tostring(reason), 1, true) then return out end
    raise("assert_dropped", {kind = "substring", path = "reason", got = out.reason, want = tostring(reason)}, message)
  end
  raise("assert_dropped", {kind = "status", want_status = "dropped", outcome = summary(out)}, message)
end

-- assert_error(outcome [, text [, message]]): the rules failed, with `text` in the error.
function globals.assert_error(out, text, message)
  check_outcome(out, "assert_error")
  if out.status == "error" then
    local err = out.error or {}
    local whole = tostring(err.kind or "") .. ": " .. tostring(err.message or "")
    if text == nil or string.find(whole, tostring(text), 1, true) then return out end
    raise("assert_error", {kind = "substring", path = "error", got = whole, want = tostring(text)}, message)
  end
  raise("assert_error", {kind = "status", want_status = "error", outcome = summary(out)}, message)
end

-- assert_track(outcome [, event [, data [, message]]]): the first track call (of that event),
-- whose data contains `data`; returns the call ({fn, event, data}).
function globals.assert_track(out, event, data, message)
  check_outcome(out, "assert_track")
  local call = out.status == "sent" and find_call(out, event or nil) or nil
  if call == nil or call.fn ~= "track" then
    raise("assert_track", {kind = "status", want_status = event and "sent" or "a track call", want_event = event,
                           outcome = summary(out)}, message)
  end
  if data ~= nil and not equal(call.data, data, true, 0) then
    raise("assert_track", {kind = "match", path = "data", got = plain(call.data), want = plain(data)}, message)
  end
  return call
end

-- fail(message): fails the test.
function globals.fail(message)
  raise("fail", {kind = "message"}, message == nil and "failed" or message)
end

-- Event builders: a messageId unique within the test (test-1, test-2, ...).
local function next_id()
  counter = counter + 1
  return "test-" .. counter
end

function globals.track_event(name, properties, fields)
  local event = {type = "track", event = name, messageId = next_id(), properties = properties or {}}
  for k, v in pairs(fields or {}) do event[k] = v end
  return event
end

function globals.page_event(name, properties, fields)
  local event = {type = "page", name = name, messageId = next_id(), properties = properties or {}}
  for k, v in pairs(fields or {}) do event[k] = v end
  return event
end

function globals.identify_event(traits, fields)
  local event = {type = "identify", messageId = next_id(), context = {traits = traits or {}}}
  for k, v in pairs(fields or {}) do event[k] = v end
  return event
end

local D = {}

local function step(ok, value)
  if not ok then
    current, pending = nil, nil
    if type(value) == "table" and failures[value] then return {state = "fail", failure = plain(value)} end
    if type(value) == "string" then return {state = "error", message = value} end
    return {state = "error", message = "error object is a " .. type(value) .. " value", value = plain(value)}
  end
  if coroutine.status(current) == "dead" then
    current, pending = nil, nil
    return {state = "pass"}
  end
  if value == RUN and pending ~= nil then
    local request = pending
    pending = nil
    return {state = "run", event = request.event, options = request.options, line = request.line}
  end
  current, pending = nil, nil
  return {state = "error", message = "the test yielded outside run(); coroutine.yield in a test body is reserved for run()"}
end

function D.list()
  local list = array()
  for i, entry in ipairs(entries) do list[i] = {name = entry.name, line = entry.line} end
  return list
end

function D.start(index)
  local entry = entries[index]
  if entry == nil then return {state = "error", message = "no test number " .. tostring(index)} end
  -- messageIds restart with every test, so that a test sees the same events whichever tests
  -- ran before it (--filter).
  counter = 0
  current = coroutine.create(entry.fn)
  return step(coroutine.resume(current))
end

function D.resume(outcome)
  if current == nil then return {state = "error", message = "no test is running"} end
  return step(coroutine.resume(current, outcome))
end

-- The lines printed since the last call.
function D.output()
  local lines = output
  output = array()
  return lines
end

function D.abort()
  current, pending = nil, nil
end

return D
"""#
}
