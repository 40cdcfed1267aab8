public import LuaSandbox
public import PinJSON
public import PinterestTag
import Foundation

/// Why an engine could not be built: the config or a rule cannot be loaded.
public enum EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The destination config is not valid: `file` (when read from one), the `key` at fault
    /// (`eventsMapping[2].to`) and what is wrong.
    case config(file: String?, key: String?, message: String)
    /// A rule path that does not exist or cannot be read.
    case ruleFile(path: String, message: String)
    /// A rule does not compile.
    case ruleSyntax(path: String, line: Int?, column: Int?, message: String)
    /// A rule's top-level code failed, or it does not return a valid rule table.
    case ruleLoad(path: String, line: Int?, message: String)
    /// The sandbox could not be set up.
    case sandbox(String)

    public var description: String {
        switch self {
        case .config(let file, let key, let message):
            return [file, key, message].compactMap { $0 }.joined(separator: ": ")
        case .ruleFile(let path, let message):
            return "\(path): \(message)"
        case .ruleSyntax(let path, let line, let column, let message):
            return "\(path):\(line ?? 0):\(column ?? 0): syntax error: \(message)"
        case .ruleLoad(let path, let line, let message):
            return line.map { "\(path):\($0): \(message)" } ?? "\(path): \(message)"
        case .sandbox(let message):
            return "sandbox: \(message)"
        }
    }
}

/// Options of an engine; the defaults suit production streams.
public struct EngineOptions: Sendable, Equatable {
    /// Limits of every hook call (see docs/sandbox.md).
    public var limits: SandboxLimits
    /// The run's fixed timestamp (seconds since 1970): `ctx.now`, and what `os.time()` returns
    /// inside rules, so every event of a run, on every worker, sees the same clock.
    public var timestamp: Int64
    /// Seed of `math.random` inside rules.
    public var randomSeed: Int64
    /// Instructions between limit checks; smaller gives finer instruction counts.
    public var hookInterval: Int
    /// Record which rule lines run (`MappingSession.coveredLines()`), for test coverage.
    public var recordsLineCoverage = false

    /// Options with the given limits per hook call.
    public init(memoryBytes: Int, instructions: Int64, timeLimit: Duration, timestamp: Int64? = nil) {
        self.init(limits: SandboxLimits(memoryBytes: memoryBytes, instructions: instructions, deadline: timeLimit), timestamp: timestamp)
    }

    public init(limits: SandboxLimits = .default, timestamp: Int64? = nil, randomSeed: Int64 = 0, hookInterval: Int = 1000) {
        self.limits = limits
        self.timestamp = timestamp ?? Int64(Date().timeIntervalSince1970)
        self.randomSeed = randomSeed
        self.hookInterval = hookInterval
    }
}

/// A destination config and a list of rules, checked and ready to map events.
///
/// An engine is immutable and `Sendable`: build it once and share it. Mapping happens in a
/// `MappingSession`, which owns a Lua sandbox and is used by one thread at a time; make one
/// session per thread (`makeSession()`), or use `mapStream`, which does that for its workers.
///
/// ```swift
/// let engine = try PinRulesEngine(configJSON: config, rules: try RuleSource.load(paths: ["rules"]))
/// let session = try engine.makeSession()
/// let outcome = session.map(event: event)
/// ```
public final class PinRulesEngine: Sendable {
    public let config: DestinationConfig
    /// The destination config as given (unwrapped from `{"Config": ...}`): what rules see as
    /// `ctx.config`.
    public let configJSON: JSONValue
    /// Unknown keys and other remarks about the config.
    public let configWarnings: [String]
    public let rules: [RuleSource]
    public let options: EngineOptions
    /// Remarks found while loading rules (unknown fields in a rule table).
    public let loadWarnings: [String]
    let mapper: PinterestMapper

    /// Builds an engine and loads every rule once, so that a broken rule fails here rather than
    /// on the first event.
    /// - throws: `EngineError` naming the config key or the rule file, line and column.
    public init(configJSON: JSONValue, rules: [RuleSource], options: EngineOptions = EngineOptions()) throws(EngineError) {
        let parsed: ParsedConfig
        do {
            parsed = try DestinationConfig.parse(configJSON)
        } catch {
            throw .config(file: nil, key: error.path, message: error.message)
        }
        self.config = parsed.config
        self.configWarnings = parsed.warnings
        if case .object(let wrapper) = configJSON, let inner = wrapper["Config"], case .object = inner {
            self.configJSON = inner
        } else {
            self.configJSON = configJSON
        }
        self.rules = rules
        self.options = options
        self.mapper = PinterestMapper(config: parsed.config)
        let probe = try MappingSession(rules: rules, configJSON: self.configJSON, options: options, mapper: mapper)
        self.loadWarnings = probe.loadWarnings
    }

    /// Reads the config file and the rule paths (`--rules` semantics) and builds the engine.
    public convenience init(configPath: String, rulePaths: [String], options: EngineOptions = EngineOptions()) throws(EngineError) {
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw .config(file: configPath, key: nil, message: "cannot read the config file")
        }
        let json: JSONValue
        do {
            json = try JSONParser().parse(Array(data))
        } catch {
            throw .config(file: configPath, key: nil, message: "not valid JSON: \(error)")
        }
        let rules = try RuleSource.load(paths: rulePaths)
        do {
            try self.init(configJSON: json, rules: rules, options: options)
        } catch .config(_, let key, let message) {
            throw .config(file: configPath, key: key, message: message)
        }
    }

    /// A session for the calling thread: a sandbox with every rule loaded.
    public func makeSession() throws(EngineError) -> MappingSession {
        try MappingSession(rules: rules, configJSON: configJSON, options: options, mapper: mapper)
    }
}
