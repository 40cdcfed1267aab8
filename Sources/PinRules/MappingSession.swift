import LuaSandbox
public import PinJSON
import PinterestTag

/// One loaded rule, as the session runs it.
struct LoadedRule {
    enum ErrorPolicy: String {
        case deadLetter = "dead-letter"
        case pass
        case drop
    }

    /// Index in the prelude's rule list.
    let index: Int
    /// The rule's name (its `name` field, else the file name): outcomes name rules by it.
    let name: String
    /// The chunk name its errors carry (the path).
    let chunkName: String
    let onError: ErrorPolicy
    let hasBefore: Bool
    let hasAfter: Bool

    /// The first argument of its hook calls.
    var indexArgument: LuaArgument { .json(.integer(Int64(index))) }
}

/// Resources rule hooks used for one event.
public struct RuleUsage: Sendable, Equatable {
    public var instructions: Int64 = 0
    public var peakMemoryBytes = 0
    public var nanoseconds: UInt64 = 0
    public var hookCalls = 0

    public init() {}

    mutating func add(_ statistics: CallStatistics) {
        instructions += statistics.instructions
        peakMemoryBytes = max(peakMemoryBytes, statistics.peakMemoryBytes)
        nanoseconds += statistics.nanoseconds
        hookCalls += 1
    }
}

/// The pipeline for one thread: bytes → tape (read in place) → before-rules → mapping → calls →
/// after-rules → outcome. Owns a Lua sandbox with every rule loaded; not `Sendable`: one thread
/// at a time (make one session per thread from the shared `PinRulesEngine`).
public final class MappingSession {
    let sandbox: LuaSandbox
    let prelude: LuaReference
    /// The prelude's `before` and `after` trampolines, called once per event and rule.
    let beforeTrampoline: LuaReference
    let afterTrampoline: LuaReference
    let rules: [LoadedRule]
    let hasBeforeHooks: Bool
    let hasAfterHooks: Bool
    let mapper: PinterestMapper
    let parser = JSONTapeParser()
    /// What the mapping keeps from event to event (its builder's buffers, resolved names).
    let mappingScratch = MappingScratch()
    /// Remarks made while loading the rules.
    public let loadWarnings: [String]
    /// What the rules used while mapping the last event (instructions, peak memory and time,
    /// summed over its hook calls; the peak is the highest).
    @exclusivity(unchecked) public internal(set) var lastEventUsage = RuleUsage()
    /// Whether outcomes get their `trace`. The stream turns it off: its output lines do not
    /// carry traces, and describing each rename cost about 1,100 instructions per event.
    var recordsTrace = true
    /// The arguments of the last `before` call (a rule's index, the event), filled in place for
    /// the next: building the array per call cost an allocation.
    @exclusivity(unchecked) var beforeArguments: [LuaArgument] = []

    init(rules sources: [RuleSource], configJSON: JSONValue, options: EngineOptions, mapper: PinterestMapper) throws(EngineError) {
        self.mapper = mapper
        let configuration = SandboxConfiguration(
            limits: options.limits, hookInterval: options.hookInterval,
            randomSeed: options.randomSeed, fixedTime: options.timestamp,
            recordsLineCoverage: options.recordsLineCoverage)
        do {
            sandbox = try LuaSandbox(configuration: configuration)
            prelude = try sandbox.loadTrusted(RulePrelude.source, chunkName: RulePrelude.chunkName)
            beforeTrampoline = try sandbox.reference(toField: "before", of: prelude)
            afterTrampoline = try sandbox.reference(toField: "after", of: prelude)
        } catch {
            throw .sandbox(error.description)
        }
        var loaded: [LoadedRule] = []
        var warnings: [String] = []
        for source in sources {
            let module: LuaReference
            do {
                module = try sandbox.load(source.source, chunkName: source.path)
            } catch {
                throw Self.loadError(error, path: source.path)
            }
            let registration: [JSONValue]
            do {
                registration = try sandbox.call(prelude, field: "register", arguments: [
                    .reference(module), .json(.string(source.fileName)), .json(configJSON), .json(.integer(options.timestamp)),
                ]).values
            } catch {
                throw Self.loadError(error, path: source.path)
            }
            guard registration.count >= 2, case .integer(let index) = registration[0],
                  case .object(let info) = registration[1] else {
                let message = registration.count >= 2 ? registration[1].stringValue : nil
                throw .ruleLoad(path: source.path, line: nil, message: message ?? "not a valid rule")
            }
            let name = info["name"]?.stringValue ?? source.fileName
            for case .string(let key) in info["unknown"]?.arrayValue ?? [] {
                warnings.append("\(source.path): unknown field '\(key)' in the rule table (a rule has name, on_error, before and after)")
            }
            loaded.append(LoadedRule(
                index: Int(index), name: name, chunkName: source.path,
                onError: LoadedRule.ErrorPolicy(rawValue: info["on_error"]?.stringValue ?? "") ?? .deadLetter,
                hasBefore: info["has_before"]?.boolValue ?? false,
                hasAfter: info["has_after"]?.boolValue ?? false))
        }
        rules = loaded
        hasBeforeHooks = loaded.contains { $0.hasBefore }
        hasAfterHooks = loaded.contains { $0.hasAfter }
        loadWarnings = warnings
    }

