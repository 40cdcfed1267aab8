import LuaSandbox
import PinJSON
import PinterestTag

/// Why a value a hook returned is not a call.
struct CallTableError: Error {
    var message: String
}

/// A call on its way through the after-rules.
struct PipelineCall {
    var call: PintrkCall
    /// The limited-data-processing `set` the mapping put before a track: it goes when its
    /// track is dropped.
    var isLimitedDataSet: Bool
}

extension MappingSession {
    /// Runs every rule's `after` hook over the calls, in rule order. Returns the calls to send,
    /// or nil when the outcome is final (every call dropped, or an error).
    func runAfterRules(_ mapped: [PintrkCall], event: PipelineEvent, original: PipelineEvent, into outcome: inout Outcome) -> [PintrkCall]? {
        var calls: [PipelineCall] = mapped.enumerated().map { index, call in
            let nextIsTrack = index + 1 < mapped.count && mapped[index + 1].function == "track"
            return PipelineCall(call: call, isLimitedDataSet: call.function == "set" && nextIsTrack)
        }
        var lastDrop: (reason: String, rule: String)? = nil
        for rule in rules where rule.hasAfter {
            guard !calls.isEmpty else { break }
            let tables = JSONValue.array(calls.map { Self.table(for: $0.call) })
            let values: [JSONValue]
            switch callHook(afterTrampoline, of: rule, with: [rule.indexArgument, .json(tables), event.argument], original: original, into: &outcome) {
            case .returned(let returned): values = returned
            case .failed(.finish): return nil
            case .failed(.skipRule): continue
            }
            switch applyAfterResults(values, to: calls, rule: rule, into: &outcome) {
            case .success(let next):
                if let drop = next.drop { lastDrop = drop }
                calls = next.calls
            case .failure(let contract):
                if apply(contract, rule: rule, original: original, to: &outcome) == .finish { return nil }
            }
        }
        if calls.isEmpty {
            outcome.status = .dropped
            outcome.reason = lastDrop?.reason ?? "every call was dropped"
            outcome.rule = lastDrop?.rule
            return nil
        }
        return calls.map(\.call)
    }

    private struct AfterStep {
        var calls: [PipelineCall]
        var drop: (reason: String, rule: String)?
    }

    private func applyAfterResults(_ values: [JSONValue], to calls: [PipelineCall], rule: LoadedRule, into outcome: inout Outcome) -> Result<AfterStep, Outcome.Failure> {
        guard values.first?.stringValue == "ok", values.count > 1, case .array(let perCall) = values[1], perCall.count == calls.count else {
            let message = values.first?.stringValue == "invalid" ? (values.count > 1 ? values[1].stringValue : nil) : nil
            return .failure(Outcome.Failure(kind: "contract", message: message ?? "after returned an unexpected value", rule: rule.name))
        }
        var outputs: [[PipelineCall]] = []
        var dropped = [Bool](repeating: false, count: calls.count)
        var drop: (reason: String, rule: String)? = nil
        for (index, result) in perCall.enumerated() {
            let input = calls[index]
            switch result {
            case .string(let reason):
                dropped[index] = true
                let shown = reason.isEmpty ? "dropped by \(rule.name)" : reason
                drop = (shown, rule.name)
                if recordsTrace { outcome.trace.append("\(rule.name): dropped call \(Self.describe(input.call)) (\(shown))") }
                outputs.append([])
            case .array(let tables):
                var produced: [PipelineCall] = []
                for (position, table) in tables.enumerated() {
                    let call: PintrkCall
                    do {
                        call = try Self.call(from: table)
                    } catch {
                        return .failure(Outcome.Failure(kind: "contract", message: "after returned an invalid call for call \(index + 1): \(error.message)", rule: rule.name))
                    }
                    // The bridge gave back keys in the order they came in.
                    let ordered = call
                    if recordsTrace, position == 0, input.call.function == "track", call.function == "track", call.event != input.call.event {
                        outcome.trace.append("\(rule.name): renamed track \(input.call.event.map { "\"\($0)\"" } ?? "(none)") → \(call.event.map { "\"\($0)\"" } ?? "(none)")")
                    }
                    produced.append(PipelineCall(call: ordered, isLimitedDataSet: input.isLimitedDataSet && call.function == "set"))
                }
                if recordsTrace, tables.count > 1 { outcome.trace.append("\(rule.name): fanned call \(Self.describe(input.call)) out to \(tables.count) calls") }
                outputs.append(produced)
            default:
                return .failure(Outcome.Failure(kind: "contract", message: "after returned an unexpected value", rule: rule.name))
            }
        }
        // A dropped track takes its limited-data `set` with it.
        for index in calls.indices where dropped[index] && calls[index].call.function == "track" && index > 0 && calls[index - 1].isLimitedDataSet {
            outputs[index - 1] = []
        }
        return .success(AfterStep(calls: outputs.flatMap { $0 }, drop: drop))
    }

    /// The table an after hook sees: `{fn = "track", event = "Checkout", data = {...}}`.
    static func table(for call: PintrkCall) -> JSONValue {
        var table = JSONObject()
        table.appendUnique("fn", .string(call.function))
        if let event = call.event { table.appendUnique("event", .string(event)) }
        if let tagId = call.tagId { table.appendUnique("tagId", .string(tagId)) }
        if let data = call.data { table.appendUnique("data", .object(data)) }
        return .object(table)
    }

    /// Reads a call back from a hook: a call table, or the array form `{"track", "Lead", {...}}`.
    static func call(from value: JSONValue) throws(CallTableError) -> PintrkCall {
        var array: JSONValue = value
        if case .object(let table) = value {
            guard case .string(let function)? = table["fn"] else {
                throw CallTableError(message: "a call needs fn (\"track\", \"set\", \"page\" or \"load\")")
            }
            for key in table.keys where !["fn", "event", "tagId", "data"].contains(key) {
                throw CallTableError(message: "unknown field '\(key)' in a call (a call has fn, event, data, tagId)")
            }
            var elements: [JSONValue] = [.string(function)]
            if function == "track", let event = table["event"] { elements.append(event) }
            if function == "load", let tagId = table["tagId"] { elements.append(tagId) }
            if let data = table["data"], !data.isNull { elements.append(data) }
            array = .array(elements)
        }
        do {
            return try PintrkCall(jsonArray: array)
        } catch {
            throw CallTableError(message: String(describing: error))
        }
    }

    static func describe(_ call: PintrkCall) -> String {
        if let event = call.event { return "\(call.function) \"\(event)\"" }
        return call.function
    }
}
