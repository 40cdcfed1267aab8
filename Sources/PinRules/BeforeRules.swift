import LuaSandbox
import PinJSON

extension MappingSession {
    /// Runs every rule's `before` hook in order. Returns the event to map, or nil when the
    /// outcome is final (dropped or error). Each rule's changes apply only if its hook completes.
    /// `prepared` is `original` with its encoding, for the first hook.
    func runBeforeRules(_ original: JSONValue, prepared: PreparedJSON?, into outcome: inout Outcome) -> JSONValue? {
        var event = original
        var prepared = prepared
        for rule in rules where rule.hasBefore {
            let values: [JSONValue]
            let argument: LuaArgument = prepared.map { .prepared($0) } ?? .json(event)
            prepared = nil
            switch callHook("before", of: rule, with: [argument], original: original, into: &outcome) {
            case .returned(let returned): values = returned
            case .failed(.finish): return nil
            case .failed(.skipRule): continue
            }
            let verdict = values.first?.stringValue ?? "invalid"
            let payload = values.count > 1 ? values[1] : .null
            switch verdict {
            case "continue", "replace":
                guard case .object = payload else {
                    let contract = Outcome.Failure(kind: "contract", message: "before returned an event that is not an object (\(Self.typeName(payload)))", rule: rule.name)
                    if apply(contract, rule: rule, original: original, to: &outcome) == .finish { return nil }
                    continue
                }
                // The bridge keeps the order of keys that came in; a replacement event takes
                // the order of the one it replaces where it can.
                let changed = verdict == "replace" ? payload.ordered(like: event) : payload
                traceRename(from: event, to: changed, rule: rule, into: &outcome)
                event = changed
            case "drop":
                outcome.status = .dropped
                let reason = payload.stringValue ?? ""
                outcome.reason = reason.isEmpty ? "dropped by \(rule.name)" : reason
                outcome.rule = rule.name
                outcome.trace.append("\(rule.name): dropped the event (\(outcome.reason ?? ""))")
                return nil
            default:
                let contract = Outcome.Failure(kind: "contract", message: payload.stringValue ?? "before returned an unexpected value", rule: rule.name)
                if apply(contract, rule: rule, original: original, to: &outcome) == .finish { return nil }
            }
        }
        return event
    }

    private func traceRename(from old: JSONValue, to new: JSONValue, rule: LoadedRule, into outcome: inout Outcome) {
        let before = old["event"], after = new["event"]
        guard before != after else { return }
        let describe: (JSONValue?) -> String = { value in
            guard let value else { return "(none)" }
            return JSONWriter.string(value)
        }
        outcome.trace.append("\(rule.name): renamed event \(describe(before)) → \(describe(after))")
    }
}
