public import PinJSON

/// What mapping one message did.
public enum MappingResult: Sendable, Equatable {
    /// The calls to make, in order, and anything the user should know.
    case calls([PintrkCall], warnings: [String])
    /// A supported message that yields no call: a track without a name, an identify without an
    /// email.
    case nothingToSend(reason: String, warnings: [String])
    /// A message type this destination does not handle (`group`, `screen`, a missing type).
    case unsupported(reason: String)
    /// A message RudderStack would lose with an exception (`properties.products` is a string);
    /// `event` is the original message, so it can be kept or replayed.
    case failed(message: String, event: JSONValue, warnings: [String])

    /// The calls, or none.
    public var calls: [PintrkCall] {
        if case .calls(let calls, _) = self { return calls }
        return []
    }

    /// The warnings, whatever the outcome.
    public var warnings: [String] {
        switch self {
        case .calls(_, let warnings), .nothingToSend(_, let warnings), .failed(_, _, let warnings): return warnings
        case .unsupported: return []
        }
    }

    /// Why nothing was sent, or `nil` when there are calls.
    public var reason: String? {
        switch self {
        case .calls: return nil
        case .nothingToSend(let reason, _), .unsupported(let reason): return reason
        case .failed(let message, _, _): return message
        }
    }
}
