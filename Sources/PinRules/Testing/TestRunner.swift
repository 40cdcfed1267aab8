import Foundation
public import LuaSandbox
public import PinJSON
import PinterestTag

/// How `pinrules test` runs suites.
public struct TestOptions: Sendable, Equatable {
    /// 2025-01-01T00:00:00Z: `ctx.now` and `os.time()` in every rule and test.
    public static let defaultTimestamp: Int64 = 1_735_689_600

    /// Limits of every hook call and of the test code of each Lua test (summed over the test).
    public var limits: SandboxLimits
    /// Only cases whose name or suite path contains this text run.
    public var filter: String?
    /// Record which rule lines run.
    public var coverage: Bool
    /// The fixed clock of rules and tests.
    public var timestamp: Int64
    /// The seed of `math.random`, reset for every case.
    public var randomSeed: Int64
    /// Instructions between limit checks in the rules' sandbox: instruction counts in
    /// reports and `max_instructions` are exact to this step.
    public var hookInterval: Int

    public init(limits: SandboxLimits = .default, filter: String? = nil, coverage: Bool = false,
                timestamp: Int64 = TestOptions.defaultTimestamp, randomSeed: Int64 = 1, hookInterval: Int = 10) {
        self.limits = limits
        self.filter = filter
        self.coverage = coverage
        self.timestamp = timestamp
        self.randomSeed = randomSeed
        self.hookInterval = hookInterval
    }
}

/// Runs rule test suites: declarative `*.cases.json` files and Lua `*_test.lua` files.
///
/// Every case maps its events with a fresh `MappingSession` (fixed clock, seeded random), so
/// cases do not see each other's rule state and run the same in any order or selection. A Lua
/// test file runs in a sandbox of its own, separate from the rules, with the same limits; see
/// `TestDriver` for how `run(event)` reaches the Swift pipeline.
///
/// Not `Sendable`: one runner per thread.
public final class TestRunner {
    public let options: TestOptions
    /// Engines by config and rule paths: suites that share them share the loading work.
    private var engines: [String: PinRulesEngine] = [:]
    private var covered: [String: Set<Int>] = [:]
    private var ruleTexts: [String: String] = [:]
    /// At most this many `run()` calls per Lua test: each call gets a fresh budget of rule
    /// limits, so a test looping over run() would otherwise never stop.
    static let maxRunsPerTest = 10_000

    public init(options: TestOptions = TestOptions()) {
        self.options = options
    }

    /// Discovers and runs every suite under `paths`.
    public func run(paths: [String]) -> TestReport {
        let (suites, errors) = TestDiscovery.discover(paths: paths)
        let results = suites.map { run(suite: $0) }
        return TestReport(suites: results, discoveryErrors: errors, coverage: options.coverage ? coverageReport() : nil)
    }

    /// Runs one suite file.
    public func run(suite: TestSuiteFile) -> TestSuiteResult {
        let start = ContinuousClock.now
        var result: TestSuiteResult
        switch suite.kind {
        case .cases: result = runDeclarative(suite)
        case .lua: result = runLua(suite)
        }
        result.nanoseconds = nanoseconds(since: start)
        return result
    }

    /// Line coverage so far, per rule file loaded by any suite, in path order.
    public func coverageReport() -> [RuleCoverage] {
        ruleTexts.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { path in
            let executed = covered[path] ?? []
            let heuristic = Set(CoverageLines.executable(ruleTexts[path] ?? ""))
            let executable = heuristic.union(executed)
            return RuleCoverage(path: path, executableLines: executable.sorted(), executedLines: executed.sorted(),
                                missedLines: heuristic.subtracting(executed).sorted())
        }
    }

    private func selected(_ name: String, suite: String) -> Bool {
        guard let filter = options.filter, !filter.isEmpty else { return true }
        return name.contains(filter) || suite.contains(filter)
    }

    // MARK: engines

