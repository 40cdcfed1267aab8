import LuaSandbox
import PinJSON

/// What a failing hook call means for the event, per the rule's `on_error`.
enum RuleFailureEffect {
    /// `pass`: carry on as if the rule had not run for this event.
    case skipRule
    /// `dead-letter` or `drop`: the outcome is final.
    case finish
}

/// What calling one hook gave: its values, or the effect of its failure.
enum HookCallResult<Value> {
    case returned([Value])
    case failed(RuleFailureEffect)
}

extension MappingSession {
    /// Calls a prelude trampoline for a rule's hook, accounts for its use, collects its warnings
    /// and logs (the trampolines return logs third), and applies `on_error` when it fails.
    /// `arguments` start with the rule's index (`LoadedRule.indexArgument`).
    func callHook(_ trampoline: LuaReference, of rule: LoadedRule, with arguments: [LuaArgument],
                  original: PipelineEvent, into outcome: inout Outcome) -> HookCallResult<JSONValue> {
        do {
            let result = try sandbox.call(trampoline, arguments: arguments)
            return .returned(returned(result.values, logs: result.values.count > 2 ? result.values[2] : nil,
                                      warnings: result.warnings, statistics: result.statistics, rule: rule, into: &outcome))
        } catch {
            return .failed(failed(error, rule: rule, original: original, into: &outcome))
        }
    }

    /// `callHook` with the values as tapes (see `LuaSandbox.callReturningTapes`), calling the
    /// trampoline by its own reference (see `MappingSession.beforeTrampoline`).
    // Out of line: inlined, its error path left the caller destroying two empty failures per
    // event.
    @inline(never)
    func callHookReturningTapes(_ trampoline: LuaReference, of rule: LoadedRule, with arguments: [LuaArgument],
                                original: PipelineEvent, into outcome: inout Outcome) -> HookCallResult<JSONTape> {
        do {
            let result = try sandbox.callReturningTapes(trampoline, arguments: arguments)
            return .returned(returned(result.tapes, logs: result.tapes.count > 2 ? result.tapes[2].value : nil,
                                      warnings: result.warnings, statistics: result.statistics, rule: rule, into: &outcome))
        } catch {
            return .failed(failed(error, rule: rule, original: original, into: &outcome))
        }
    }

    private func returned<Value>(_ values: [Value], logs: JSONValue?, warnings: [String], statistics: CallStatistics,
                                 rule: LoadedRule, into outcome: inout Outcome) -> [Value] {
        lastEventUsage.add(statistics)
        if !warnings.isEmpty { outcome.warnings += warnings.map { "\(rule.name): \($0)" } }
        appendLogs(logs, rule: rule, to: &outcome)
        return values
    }

    private func failed(_ error: SandboxError, rule: LoadedRule, original: PipelineEvent, into outcome: inout Outcome) -> RuleFailureEffect {
        lastEventUsage.add(sandbox.lastStatistics)
        return apply(failure(error, rule: rule), rule: rule, original: original, to: &outcome)
    }

    /// Describes a failed hook call as an outcome failure.
    func failure(_ error: SandboxError, rule: LoadedRule) -> Outcome.Failure {
        switch error {
        case .runtime(let message, let chunk, let line, _):
            return .init(kind: "runtime", message: message, rule: rule.name, line: isRuleChunk(chunk, rule) ? line : nil)
        case .limit(let kind):
            return .init(kind: "limit", message: error.description, rule: rule.name, limit: kind.rawValue)
        case .forbidden:
            return .init(kind: "forbidden", message: error.description, rule: rule.name)
        case .badReturn:
            return .init(kind: "bad_return", message: error.description, rule: rule.name)
        case .badArgument(let reason):
            return .init(kind: "input", message: "the event cannot be handed to rules: \(reason)", rule: rule.name)
        case .syntax(_, let line, _, let message):
            return .init(kind: "syntax", message: message, rule: rule.name, line: line)
        case .host(let message):
            return .init(kind: "internal", message: message, rule: rule.name)
        }
    }

    /// Lua shows at most 59 bytes of a chunk name in error positions.
    private func isRuleChunk(_ chunk: String?, _ rule: LoadedRule) -> Bool {
        guard let chunk else { return false }
        return chunk == rule.chunkName || chunk == String(decoding: rule.chunkName.utf8.prefix(59), as: UTF8.self)
    }

    /// Applies the rule's `on_error` to a failure: fills the outcome when the event ends here.
    func apply(_ failure: Outcome.Failure, rule: LoadedRule, original: PipelineEvent, to outcome: inout Outcome) -> RuleFailureEffect {
        switch rule.onError {
        case .pass:
            outcome.warnings.append("rule \(rule.name) failed and was passed over: \(failure.message)")
            return .skipRule
        case .drop:
            outcome.status = .dropped
            outcome.reason = "rule failed: \(failure.message)"
            outcome.rule = rule.name
            return .finish
        case .deadLetter:
            outcome.status = .error
            outcome.failure = failure
            outcome.event = original.json
            return .finish
        }
    }

    func appendLogs(_ value: JSONValue?, rule: LoadedRule, to outcome: inout Outcome) {
        guard case .array(let lines)? = value else { return }
        for case .string(let line) in lines { outcome.logs.append("\(rule.name): \(line)") }
    }
}
