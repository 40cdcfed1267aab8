import XCTest
import LuaSandbox
import PinJSON
import PinterestTag
@testable import PinRules

/// The rule contract of issue 4, one part per test, through the public engine API.
final class PipelineTests: XCTestCase {
    static let config: JSONValue = [
        "tagId": "2612345678901",
        "eventsMapping": [["from": "Lead Generated", "to": "Lead"]],
    ]
    static let ldp: JSONValue = ["set", ["opt_out_type": "", "st": "", "country": ""]]

    func session(_ rules: [String], config: JSONValue = PipelineTests.config, options: EngineOptions = EngineOptions(timestamp: 1_700_000_000)) throws -> MappingSession {
        let sources = rules.enumerated().map { index, source in
            RuleSource(fileName: "\(index + 1)0_rule.lua", source: source)
        }
        return try PinRulesEngine(configJSON: config, rules: sources, options: options).makeSession()
    }

    func track(_ name: String, id: String = "m1", properties: JSONValue = [:]) -> JSONValue {
        ["type": "track", "event": .string(name), "messageId": .string(id), "properties": properties]
    }

    func pintrk(_ outcome: Outcome) -> JSONValue { outcome.json["pintrk"] ?? .null }

    func testRenameBeforeMapping() throws {
        let session = try session([#"""
            return { before = function(event)
              if event.event == "Newsletter Subscribed" then event.event = "Lead Generated" end
            end }
            """#])
        let outcome = session.map(event: track("Newsletter Subscribed"))
        XCTAssertEqual(outcome.status, .sent)
        XCTAssertEqual(pintrk(outcome), [Self.ldp, ["track", "Lead", ["line_items": [[:]], "event_id": "m1"]]])
        XCTAssertEqual(outcome.trace, [#"10_rule.lua: renamed event "Newsletter Subscribed" → "Lead Generated""#])
    }

    func testAddPropertyAfterMapping() throws {
        let session = try session([#"""
            return { after = function(call)
              if call.fn == "track" then call.data.lead_type = "newsletter" end
            end }
            """#])
        let outcome = session.map(event: track("Lead Generated"))
        XCTAssertEqual(pintrk(outcome), [Self.ldp, ["track", "Lead", ["line_items": [[:]], "event_id": "m1", "lead_type": "newsletter"]]])
        // The mapping's key order is kept; the added key follows.
        XCTAssertEqual(JSONWriter.string(pintrk(outcome)),
                       #"[["set",{"opt_out_type":"","st":"","country":""}],["track","Lead",{"line_items":[{}],"event_id":"m1","lead_type":"newsletter"}]]"#)
    }

    func testDropInBefore() throws {
        let session = try session([#"return { before = function(e) if e.event == "Internal Ping" then return drop("internal traffic") end end }"#])
        let outcome = session.map(event: track("Internal Ping"))
        XCTAssertEqual(outcome.status, .dropped)
        XCTAssertEqual(outcome.reason, "internal traffic")
        XCTAssertEqual(outcome.rule, "10_rule.lua")
        XCTAssertEqual(session.map(event: track("Other")).status, .sent)
    }

    func testDropInAfterTakesTheLimitedDataSetAlong() throws {
        let config: JSONValue = ["tagId": "1234567890", "eventsMapping": [["from": "Both", "to": "Lead"], ["from": "Both", "to": "Signup"]]]
        let session = try session([#"return { after = function(call) if call.event == "Signup" then return drop("no signups") end end }"#], config: config)
        let outcome = session.map(event: track("Both"))
        XCTAssertEqual(outcome.status, .sent)
        XCTAssertEqual(pintrk(outcome), [Self.ldp, ["track", "Lead", ["line_items": [[:]], "event_id": "m1"]]])

        let dropAll = try self.session([#"return { after = function(call) if call.fn == "track" then return drop("all gone") end end }"#])
        let dropped = dropAll.map(event: track("Lead Generated"))
        XCTAssertEqual(dropped.status, .dropped)
        XCTAssertEqual(dropped.reason, "all gone")
        XCTAssertEqual(dropped.rule, "10_rule.lua")
    }

    func testReplaceTheEvent() throws {
        let session = try session([#"""
            return { before = function(e)
              return { type = "track", event = "Lead Generated", messageId = e.messageId, properties = object() }
            end }
            """#])
        let outcome = session.map(event: ["type": "page", "messageId": "m9", "name": "Home"])
        XCTAssertEqual(pintrk(outcome), [Self.ldp, ["track", "Lead", ["line_items": [[:]], "event_id": "m9"]]])
    }

    func testFanOut() throws {
        let session = try session([#"""
            return { after = function(call)
              if call.fn == "track" then
                return { call, { fn = "track", event = "Custom", data = { event_id = call.data.event_id } } }
              end
            end }
            """#])
        let outcome = session.map(event: track("Lead Generated"))
        XCTAssertEqual(pintrk(outcome), [Self.ldp, ["track", "Lead", ["line_items": [[:]], "event_id": "m1"]], ["track", "Custom", ["event_id": "m1"]]])
    }

    func testRulesRunInOrderAndADropStopsTheChain() throws {
        let session = try session([
            #"return { before = function(e) e.properties.seen = "first" end }"#,
            #"return { before = function(e) e.properties.seen = e.properties.seen .. ",second"; if e.event == "X" then return drop("x") end end }"#,
            #"return { before = function(e) e.properties.seen = e.properties.seen .. ",third" end, after = function(c) if c.fn == "track" then c.data.property = "p" end end }"#,
        ], config: ["tagId": "1234567890", "customProperties": [["properties": "seen"]]])
        let outcome = session.map(event: track("Lead"))
        XCTAssertEqual(outcome.calls.last?.data?["seen"], "first,second,third")
        let dropped = session.map(event: track("X"))
        XCTAssertEqual(dropped.status, .dropped)
        XCTAssertEqual(dropped.rule, "20_rule.lua")
    }

    func testErrorPolicies() throws {
        let failing = #"error("boom")"#
        let deadLetter = try session(["return { before = function(e) e.event = 'changed'; \(failing) end }"])
        let error = deadLetter.map(event: track("Lead Generated"))
        XCTAssertEqual(error.status, .error)
        XCTAssertEqual(error.failure?.kind, "runtime")
        XCTAssertEqual(error.failure?.message, "boom")
        XCTAssertEqual(error.failure?.rule, "10_rule.lua")
        XCTAssertEqual(error.failure?.line, 1)
        XCTAssertEqual(error.event, track("Lead Generated"), "the original event is kept")

        let pass = try session(["return { on_error = 'pass', before = function(e) e.event = 'changed'; \(failing) end }"])
        let passed = pass.map(event: track("Lead Generated"))
        XCTAssertEqual(passed.status, .sent)
        XCTAssertEqual(passed.calls.last?.event, "Lead", "the failing rule's changes do not apply")
        XCTAssertEqual(passed.warnings.count, 1)

        let drop = try session(["return { on_error = 'drop', after = function(c) \(failing) end }"])
        let dropped = drop.map(event: track("Lead Generated"))
        XCTAssertEqual(dropped.status, .dropped)
        XCTAssertEqual(dropped.rule, "10_rule.lua")
        XCTAssertTrue(dropped.reason?.contains("boom") ?? false)
    }

    func testChangesAreTransactional() throws {
        // The first rule completes; the second changes the event and then fails with `pass`:
        // only the first rule's change survives.
        let session = try session([
            #"return { before = function(e) e.properties.a = 1 end }"#,
            #"return { on_error = "pass", before = function(e) e.properties.b = 2; error("late") end }"#,
        ], config: ["tagId": "1234567890", "customProperties": [["properties": "a"], ["properties": "b"]]])
        let outcome = session.map(event: track("Lead Generated"))
        XCTAssertEqual(outcome.calls.last?.data?["a"], "1")
        XCTAssertNil(outcome.calls.last?.data?["b"])
    }

    func testContextIsReadOnlyAndCarriesConfigNameTimestampAndLog() throws {
        let session = try session([#"""
            return { name = "ctx-reader", before = function(e, ctx)
              ctx.log("rule", ctx.rule, "tag", ctx.config.tagId, "now", ctx.now)
              e.properties.rule = ctx.rule
              if e.event == "write" then ctx.rule = "other" end
            end }
            """#])
        let outcome = session.map(event: track("Lead Generated"))
        XCTAssertEqual(outcome.logs, ["ctx-reader: rule ctx-reader tag 2612345678901 now 1700000000"])
        let failed = session.map(event: track("write"))
        XCTAssertEqual(failed.status, .error)
        XCTAssertEqual(failed.failure?.kind, "forbidden")
        XCTAssertEqual(failed.failure?.rule, "ctx-reader")
    }

    func testOsTimeIsTheRunTimestamp() throws {
        let session = try session([#"return { before = function(e) e.properties.value = os.time() end }"#])
        XCTAssertEqual(session.map(event: track("Lead Generated")).calls.last?.data?["value"], 1_700_000_000)
    }

    func testNullAndEmptyContainersSurviveRules() throws {
        let session = try session([#"return { before = function(e) e.properties.promo_code = null; e.properties.coupon = nil end }"#],
                                  config: ["tagId": "1234567890"])
        let outcome = session.map(event: track("Lead Generated", properties: ["coupon": "x", "currency": "USD"]))
        XCTAssertEqual(outcome.calls.last?.data?["promo_code"], .null)
        XCTAssertNil(outcome.calls.last?.data?["coupon"])
    }

    func testContractViolationsAreErrors() throws {
        let session = try session([#"return { before = function(e) return 42 end }"#])
        let outcome = session.map(event: track("Lead Generated"))
        XCTAssertEqual(outcome.status, .error)
        XCTAssertEqual(outcome.failure?.kind, "contract")

        let badCall = try self.session([#"return { after = function(c) return { fn = "jump" } end }"#])
        XCTAssertEqual(badCall.map(event: track("Lead Generated")).failure?.kind, "contract")
    }

    func testHostileRulesEndInErrorOutcomesAndTheNextEventMaps() throws {
        let options = EngineOptions(limits: SandboxLimits(memoryBytes: 64 << 20, instructions: 5_000_000, deadline: .milliseconds(500)), timestamp: 0)
        let hostile: [(String, String)] = [
            ("while true do end", "limit"),
            ("local t = {} for i = 1, 1e9 do t[i] = i end", "limit"),
            ("return io.open('/etc/passwd')", "forbidden"),
            ("return os.execute('true')", "forbidden"),
            ("local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x", "runtime"),
            ("local t = {}; t.self = t; e.properties = t", "bad_return"),
        ]
        for (body, kind) in hostile {
            let session = try self.session(["return { before = function(e) if e.event == 'bad' then \(body) end end }"], options: options)
            let outcome = session.map(event: track("bad"))
            XCTAssertEqual(outcome.status, .error, body)
            XCTAssertEqual(outcome.failure?.kind, kind, body)
            XCTAssertEqual(session.map(event: track("Lead Generated")).status, .sent, "after: \(body)")
        }
    }

    func testRuleLoadErrorsNameTheFile() {
        XCTAssertThrowsError(try session(["return { before = function(e) e.x = end }"])) { error in
            guard case EngineError.ruleSyntax(let path, let line, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "10_rule.lua")
            XCTAssertEqual(line, 1)
        }
        XCTAssertThrowsError(try session(["return 42"])) { error in
            guard case EngineError.ruleLoad(let path, _, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "10_rule.lua")
            XCTAssertTrue(message.contains("must return a table"), message)
        }
        XCTAssertThrowsError(try session(["return { on_error = 'explode' }"]))
        XCTAssertThrowsError(try session([], config: ["tagId": "12ab"])) { error in
            guard case EngineError.config(_, let key, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "tagId")
        }
    }

    func testMappingOutcomesWithoutRules() throws {
        let session = try session([])
        XCTAssertEqual(session.map(event: ["type": "group", "messageId": "g"]).status, .skipped)
        XCTAssertEqual(session.map(event: ["type": "identify", "messageId": "i"]).status, .dropped)
        XCTAssertEqual(session.map(event: track("")).status, .dropped)
        let broken = session.map(event: track("Order Completed", properties: ["products": "oops"]))
        XCTAssertEqual(broken.status, .error)
        XCTAssertEqual(broken.failure?.kind, "mapping")
    }
    /// Lines are parsed into tapes and rules give tapes back; events given as values take the
    /// value path. Both must give the same outcomes, whatever the rules do.
    func testLinesAndValuesGiveTheSameOutcomes() throws {
        let rules = [
            #"return { before = function(e) if e.event == "Drop Me" then return drop("dropped") end end }"#,
            #"return { before = function(e) if type(e.properties) == "table" then e.properties.extra = {b = 1, a = array({1})}; e.properties.zz = null end end }"#,
            #"return { before = function(e) if e.event == "Replace Me" then return {type = "track", event = "Lead Generated", messageId = e.messageId, properties = e.properties} end end }"#,
            #"return { before = function(e) if e.event == "Fail Me" then error("boom") end; e.event = e.event and (e.event .. "") end }"#,
            #"return { name = "after", after = function(call, event) if call.fn == "track" then call.data.seen = event.messageId end end }"#,
        ]
        let session = try session(rules)
        var lines: [String] = []
        for (index, name) in ["Product Added", "Drop Me", "Replace Me", "Fail Me", "Lead Generated", "Order Completed"].enumerated() {
            let properties: JSONValue = ["revenue": 12.5, "products": [["sku": .string("s\(index)"), "price": 3, "name": "é\u{301}"]], "nested": ["k": [1, 2.0, nil]]]
            lines.append(JSONWriter.string(track(name, id: "m\(index)", properties: properties)))
        }
        lines += [
            #"{"type":"page","name":"Home","messageId":"p1","context":{"traits":{"email":"a@b.c","optOutType":"LDP","state":"CA"}}}"#,
            #"{"type":"identify","messageId":"i1","context":{"traits":{"email":"a@b.c"}}}"#,
            #"{"type":"track","event":"Product Added","messageId":"d1","properties":{"a":1,"a":{"b":2}}}"#,
            #"{"type":"alias","messageId":"x1"}"#,
            #"{"type":"track","event":7,"messageId":"x2"}"#,
        ]
        for (index, line) in lines.enumerated() {
            let fromLine = session.map(line: Array(line.utf8), lineNumber: index + 1)
            let fromValue = session.map(event: try JSONParser().parse(line), line: index + 1)
            XCTAssertEqual(fromLine, fromValue, line)
            XCTAssertEqual(JSONWriter.string(fromLine.json), JSONWriter.string(fromValue.json), line)
        }
        // The stream's sessions record no trace; everything else, the written line first, is
        // the same.
        let untraced = try self.session(rules)
        untraced.recordsTrace = false
        var traces = 0
        for (index, line) in lines.enumerated() {
            let traced = session.map(line: Array(line.utf8), lineNumber: index + 1)
            var outcome = untraced.map(line: Array(line.utf8), lineNumber: index + 1)
            XCTAssertEqual(outcome.trace, [], line)
            traces += traced.trace.count
            var written = JSONWriter(), expected = JSONWriter()
            outcome.write(to: &written)
            traced.write(to: &expected)
            XCTAssertEqual(written.bytes, expected.bytes, line)
            outcome.trace = traced.trace
            XCTAssertEqual(outcome, traced, line)
        }
        XCTAssertGreaterThan(traces, 2)
    }
}

/// The streaming writer gives the same bytes as the outcome's JSON value.
final class OutcomeWriterTests: XCTestCase {
    func testWriteMatchesJSON() throws {
        let session = try PinRulesEngine(configJSON: ["tagId": "2612345678901"], rules: [
            RuleSource(fileName: "r.lua", source: #"return { before = function(e) ctx = nil; if e.event == "boom" then error("x") end; if e.event == "drop" then return drop("d") end end }"#),
        ]).makeSession()
        let lines = [
            #"{"type":"track","event":"Order Completed","messageId":"m1","properties":{"revenue":2.5,"products":[{"sku":"a\"b"}]}}"#,
            #"{"type":"track","event":"boom","messageId":7}"#,
            #"{"type":"track","event":"drop","messageId":"m3"}"#,
            #"{"type":"group","messageId":"m4"}"#,
            "not json \u{1}",
            #"{"type":"identify","messageId":"m6","context":{"traits":{"email":"a@b.com"}}}"#,
        ]
        for (index, line) in lines.enumerated() {
            let outcome = session.map(line: Array(line.utf8), lineNumber: index + 1)
            var writer = JSONWriter()
            outcome.write(to: &writer)
            XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), JSONWriter.string(outcome.json), line)
        }
    }

    /// The mapping's calls go out as it wrote them (compact); set as values (as after-rules and
    /// callers do), the same outcome writes the same bytes.
    func testCallsWriteTheSameKeptEitherWay() throws {
        let session = try PinRulesEngine(configJSON: ["tagId": "2612345678901", "customProperties": [["properties": "a.b"]],
                                                      "eventsMapping": [["from": "Twice", "to": "Lead"], ["from": "Twice", "to": "Custom"]]], rules: []).makeSession()
        let lines = [
            #"{"type":"track","event":"Order Completed","messageId":"m1","properties":{"revenue":2.5,"value":null,"a":{"b":[1]},"products":[{"sku":"a\"b","price":1e2},7]}}"#,
            #"{"type":"track","event":"Twice","messageId":"m2","context":{"traits":{"optOutType":"LDP","state":"CA","country":5}}}"#,
            #"{"type":"page","name":"Home","category":"Shoes","messageId":"m3","properties":{"a":{"b":"é"}}}"#,
            #"{"type":"identify","messageId":"m4","context":{"traits":{"email":"a@b.com"}}}"#,
        ]
        for (index, line) in lines.enumerated() {
            let outcome = session.map(line: Array(line.utf8), lineNumber: index + 1)
            XCTAssertEqual(outcome.status, .sent, line)
            var asValues = outcome
            asValues.calls = outcome.calls
            XCTAssertEqual(asValues, outcome)
            var compact = JSONWriter(), values = JSONWriter()
            outcome.write(to: &compact)
            asValues.write(to: &values)
            XCTAssertEqual(String(decoding: compact.bytes, as: UTF8.self), String(decoding: values.bytes, as: UTF8.self), line)
            XCTAssertEqual(outcome.json, asValues.json)
        }
    }
}