    private var engineOptions: EngineOptions {
        var engineOptions = EngineOptions(limits: options.limits, timestamp: options.timestamp,
                                          randomSeed: options.randomSeed, hookInterval: options.hookInterval)
        engineOptions.recordsLineCoverage = options.coverage
        return engineOptions
    }

    /// The engine for a config and rule paths, built once.
    func engine(config: ConfigChoice, rulePaths: [String], suite: String) throws(TestLoadError) -> PinRulesEngine {
        let key = JSONWriter.string(config.json) + "\u{0}" + rulePaths.joined(separator: "\u{0}")
        if let engine = engines[key] { return engine }
        let rules: [RuleSource]
        do {
            rules = try RuleSource.load(paths: rulePaths)
        } catch {
            throw Self.loadError(error, suite: suite, config: config)
        }
        let engine: PinRulesEngine
        do {
            engine = try PinRulesEngine(configJSON: config.json, rules: rules, options: engineOptions)
        } catch {
            throw Self.loadError(error, suite: suite, config: config)
        }
        for rule in rules where ruleTexts[rule.path] == nil { ruleTexts[rule.path] = rule.source }
        engines[key] = engine
        return engine
    }

    static func loadError(_ error: EngineError, suite: String, config: ConfigChoice) -> TestLoadError {
        switch error {
        case .config(_, let key, let message):
            return TestLoadError(file: config.file ?? suite, line: config.file == nil ? config.line : nil,
                                 message: "config: " + (key.map { "\($0): " } ?? "") + message)
        case .ruleFile(let path, let message):
            return TestLoadError(file: suite, message: "rule \(path): \(message)")
        case .ruleSyntax(let path, let line, let column, let message):
            return TestLoadError(file: path, line: line, column: column, message: "syntax error: \(message)")
        case .ruleLoad(let path, let line, let message):
            return TestLoadError(file: path, line: line, message: message)
        case .sandbox(let message):
            return TestLoadError(file: suite, message: "sandbox: \(message)")
        }
    }

    private func collectCoverage(_ session: MappingSession) {
        guard options.coverage else { return }
        for (path, lines) in session.coveredLines() { covered[path, default: []].formUnion(lines) }
    }

    // MARK: declarative suites

    private func runDeclarative(_ file: TestSuiteFile) -> TestSuiteResult {
        let suite: DeclarativeSuite
        let engine: PinRulesEngine
        do {
            suite = try DeclarativeSuite.load(file.path)
            engine = try self.engine(config: suite.setup.config, rulePaths: suite.setup.rulePaths, suite: file.path)
        } catch {
            return TestSuiteResult(path: file.path, kind: .cases, loadError: error)
        }
        var results: [TestCaseResult] = []
        for testCase in suite.cases where selected(testCase.name, suite: file.path) {
            results.append(runCase(testCase, suite: suite, path: file.path, engine: engine))
        }
        return TestSuiteResult(path: file.path, kind: .cases, cases: results)
    }

    private func runCase(_ testCase: DeclarativeCase, suite: DeclarativeSuite, path: String, engine suiteEngine: PinRulesEngine) -> TestCaseResult {
        let start = ContinuousClock.now
        var result = TestCaseResult(name: testCase.name, line: testCase.line, status: .failed)
        let session: MappingSession
        do {
            var engine = suiteEngine
            if let config = testCase.config {
                engine = try self.engine(config: ConfigChoice(json: config, file: nil), rulePaths: suite.setup.rulePaths, suite: path)
            }
            session = try engine.makeSession()
        } catch {
            result.failure = ["cannot set up the case: \(error)"]
            return result
        }
        let outcome = session.map(event: testCase.event)
        result.usage.add(session.lastEventUsage)
        collectCoverage(session)
        let json = TestOutcome.json(outcome, usage: session.lastEventUsage)
        result.failure = Self.evaluate(testCase.expect, outcome: json, usage: result.usage)
        result.status = result.failure.isEmpty ? .passed : .failed
        result.context = EventTerms.story(json)
        result.nanoseconds = nanoseconds(since: start)
        return result
    }

