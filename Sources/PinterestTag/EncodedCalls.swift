public import PinJSON

/// The `pintrk` calls of one message in compact form: a tape of the JSON array of call arrays,
/// `[["set", {...}], ["track", "Checkout", {...}]]`. The mapping makes them this way, with the
/// event's values copied as bytes, so a stream's outcome is written without building them.
public struct EncodedCalls: Sendable, Equatable {
    /// The array of calls, each in its JSON array form (``PintrkCall/jsonArray``).
    public let tape: JSONTape

    package init(tape: JSONTape) { self.tape = tape }

    /// How many calls there are.
    public var count: Int { tape.count(of: tape.root) }

    /// The calls, built.
    public var calls: [PintrkCall] {
        guard case .array(let elements) = tape.value else { return [] }
        return elements.map(PintrkCall.init(madeByMapping:))
    }
}

/// What mapping one message did, with any calls in compact form.
package enum EncodedMappingResult: Sendable {
    case calls(EncodedCalls, warnings: [String])
    /// Anything without calls: `nothingToSend`, `unsupported` or `failed`.
    case noCalls(MappingResult)

    /// The same result with its calls built.
    package var decoded: MappingResult {
        switch self {
        case .calls(let calls, let warnings): return .calls(calls.calls, warnings: warnings)
        case .noCalls(let result): return result
        }
    }
}

extension PintrkCall {
    /// A call the mapping wrote, from its JSON array form. Those always have the right shape
    /// (`init(jsonArray:)` checks what rules return); this reads one without failing.
    init(madeByMapping array: JSONValue) {
        guard case .array(let elements) = array, case .string(let function)? = elements.first else {
            self.init(function: "")
            return
        }
        self.init(function: function)
        var rest = elements.dropFirst()
        if function == "track" || function == "load", case .string(let name)? = rest.first {
            if function == "track" { event = name } else { tagId = name }
            rest = rest.dropFirst()
        }
        if case .object(let object)? = rest.first { data = object }
    }
}
