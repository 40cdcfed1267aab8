import LuaSandbox
import PinJSON
import PinterestTag

/// An event on its way through the pipeline: as parsed from a line (a tape, read in place, so
/// only what rules and the mapping look at is ever built) or as a value (given by a caller, or
/// replaced by a rule).
enum PipelineEvent {
    case tape(JSONTape)
    case value(JSONValue)

    /// The whole event, built.
    var json: JSONValue {
        switch self {
        case .tape(let tape): return tape.value
        case .value(let value): return value
        }
    }

    var isObject: Bool {
        switch self {
        case .tape(let tape): return tape.kind(of: tape.root) == .object
        case .value(let value): return value.objectValue != nil
        }
    }

    /// The top-level member `key`.
    func member(_ key: String) -> JSONValue? {
        switch self {
        case .tape(let tape): return tape.member(key, of: tape.root).map { tape.value(of: $0) }
        case .value(let value): return value[key]
        }
    }

    /// The event as a hook argument (a tape goes as it is).
    var argument: LuaArgument {
        switch self {
        case .tape(let tape): return .tape(tape)
        case .value(let value): return .json(value)
        }
    }

    var message: RudderMessage {
        switch self {
        case .tape(let tape): return RudderMessage(tape: tape)
        case .value(let value): return RudderMessage(value)
        }
    }
}