    /// The failure lines of a declarative expectation; empty when it holds.
    static func evaluate(_ expect: CaseExpectation, outcome: JSONValue, usage: TestUsage) -> [String] {
        var lines: [String] = []
        let status = outcome["status"]?.stringValue ?? ""
        if let maxInstructions = expect.maxInstructions, usage.instructions > maxInstructions {
            lines.append("instructions: used \(groupedDigits(usage.instructions)), more than max_instructions \(groupedDigits(maxInstructions))")
        }
        if let want = expect.effectiveStatus, want.rawValue != status {
            var wantEvent = expect.track?["event"]?.stringValue
            if wantEvent == nil, case .array(let calls)? = expect.pintrk {
                wantEvent = calls.lazy.compactMap { call -> String? in
                    guard let parts = call.arrayValue, parts.first?.stringValue == "track", parts.count > 1 else { return nil }
                    return parts[1].stringValue
                }.first
            }
            // Field checks after a status difference would only restate it.
            return [EventTerms.mismatch(wantStatus: want.rawValue, wantEvent: want == .sent ? wantEvent : nil, outcome: outcome)] + lines
        }
        if let pintrk = expect.pintrk {
            lines += ValueDiff.differences(got: outcome["pintrk"] ?? .array([]), want: pintrk, path: "pintrk").map(\.description)
        }
        if let reason = expect.reason {
            let got = outcome["reason"]?.stringValue
            if !(got ?? "").contains(reason) || got == nil {
                lines.append("reason: got \(got.map { ValueDiff.render(.string($0)) } ?? "nothing"), want a reason containing \(ValueDiff.render(.string(reason)))")
            }
        }
        if let rule = expect.rule, outcome["rule"]?.stringValue != rule {
            lines.append(ValueDifference(path: "rule", got: outcome["rule"], want: .string(rule)).description)
        }
        if let text = expect.error {
            let whole = errorText(outcome)
            if !(whole ?? "").contains(text) || whole == nil {
                lines.append("error: got \(whole.map { ValueDiff.render(.string($0)) } ?? "nothing"), want an error containing \(ValueDiff.render(.string(text)))")
            }
        }
        if let track = expect.track {
            let wantEvent = track["event"]?.stringValue
            let call = (outcome["calls"]?.arrayValue ?? []).first { call in
                call["fn"]?.stringValue == "track" && (wantEvent == nil || call["event"]?.stringValue == wantEvent)
            }
            if let call {
                var got = JSONObject()
                if let event = call["event"] { got.appendUnique("event", event) }
                if let data = call["data"] { got.appendUnique("data", data) }
                lines += ValueDiff.differences(got: .object(got), want: track, path: "track", mode: .subset).map(\.description)
            } else if let wantEvent {
                lines.append(EventTerms.mismatch(wantStatus: "sent", wantEvent: wantEvent, outcome: outcome))
            } else {
                lines.append(EventTerms.mismatch(wantStatus: "a track call", outcome: outcome))
            }
        }
        if let calls = expect.calls {
            lines += ValueDiff.differences(got: outcome["calls"] ?? .array([]), want: calls, path: "calls", mode: .subset).map(\.description)
        }
        for text in expect.logs ?? [] {
            let logs = (outcome["logs"]?.arrayValue ?? []).compactMap(\.stringValue)
            if !logs.contains(where: { $0.contains(text) }) {
                lines.append("logs: no line contains \(ValueDiff.render(.string(text))); got \(ValueDiff.render(outcome["logs"] ?? .array([])))")
            }
        }
        return lines
    }

    static func errorText(_ outcome: JSONValue) -> String? {
        guard let error = outcome["error"] else { return nil }
        return (error["kind"]?.stringValue ?? "error") + ": " + (error["message"]?.stringValue ?? "")
    }

