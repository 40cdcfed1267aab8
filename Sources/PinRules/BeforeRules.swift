import LuaSandbox
import PinJSON

extension MappingSession {
    /// Runs every rule's `before` hook in order. Returns the event to map, or nil when the
    /// outcome is final (dropped or error). Each rule's changes apply only if its hook completes.
    /// Events come back as tapes: what a rule left alone is copied, not built.
    func runBeforeRules(_ original: PipelineEvent, into outcome: inout Outcome) -> PipelineEvent? {
        var event = original
        for rule in rules where rule.hasBefore {
            let values: [JSONTape]
            if beforeArguments.count == 2 {
                beforeArguments[0] = rule.indexArgument
                beforeArguments[1] = event.argument
            } else {
                beforeArguments = [rule.indexArgument, event.argument]
            }
            switch callHookReturningTapes(beforeTrampoline, of: rule, with: beforeArguments, original: original, into: &outcome) {
            case .returned(let returned): values = returned
            case .failed(.finish): return nil
            case .failed(.skipRule): continue
            }
            // One value: the event, continuing without logs (the prelude's short form).
            let verdict = values.count == 1 ? "continue" : values.first.flatMap { $0.string(at: $0.root) } ?? "invalid"
            let payload = values.count == 1 ? values[0] : values.count > 1 ? values[1] : JSONTape(.null)
            switch verdict {
            case "continue", "replace":
                guard payload.kind(of: payload.root) == .object else {
                    let message = "before returned an event that is not an object (\(Self.typeName(payload.kind(of: payload.root))))"
                    if breachedContract(message, rule: rule, original: original, into: &outcome) == .finish { return nil }
                    continue
                }
                // The bridge keeps the order of keys that came in; a replacement event takes
                // the order of the one it replaces where it can.
                let changed: PipelineEvent = verdict == "replace" ? .value(payload.value.ordered(like: event.json)) : .tape(payload)
                if recordsTrace { traceRename(from: event, to: changed, rule: rule, into: &outcome) }
                event = changed
            case "drop":
                outcome.status = .dropped
                let reason = payload.string(at: payload.root) ?? ""
                outcome.reason = reason.isEmpty ? "dropped by \(rule.name)" : reason
                outcome.rule = rule.name
                if recordsTrace { outcome.trace.append("\(rule.name): dropped the event (\(outcome.reason ?? ""))") }
                return nil
            default:
                let message = payload.string(at: payload.root) ?? "before returned an unexpected value"
                if breachedContract(message, rule: rule, original: original, into: &outcome) == .finish { return nil }
            }
        }
        return event
    }

    /// A `before` hook returned what the contract does not allow. Out of line: the failure it
    /// makes kept the common path busy destroying an empty one twice per event.
    @inline(never)
    private func breachedContract(_ message: String, rule: LoadedRule, original: PipelineEvent, into outcome: inout Outcome) -> RuleFailureEffect {
        apply(Outcome.Failure(kind: "contract", message: message, rule: rule.name), rule: rule, original: original, to: &outcome)
    }

    private func traceRename(from old: PipelineEvent, to new: PipelineEvent, rule: LoadedRule, into outcome: inout Outcome) {
        if case .tape(let oldTape) = old, case .tape(let newTape) = new,
           oldTape.sameMember("event", as: newTape) { return }
        let before = old.member("event"), after = new.member("event")
        guard before != after else { return }
        let describe: (JSONValue?) -> String = { value in
            guard let value else { return "(none)" }
            return JSONWriter.string(value)
        }
        outcome.trace.append("\(rule.name): renamed event \(describe(before)) → \(describe(after))")
    }
}
