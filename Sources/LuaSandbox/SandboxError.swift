/// Which limit a call breached.
public enum SandboxLimitKind: String, Sendable, Equatable, CaseIterable {
    case memory
    case instructions
    case deadline
}

/// Why a load or a call into the sandbox failed. Every failure of rule code ends in one of these;
/// none of them leaves the sandbox unusable.
public enum SandboxError: Error, Sendable, Equatable {
    /// The chunk does not compile. `line` and `column` are 1-based; the column is derived from
    /// the token Lua names (`near 'x'`) and is nil when Lua names none.
    case syntax(chunk: String, line: Int?, column: Int?, message: String)
    /// Lua code raised an error. `message` is Lua's message without the `chunk:line:` prefix;
    /// `chunk` and `line` are where it was raised (innermost Lua function), when known.
    case runtime(message: String, chunk: String?, line: Int?, traceback: String?)
    /// A limit was breached (memory, instructions or deadline).
    case limit(SandboxLimitKind)
    /// Code used something the sandbox does not offer, or wrote to a read-only shared table.
    /// `name` is what it used (`io`, `os.execute`, `string.upper`, `__gc`).
    case forbidden(name: String, message: String)
    /// A result cannot become JSON. `path` names the value inside the result
    /// (`properties.self`; `[2]` is an array index, 1-based as in Lua); `result` is the
    /// 1-based position of the result among several.
    case badReturn(path: String, reason: String, result: Int)
    /// An argument cannot be handed to Lua (nested deeper than the bridge allows).
    case badArgument(reason: String)
    /// The host used the sandbox wrongly (a reference from another sandbox, a missing
    /// function). A bug in the host, not in rule code.
    case host(message: String)
}

extension SandboxError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .syntax(let chunk, let line, let column, let message):
            var position = chunk
            if let line { position += ":\(line)" }
            if let column { position += ":\(column)" }
            return "\(position): syntax error: \(message)"
        case .runtime(let message, let chunk, let line, _):
            if let chunk, let line { return "\(chunk):\(line): \(message)" }
            return message
        case .limit(let kind):
            switch kind {
            case .memory: return "memory limit exceeded"
            case .instructions: return "instruction limit exceeded"
            case .deadline: return "deadline exceeded"
            }
        case .forbidden(_, let message):
            return message
        case .badReturn(let path, let reason, _):
            return path.isEmpty ? "bad return value: \(reason)" : "bad return value at \(path): \(reason)"
        case .badArgument(let reason):
            return "bad argument: \(reason)"
        case .host(let message):
            return "sandbox host error: \(message)"
        }
    }

    /// A short machine-readable name for the kind of error: `syntax`, `runtime`, `limit`,
    /// `forbidden`, `bad_return`, `bad_argument`, `host`.
    public var kindName: String {
        switch self {
        case .syntax: return "syntax"
        case .runtime: return "runtime"
        case .limit: return "limit"
        case .forbidden: return "forbidden"
        case .badReturn: return "bad_return"
        case .badArgument: return "bad_argument"
        case .host: return "host"
        }
    }
}