    // MARK: Lua suites

    private func runLua(_ file: TestSuiteFile) -> TestSuiteResult {
        let suite: LuaSuite
        do {
            suite = try loadLuaSuite(file.path)
        } catch {
            return TestSuiteResult(path: file.path, kind: .lua, loadError: error)
        }
        var results: [TestCaseResult] = []
        for (index, test) in suite.tests.enumerated() where selected(test.name, suite: file.path) {
            results.append(runLuaTest(index: index, name: test.name, line: test.line, suite: suite))
        }
        return TestSuiteResult(path: file.path, kind: .lua, cases: results)
    }

    final class LuaSuite {
        let path: String
        let sandbox: LuaSandbox
        let driver: LuaReference
        let setup: TestSuiteSetup
        let engine: PinRulesEngine
        let tests: [(name: String, line: Int?)]

        init(path: String, sandbox: LuaSandbox, driver: LuaReference, setup: TestSuiteSetup, engine: PinRulesEngine, tests: [(name: String, line: Int?)]) {
            self.path = path
            self.sandbox = sandbox
            self.driver = driver
            self.setup = setup
            self.engine = engine
            self.tests = tests
        }
    }

    private func loadLuaSuite(_ path: String) throws(TestLoadError) -> LuaSuite {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestLoadError(file: path, message: "cannot read the file")
        }
        let source = String(decoding: data, as: UTF8.self)
        let header = try LuaTestHeader.parse(source, path: path)
        let directory = TestPaths.directory(of: path)
        let config: ConfigChoice
        if let configPath = header.config {
            config = try TestSuiteSetup.readConfig(configPath, referencedFrom: path, line: header.configLine)
        } else {
            config = try TestSuiteSetup.conventionalConfig(in: directory, suite: path)
        }
        let rules: [String]
        if let declared = header.rules {
            rules = declared
        } else {
            rules = try TestSuiteSetup.conventionalRule(for: TestSuiteFile(path: path, kind: .lua))
        }
        let setup = TestSuiteSetup(config: config, rulePaths: rules)
        let engine = try self.engine(config: config, rulePaths: rules, suite: path)

