---@meta pinrules
-- lua-language-server annotations for PinRules rules and rule tests: completion and type
-- hints for the rule contract (docs/rules.md) and the test API (docs/testing.md).
-- Nothing here runs: rule loading takes only the *.lua files directly in a rules folder, never
-- this subfolder, and rules/.luarc.json points the language server at it.
--
-- In a rule file, annotate the returned table to get hints for the hooks:
--   ---@type PinRules.Rule
--   return { before = function(event, ctx) ... end }

-- ---------------------------------------------------------------------------------------------
-- Values

---JSON `null`: a value of its own, unlike `nil` (which means "absent").
---@type PinRules.Null
null = nil

---@class PinRules.Null

---Marks a table as a JSON array (an empty `{}` would cross as an object).
---@generic T: table
---@param t? T
---@return T
function array(t) end

---Marks a table as a JSON object.
---@generic T: table
---@param t? T
---@return T
function object(t) end

---What the bridge makes of a value; nil for values that cannot become JSON (functions).
---@param value any
---@return "null"|"boolean"|"integer"|"float"|"string"|"array"|"object"|nil
function jsontype(value) end

-- ---------------------------------------------------------------------------------------------
-- Rules

---A RudderStack event as before-hooks see it (and change it).
---@class PinRules.Event
---@field type "track"|"page"|"identify"|string
---@field event? string The track event name.
---@field name? string The page name.
---@field category? string The page category.
---@field messageId? string
---@field anonymousId? string
---@field userId? string
---@field properties? table<string, any>
---@field traits? table<string, any>
---@field context? PinRules.EventContext
---@field [string] any

---@class PinRules.EventContext
---@field traits? table<string, any>
---@field page? {path?: string, url?: string, referrer?: string, title?: string, search?: string}
---@field library? {name?: string, version?: string}
---@field userAgent? string
---@field locale? string
---@field [string] any

---A pintrk call as after-hooks see it; change its fields to rename or adjust it.
---@class PinRules.Call
---@field fn "set"|"track"|"page"|"load"
---@field event? string The Pinterest event of a track call (Checkout, Lead, PageVisit, ...).
---@field data? table<string, any> The call's object argument.
---@field tagId? string The tag of a load call.

---The destination config (read-only in rules).
---@class PinRules.Config
---@field tagId? string
---@field enhancedMatch? boolean
---@field eventsMapping? {from: string, to: string}[]
---@field customProperties? {properties: string}[]
---@field sendAsCustomEvent? boolean
---@field deduplicationKey? string
---@field [string] any

---What a hook gets besides the event: read-only.
---@class PinRules.Context
---@field rule string The rule's name.
---@field config PinRules.Config
---@field now integer The run's fixed timestamp (seconds since 1970); os.time() returns it too.
---@field log fun(...: any) Adds a line to the outcome's logs.

---What drop(reason) returns; return it from a hook.
---@class PinRules.Drop
---@field reason string

---Suppresses the event (from `before`) or the call (from `after`; a dropped track takes its
---limited-data `set` with it).
---@param reason? string
---@return PinRules.Drop
function drop(reason) end

---A rule file returns one of these.
---@class PinRules.Rule
---@field name? string Defaults to the file name.
---@field on_error? "dead-letter"|"pass"|"drop" What a failure of this rule does to the event.
---@field before? fun(event: PinRules.Event, ctx: PinRules.Context): PinRules.Event|PinRules.Drop|nil
---@field after? fun(call: PinRules.Call, event: PinRules.Event, ctx: PinRules.Context): PinRules.Call|PinRules.Call[]|PinRules.Drop|nil

-- ---------------------------------------------------------------------------------------------
-- Tests (*_test.lua)

---What run(event) returns.
---@class PinRules.Outcome
---@field status "sent"|"dropped"|"skipped"|"error"|"invalid"
---@field pintrk any[][] The calls as the output line shows them: {{"set", {...}}, {"track", "Lead", {...}}}.
---@field calls PinRules.Call[] The same calls as tables: {fn = "track", event = "Lead", data = {...}}.
---@field track? PinRules.Call The first track call.
---@field reason? string Why it was dropped or skipped.
---@field rule? string The rule that dropped it.
---@field error? {kind: string, message: string, rule?: string, line?: integer, limit?: string}
---@field warnings string[]
---@field logs string[] What rules wrote with ctx.log, prefixed with the rule's name.
---@field trace string[] What each rule did: 'x.lua: renamed event "A" → "B"'.
---@field usage {instructions: integer, memory: integer, time_ms: number} What the rules used.

---@class PinRules.RunOptions
---@field config? PinRules.Config Map with this config instead of the suite's.
---@field rules? string[] Map with these rule files (relative to the test file) instead of the suite's.

---Declares a test. Tests run in declaration order, each with the same clock and random seed.
---@param name string
---@param fn fun()
function test(name, fn) end

---Maps one event through the suite's rules (before-rules, mapping, after-rules).
---A rule that breaches a limit fails the test.
---@param event PinRules.Event|table
---@param options? PinRules.RunOptions
---@return PinRules.Outcome
function run(event, options) end

---Deep equality; on failure, a field-level diff (1-based indexes). Returns `got`.
---@generic T
---@param got T
---@param want any
---@param message? string
---@return T
function assert_eq(got, want, message) end

---Every field of `want` is in `got` with a matching value; `null` in `want` means absent.
---@generic T
---@param got T
---@param want any
---@param message? string
---@return T
function assert_match(got, want, message) end

---The outcome is `sent`; with `event`, it has a track call of that Pinterest event (or a call
---of that function, e.g. "set" for an identify).
---@param outcome PinRules.Outcome
---@param event? string
---@param message? string
---@return PinRules.Outcome
function assert_sent(outcome, event, message) end

---The outcome is `dropped`, with `reason` in its reason when given.
---@param outcome PinRules.Outcome
---@param reason? string
---@param message? string
---@return PinRules.Outcome
function assert_dropped(outcome, reason, message) end

---The outcome is `error`, with `text` in "kind: message" when given.
---@param outcome PinRules.Outcome
---@param text? string
---@param message? string
---@return PinRules.Outcome
function assert_error(outcome, text, message) end

---The first track call (of `event` when given) exists and its data contains `data`.
---@param outcome PinRules.Outcome
---@param event? string
---@param data? table
---@param message? string
---@return PinRules.Call
function assert_track(outcome, event, data, message) end

---Fails the test.
---@param message? string
function fail(message) end

---In a test: adds a line to the test's output, shown with its result.
---@param ... any
function print(...) end

---A track event with a fresh messageId ("test-1", "test-2", ...; restarting with each test).
---@param name string
---@param properties? table
---@param fields? table Other top-level fields (anonymousId, context, ...).
---@return PinRules.Event
function track_event(name, properties, fields) end

---A page event with a fresh messageId.
---@param name? string
---@param properties? table
---@param fields? table
---@return PinRules.Event
function page_event(name, properties, fields) end

---An identify event with `context.traits` and a fresh messageId.
---@param traits? table
---@param fields? table
---@return PinRules.Event
function identify_event(traits, fields) end