    private static func loadError(_ error: SandboxError, path: String) -> EngineError {
        switch error {
        case .syntax(_, let line, let column, let message):
            return .ruleSyntax(path: path, line: line, column: column, message: message)
        case .runtime(let message, _, let line, _):
            return .ruleLoad(path: path, line: line, message: message)
        default:
            return .ruleLoad(path: path, line: nil, message: error.description)
        }
    }

    /// With `EngineOptions.recordsLineCoverage`: the lines of each rule file (by path) that
    /// ran so far in this session.
    public func coveredLines() -> [String: [Int]] {
        let ruleChunks = Set(rules.map(\.chunkName))
        return ((try? sandbox.coveredLines()) ?? [:]).filter { ruleChunks.contains($0.key) }
    }

    /// Maps one NDJSON line (without its newline). Never throws: a line that is not a JSON
    /// object is an `invalid` outcome carrying the raw line.
    public func map(line bytes: UnsafeRawBufferPointer, lineNumber: Int? = nil) -> Outcome {
        var content = bytes
        if let last = content.last, last == UInt8(ascii: "\r") {
            content = UnsafeRawBufferPointer(rebasing: content.dropLast())
        }
        if content.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            return invalid(raw: content, message: "empty line", line: lineNumber)
        }
        // Parsed into a tape, not a tree: rules and the mapping build only what they read.
        let event: JSONTape
        do {
            event = try parser.parse(content)
        } catch {
            return invalid(raw: content, message: error.description, line: lineNumber)
        }
        guard event.kind(of: event.root) == .object else {
            return invalid(raw: content, message: "expected a JSON object, found \(Self.typeName(event.kind(of: event.root)))", line: lineNumber)
        }
        return map(event: .tape(event), line: lineNumber)
    }

    /// Maps one NDJSON line given as bytes.
    public func map(line bytes: [UInt8], lineNumber: Int? = nil) -> Outcome {
        bytes.withUnsafeBytes { map(line: $0, lineNumber: lineNumber) }
    }

    /// Maps one event. Never throws: every failure is an outcome.
    public func map(event original: JSONValue, line: Int? = nil) -> Outcome {
        map(event: .value(original), line: line)
    }

    func map(event original: PipelineEvent, line: Int?) -> Outcome {
        lastEventUsage = RuleUsage()
        var outcome = Outcome(line: line, status: .sent)
        // Filled in place and returned once: returning it from each branch copied it.
        fill(&outcome, from: original)
        return outcome
    }

    private func fill(_ outcome: inout Outcome, from original: PipelineEvent) {
        switch original {
        case .tape(let tape): outcome.setMessageId(from: tape)
        case .value(let value): outcome.messageId = value["messageId"]
        }
        guard original.isObject else {
            let value = original.json
            outcome.status = .invalid
            outcome.failure = .init(kind: "input", message: "expected a JSON object, found \(Self.typeName(value))")
            outcome.raw = JSONWriter.string(value)
            return
        }
        guard let event = hasBeforeHooks ? runBeforeRules(original, into: &outcome) : original else { return }
        let calls: [PintrkCall]
        let mapped: MappingResult
        switch mapper.mapEncoded(event.message, reusing: mappingScratch) {
        case .calls(let encoded, let warnings) where !hasAfterHooks:
            // Nothing changes the calls any more: they go out as the mapping wrote them.
            outcome.addWarnings(warnings)
            outcome.setCalls(encoded)
            return
        case let result:
            mapped = result.decoded
        }
        switch mapped {
        case .calls(let mapped, let warnings):
            outcome.addWarnings(warnings)
            calls = mapped
        case .nothingToSend(let reason, let warnings):
            outcome.addWarnings(warnings)
            outcome.status = .dropped
            outcome.reason = reason
            return
        case .unsupported(let reason):
            outcome.status = .skipped
            outcome.reason = reason
            return
        case .failed(let message, _, let warnings):
            outcome.addWarnings(warnings)
            outcome.status = .error
            outcome.failure = .init(kind: "mapping", message: message)
            outcome.event = original.json
            return
        }
        guard let finalCalls = runAfterRules(calls, event: event, original: original, into: &outcome) else { return }
        outcome.calls = finalCalls
    }

    private func invalid(raw: UnsafeRawBufferPointer, message: String, line: Int?) -> Outcome {
        Outcome(line: line, status: .invalid, failure: .init(kind: "input", message: message),
                raw: String(decoding: raw, as: UTF8.self))
    }

    static func typeName(_ kind: JSONTape.Kind) -> String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        let kind: JSONTape.Kind
        switch value {
        case .null: kind = .null
        case .bool: kind = .bool
        case .integer: kind = .integer
        case .double: kind = .double
        case .string: kind = .string
        case .array: kind = .array
        case .object: kind = .object
        }
        return typeName(kind)
    }
}

@available(*, unavailable)
extension MappingSession: Sendable {}