        let sandbox: LuaSandbox
        let driver: LuaReference
        do {
            sandbox = try LuaSandbox(configuration: SandboxConfiguration(
                limits: options.limits, randomSeed: options.randomSeed, fixedTime: options.timestamp))
            driver = try sandbox.loadTrusted(TestDriver.source, chunkName: TestDriver.chunkName)
        } catch {
            throw TestLoadError(file: path, message: "cannot set up the test sandbox: \(error)")
        }
        do {
            _ = try sandbox.load(source, chunkName: path)
        } catch {
            switch error {
            case .syntax(_, let line, let column, let message):
                throw TestLoadError(file: path, line: line, column: column, message: "syntax error: \(message)")
            case .runtime(let message, let chunk, let line, _):
                // Errors raised for the file by the driver (`error(msg, 2)`) carry the file's
                // position in the message rather than in `chunk`.
                let text = Self.fullChunkName(in: message, path: path)
                if let at = Self.errorLine(text, chunk: path) {
                    let rest = text.dropFirst(path.count + 1).drop { $0.isNumber }.dropFirst(2)
                    throw TestLoadError(file: path, line: at, message: String(rest))
                }
                throw TestLoadError(file: path, line: chunk == Self.shownChunkName(path) ? line : nil, message: text)
            default:
                throw TestLoadError(file: path, message: "the top level of the test file failed: \(error)")
            }
        }
        var tests: [(name: String, line: Int?)] = []
        do {
            let listed = try sandbox.call(driver, field: "list").values.first ?? .array([])
            for entry in listed.arrayValue ?? [] {
                guard let name = entry["name"]?.stringValue else { continue }
                tests.append((name, Self.integer(entry["line"])))
            }
        } catch {
            throw TestLoadError(file: path, message: "cannot list the tests: \(error)")
        }
        _ = try? sandbox.call(driver, field: "output")
        guard !tests.isEmpty else {
            throw TestLoadError(file: path, message: "the file declares no tests; declare them with test(\"name\", function() ... end)")
        }
        return LuaSuite(path: path, sandbox: sandbox, driver: driver, setup: setup, engine: engine, tests: tests)
    }

    /// State of one running Lua test: its sessions (one per engine), what the rules used and
    /// the last outcome (to explain a failure).
    private struct LuaTestState {
        var sessions: [ObjectIdentifier: MappingSession] = [:]
        var usage = TestUsage()
        var lastOutcome: JSONValue?
        var instructionsLeft: Int64
        var timeLeft: Duration
    }

    private func runLuaTest(index: Int, name: String, line: Int?, suite: LuaSuite) -> TestCaseResult {
        let start = ContinuousClock.now
        var result = TestCaseResult(name: name, line: line, status: .failed)
        var state = LuaTestState(instructionsLeft: options.limits.instructions, timeLeft: options.limits.deadline)
        // Each test starts from the same random state, whatever ran before it.
        try? suite.sandbox.reseed(options.randomSeed)
        var step = callDriver(suite, "start", [.json(.integer(Int64(index + 1)))], state: &state)
        var runs = 0
        loop: while true {
            switch step {
            case .failure(let error):
                result.failure = [Self.describeTestCodeFailure(error, suite: suite.path)]
                result.failureLine = nil
                break loop
            case .success(let value):
                switch value["state"]?.stringValue {
                case "run":
                    runs += 1
                    result.failureLine = Self.integer(value["line"])
                    let at = result.failureLine.map { "\(suite.path):\($0): " } ?? ""
                    guard runs <= Self.maxRunsPerTest else {
                        result.failure = ["\(at)more than \(Self.maxRunsPerTest) run() calls in one test"]
                        break loop
                    }
                    let mapped = map(value["event"] ?? .null, options: value["options"], suite: suite, state: &state)
                    switch mapped {
                    case .failure(let failure):
                        result.failure = ["\(at)run(): \(failure.message)"]
                        break loop
                    case .success(let outcome):
                        state.lastOutcome = outcome
                        if outcome["status"]?.stringValue == "error", outcome["error"]?["kind"]?.stringValue == "limit" {
                            // A rule breaching a limit is a bug in the rule, never the behaviour under test.
                            result.failure = ["\(at)run(): the rules hit a limit: \(EventTerms.describe(outcome))"]
                            break loop
                        }
                        step = callDriver(suite, "resume", [.json(outcome)], state: &state)
                    }
                case "pass":
                    result.status = .passed
                    result.failureLine = nil
                    break loop
                case "fail":
                    let failure = value["failure"] ?? .null
                    result.failure = Self.describeAssertion(failure, suite: suite.path)
                    result.failureLine = Self.integer(failure["line"])
                    break loop
                default:
                    var message = Self.fullChunkName(in: value["message"]?.stringValue ?? "the test failed", path: suite.path)
                    if let detail = value["value"] { message += ": " + ValueDiff.render(detail) }
                    result.failure = [message]
                    result.failureLine = Self.errorLine(message, chunk: suite.path)
                    break loop
                }
            }
        }
        if result.status == .failed {
            _ = try? suite.sandbox.call(suite.driver, field: "abort")
            if let outcome = state.lastOutcome {
                let shown = Set(result.failure)
                result.context = EventTerms.story(outcome).filter { line in !shown.contains { $0.contains(line) } }
            }
        }
        if case .array(let lines)? = try? suite.sandbox.call(suite.driver, field: "output").values.first {
            result.output = lines.compactMap(\.stringValue)
        }
        for session in state.sessions.values { collectCoverage(session) }
        result.usage = state.usage
        result.nanoseconds = nanoseconds(since: start)
        return result
    }

    /// One call into the test driver, under what is left of the test's budget: the test code of
    /// one test gets the instruction and time limits once, across all its steps.
    private func callDriver(_ suite: LuaSuite, _ function: String, _ arguments: [LuaArgument], state: inout LuaTestState) -> Result<JSONValue, SandboxError> {
        var limits = options.limits
        if limits.instructions > 0 { limits.instructions = max(1, state.instructionsLeft) }
        if limits.deadline > .zero { limits.deadline = max(.nanoseconds(1), state.timeLeft) }
        suite.sandbox.limits = limits
        defer {
            let used = suite.sandbox.lastStatistics
            state.instructionsLeft -= used.instructions
            state.timeLeft -= .nanoseconds(Int64(clamping: used.nanoseconds))
        }
        do {
            return .success(try suite.sandbox.call(suite.driver, field: function, arguments: arguments).values.first ?? .null)
        } catch {
            return .failure(error)
        }
    }

    /// Maps an event a Lua test handed to `run`, with the suite's rules and config or those of
    /// its options.
    private func map(_ event: JSONValue, options runOptions: JSONValue?, suite: LuaSuite, state: inout LuaTestState) -> Result<JSONValue, RunFailure> {
        var engine = suite.engine
        if let runOptions, runOptions["config"] != nil || runOptions["rules"] != nil {
            var config = suite.setup.config
            var rules = suite.setup.rulePaths
            if let value = runOptions["config"] {
                config = ConfigChoice(json: value, file: nil)
            }
            if let list = runOptions["rules"] {
                let directory = TestPaths.directory(of: suite.path)
                rules = (list.arrayValue ?? []).compactMap(\.stringValue).map { TestPaths.join(directory, $0) }
            }
            do {
                engine = try self.engine(config: config, rulePaths: rules, suite: suite.path)
            } catch {
                return .failure(RunFailure(message: "cannot load the options' config or rules: \(error)"))
            }
        }
        let session: MappingSession
        if let existing = state.sessions[ObjectIdentifier(engine)] {
            session = existing
        } else {
            do {
                session = try engine.makeSession()
            } catch {
                return .failure(RunFailure(message: "cannot set up the rules: \(error)"))
            }
            state.sessions[ObjectIdentifier(engine)] = session
        }
        let outcome = session.map(event: event)
        state.usage.add(session.lastEventUsage)
        return .success(TestOutcome.json(outcome, usage: session.lastEventUsage))
    }

    /// The failure lines of an assertion raised in a Lua test.
    static func describeAssertion(_ failure: JSONValue, suite: String) -> [String] {
        let assertion = failure["assertion"]?.stringValue ?? "assertion"
        let message = failure["message"]?.stringValue
        let at = integer(failure["line"]).map { "\(suite):\($0): " } ?? "\(suite): "
        let note = message.map { " (\($0))" } ?? ""
        switch failure["kind"]?.stringValue {
        case "eq", "match":
            let differences = ValueDiff.differences(
                got: failure["got"], want: failure["want"], path: failure["path"]?.stringValue ?? "",
                mode: failure["kind"]?.stringValue == "eq" ? .exact : .subset, indexBase: 1, emptyContainersMatch: true)
            var lines = ["\(at)\(assertion) failed\(message.map { ": \($0)" } ?? "")"]
            lines += differences.isEmpty
                ? [ValueDifference(path: failure["path"]?.stringValue ?? "", got: failure["got"], want: failure["want"]).description]
                : differences.map(\.description)
            return lines
        case "status":
            let outcome = failure["outcome"] ?? .null
            let mismatch = EventTerms.mismatch(wantStatus: failure["want_status"]?.stringValue ?? "?",
                                               wantEvent: failure["want_event"]?.stringValue, outcome: outcome)
            return ["\(at)\(assertion): \(mismatch)\(note)"]
        case "substring":
            let path = failure["path"]?.stringValue ?? "value"
            let got = failure["got"].map { ValueDiff.render($0) } ?? "nothing"
            let want = ValueDiff.render(failure["want"] ?? .string(""))
            return ["\(at)\(assertion) failed\(message.map { ": \($0)" } ?? "")",
                    "\(path): got \(got), want \(path == "error" ? "an error" : "a \(path)") containing \(want)"]
        default:
            return ["\(at)\(message ?? "failed")"]
        }
    }

    static func describeTestCodeFailure(_ error: SandboxError, suite: String) -> String {
        switch error {
        case .limit(let kind):
            let name = kind == .instructions ? "instruction" : (kind == .deadline ? "time" : "memory")
            return "the test code hit the \(name) limit (\(error)); a test's own code has the limits once for the whole test"
        case .badReturn(let path, let reason, _):
            return "a value the test handed over cannot become JSON at \(path): \(reason)"
        default:
            return error.description
        }
    }

    /// The chunk name as Lua shows it in messages: at most LUA_IDSIZE - 1 bytes.
    static func shownChunkName(_ path: String) -> String {
        path.utf8.count <= 59 ? path : String(decoding: path.utf8.prefix(59), as: UTF8.self)
    }

    /// A message with Lua's cut-off chunk name (`/tmp/long/pa:12: ...`) given the full path.
    static func fullChunkName(in message: String, path: String) -> String {
        let shown = shownChunkName(path)
        guard shown != path, message.hasPrefix(shown + ":") else { return message }
        return path + message.dropFirst(shown.count)
    }

    /// The line of `chunk:line: message`.
    static func errorLine(_ message: String, chunk: String) -> Int? {
        guard message.hasPrefix(chunk + ":") else { return nil }
        return Int(message.dropFirst(chunk.count + 1).prefix { $0.isNumber })
    }

    static func integer(_ value: JSONValue?) -> Int? {
        switch value {
        case .integer(let number)?: return Int(number)
        case .double(let number)? where number.rounded() == number && abs(number) < 1e15: return Int(number)
        default: return nil
        }
    }

    private func nanoseconds(since start: ContinuousClock.Instant) -> UInt64 {
        let elapsed = start.duration(to: .now).components
        return UInt64(max(0, elapsed.seconds)) * 1_000_000_000 + UInt64(max(0, elapsed.attoseconds / 1_000_000_000))
    }
}

@available(*, unavailable)
extension TestRunner: Sendable {}

/// Why `run(event)` could not map the event (its options name a config or rules that do not load).
struct RunFailure: Error {
    var message: String
}

/// The outcome as tests see it: the output line's fields plus `calls` (the call tables after
/// hooks see, `{fn, event, data}`), `track` (the first track call), `trace` and `usage`.
public enum TestOutcome {
    /// The table `run(event)` returns, as JSON; `usage` is what the rules used for the event.
    public static func json(_ outcome: Outcome, usage: RuleUsage) -> JSONValue {
        var object = JSONObject()
        object.appendUnique("status", .string(outcome.status.rawValue))
        object.appendUnique("pintrk", .array(outcome.status == .sent ? outcome.calls.map(\.jsonArray) : []))
        let tables = outcome.status == .sent ? outcome.calls.map { MappingSession.table(for: $0) } : []
        object.appendUnique("calls", .array(tables))
        if let track = tables.first(where: { $0["fn"]?.stringValue == "track" }) { object.appendUnique("track", track) }
        if let reason = outcome.reason { object.appendUnique("reason", .string(reason)) }
        if let rule = outcome.rule { object.appendUnique("rule", .string(rule)) }
        if case .object(let line) = outcome.json, let error = line["error"] { object.appendUnique("error", error) }
        object.appendUnique("warnings", .array(outcome.warnings.map { .string($0) }))
        object.appendUnique("logs", .array(outcome.logs.map { .string($0) }))
        object.appendUnique("trace", .array(outcome.trace.map { .string($0) }))
        object.appendUnique("usage", .object([
            "instructions": .integer(usage.instructions),
            "memory": .integer(Int64(usage.peakMemoryBytes)),
            "time_ms": .double(Double(usage.nanoseconds) / 1_000_000),
        ]))
        return .object(object)
    }
}

/// Which lines of a Lua file count as executable for coverage.
///
/// A simple rule rather than the compiler's view (which the sandbox does not expose): a line is
/// executable when, outside comments and long strings, it holds code other than block ends and
/// separators (`end`, `else`, `}`, `)`, `,`), `do`/`then`/`repeat` alone, goto labels, or a
/// function header (whose closure Lua attributes to another line). Lines that actually ran
/// always count as executable, so the rule can only hide a line, never report a ran line as
/// missed.
public enum CoverageLines {
    public static func executable(_ source: String) -> [Int] {
        var result: [Int] = []
        var longBracket: String? = nil   // the closing bracket while inside a long comment or string
        var lineNumber = 0
        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var code = ""
            var rest = Substring(rawLine)
            if let closing = longBracket {
                guard let end = rest.range(of: closing) else { continue }
                rest = rest[end.upperBound...]
                longBracket = nil
            }
            // Strip comments and long strings, keeping short strings (they are code).
            while !rest.isEmpty {
                if rest.hasPrefix("--") {
                    let afterDashes = rest.dropFirst(2)
                    if let level = longBracketLevel(afterDashes) {
                        let closing = "]" + String(repeating: "=", count: level) + "]"
                        let body = afterDashes.dropFirst(level + 2)
                        if let end = body.range(of: closing) {
                            rest = body[end.upperBound...]
                            continue
                        }
                        longBracket = closing
                    }
                    break
                }
                if let level = longBracketLevel(rest) {
                    let closing = "]" + String(repeating: "=", count: level) + "]"
                    code += "\"\""
                    let body = rest.dropFirst(level + 2)
                    if let end = body.range(of: closing) {
                        rest = body[end.upperBound...]
                        continue
                    }
                    longBracket = closing
                    break
                }
                let character = rest.removeFirst()
                code.append(character)
                if character == "\"" || character == "'" {
                    while let next = rest.first {
                        rest.removeFirst()
                        code.append(next)
                        if next == "\\", let escaped = rest.first {
                            rest.removeFirst()
                            code.append(escaped)
                        } else if next == character {
                            break
                        }
                    }
                }
            }
            if isExecutable(code.trimmingCharacters(in: .whitespaces)) { result.append(lineNumber) }
        }
        return result
    }

    /// `[[` → 0, `[==[` → 2, anything else → nil.
    private static func longBracketLevel(_ text: Substring) -> Int? {
        guard text.first == "[" else { return nil }
        let equals = text.dropFirst().prefix { $0 == "=" }.count
        let after = text.dropFirst(1 + equals)
        return after.first == "[" ? equals : nil
    }

    private static func isExecutable(_ code: String) -> Bool {
        if code.isEmpty { return false }
        var stripped = code
        for token in ["end", "else", "do", "then", "repeat"] where stripped == token || stripped.hasPrefix(token + ")") || stripped.hasPrefix(token + ",") || stripped.hasPrefix(token + ";") || stripped.hasPrefix(token + "}") {
            stripped = String(stripped.dropFirst(token.count))
        }
        if stripped.allSatisfy({ "})],; ".contains($0) }) { return false }
        if stripped.hasPrefix("::"), stripped.hasSuffix("::") { return false }
        // A function header with nothing after its parameter list.
        if stripped.hasSuffix(")"), let range = stripped.range(of: "function") {
            let before = stripped[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            let after = stripped[range.upperBound...]
            let headerOnly = !after.contains("(") || after.firstIndex(of: ")") == after.index(before: after.endIndex)
            if headerOnly && (before.isEmpty || before == "local" || before.hasSuffix("=") || before.hasSuffix("return")) {
                return false
            }
        }
        return true
    }
}
