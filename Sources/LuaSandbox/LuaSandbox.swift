internal import CPinRulesLua
internal import CPinRulesShims
public import PinJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Lua value the host keeps in a sandbox: what a loaded chunk returned. Valid only with the
/// sandbox that made it.
public struct LuaReference: Hashable, Sendable {
    let id: Int32
    let owner: ObjectIdentifier
}

/// An argument to a call: a JSON value (becomes Lua tables, see docs/sandbox.md) or a value
/// the sandbox already holds.
public enum LuaArgument: Sendable {
    case json(JSONValue)
    case reference(LuaReference)
}

/// What a call returned.
public struct LuaCallResult: Sendable, Equatable {
    /// The function's return values, as JSON (`nil` becomes `null`).
    public var values: [JSONValue]
    /// Paths of strings that were not valid UTF-8 and were repaired (U+FFFD).
    public var warnings: [String]
    public var statistics: CallStatistics
}

/// A sandboxed Lua 5.4 state: one `lua_State`, owned here, closed on deinit.
///
/// Rule code loaded with `load(_:chunkName:)` sees only what docs/sandbox.md lists, in an
/// environment of its own; every call and every load runs under the configured limits, and
/// every failure comes back as a `SandboxError` with the sandbox ready for the next call.
///
/// A sandbox is used by one thread at a time (it is deliberately not `Sendable`); for parallel
/// work give each thread its own sandbox. Lua keeps no process-wide state, so separate
/// sandboxes run in parallel safely.
public final class LuaSandbox {
    private let state: OpaquePointer
    private let context: UnsafeMutablePointer<pinrules_ctx>
    private var encoder: TapeEncoder
    private var sandboxFunctions: LuaReference?
    public let configuration: SandboxConfiguration

    /// The limits of the next calls.
    public var limits: SandboxLimits {
        didSet { applyLimits() }
    }

    /// Statistics of the last load or call, successful or not.
    public private(set) var lastStatistics = CallStatistics()

    public init(configuration: SandboxConfiguration = SandboxConfiguration()) throws(SandboxError) {
        self.configuration = configuration
        self.limits = configuration.limits
        self.encoder = TapeEncoder(maxDepth: configuration.maxDepth)
        context = UnsafeMutablePointer<pinrules_ctx>.allocate(capacity: 1)
        context.initialize(to: pinrules_ctx())
        context.pointee.hook_interval = Int32(clamping: max(1, configuration.hookInterval))
        context.pointee.max_depth = Int32(clamping: max(1, min(configuration.maxDepth, 1024)))
        context.pointee.max_result_bytes = max(1, configuration.maxResultBytes)
        context.pointee.coverage = configuration.recordsLineCoverage ? 1 : 0
        context.pointee.unguarded = configuration.unguardedForMeasurement ? 1 : 0
        guard let state = pinrules_open(context) else {
            context.deallocate()
            throw .limit(.memory)
        }
        self.state = state
        let status = SandboxBootstrap.source.withCString { source in
            pinrules_setup(state, source, strlen(source))
        }
        guard status == PINRULES_OK else {
            let error = makeError(status, chunk: "sandbox", source: nil)
            pinrules_close(state, context)
            context.deallocate()
            throw error
        }
        applyLimits()
        let functions = try loadChunk("return sandbox", chunkName: "sandbox", trusted: true)
        sandboxFunctions = functions
        if configuration.randomSeed != 0 { try reseed(configuration.randomSeed) }
        if let fixedTime = configuration.fixedTime { try setFixedTime(fixedTime) }
    }

    deinit {
        pinrules_close(state, context)
        context.deallocate()
    }

    private func applyLimits() {
        context.pointee.memory_limit = max(0, limits.memoryBytes)
        context.pointee.instruction_limit = max(0, limits.instructions)
        let (seconds, attoseconds) = limits.deadline.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        context.pointee.deadline_ns = max(0, nanoseconds)
    }

    /// Compiles rule code (text only) and runs its top level in a new environment of its own,
    /// under the limits; keeps its return value.
    /// - parameter source: the Lua source text.
    /// - parameter chunkName: how errors name the chunk, typically the file path.
    /// - returns: a reference to the chunk's first return value (nil when it returns nothing).
    /// - throws: `SandboxError` (`.syntax` when it does not compile).
    public func load(_ source: String, chunkName: String) throws(SandboxError) -> LuaReference {
        try loadChunk(source, chunkName: chunkName, trusted: false)
    }

    /// Loads host code: the same limits and base functions, plus the table `sandbox` with
    /// `freeze(table, name)` (a read-only view), `globals` (the writable table behind every
    /// chunk's globals, to define functions rules can call), `set_clock` and `reseed`.
    /// Host code shares one environment; never load rule code this way.
    public func loadTrusted(_ source: String, chunkName: String) throws(SandboxError) -> LuaReference {
        try loadChunk(source, chunkName: chunkName, trusted: true)
    }

    /// Compiles without running anything; returns the syntax error, if any.
    public func syntaxError(in source: String, chunkName: String) -> SandboxError? {
        do {
            _ = try loadChunk(source, chunkName: chunkName, mode: Int32(PINRULES_LOAD_COMPILE_ONLY))
            return nil
        } catch {
            return error
        }
    }

    private func loadChunk(_ source: String, chunkName: String, trusted: Bool) throws(SandboxError) -> LuaReference {
        let mode = trusted ? PINRULES_LOAD_TRUSTED : PINRULES_LOAD_RULE
        return try loadChunk(source, chunkName: chunkName, mode: Int32(mode))
    }

    private func loadChunk(_ source: String, chunkName: String, mode: Int32) throws(SandboxError) -> LuaReference {
        var reference: Int32 = 0
        let start = monotonicNanoseconds()
        let status = compile(source, chunkName: chunkName, mode: mode, reference: &reference)
        recordStatistics(since: start)
        guard status == PINRULES_OK else {
            let error = finishFailure(status, chunk: chunkName, source: source)
            if case .syntax(let chunk, let line?, _, let message) = error {
                let column = syntaxColumn(source: source, chunkName: chunkName, line: line, message: message)
                throw .syntax(chunk: chunk, line: line, column: column, message: message)
            }
            throw error
        }
        return LuaReference(id: reference, owner: ObjectIdentifier(self))
    }

    private func compile(_ source: String, chunkName: String, mode: Int32, reference: inout Int32) -> pinrules_status {
        var source = source
        return source.withUTF8 { utf8 in
            ("=" + chunkName).withCString { name in
                utf8.withMemoryRebound(to: CChar.self) { text in
                    pinrules_load(state, text.baseAddress, text.count, name, mode, &reference)
                }
            }
        }
    }

    /// Lua names the token it stopped at (`near '='`) but not its column. Of the places that
    /// token stands on the reported line, the right one is the first after which the source,
    /// cut there, fails with the very same message: before it, the parser would have reached
    /// the end of the text instead.
    private func syntaxColumn(source: String, chunkName: String, line: Int, message: String) -> Int? {
        guard let nearRange = message.ranges(of: " near ").last else { return nil }
        let token = message[nearRange.upperBound...]
        // Lua ends a line at \n, \r or \r\n; Swift sees \r\n as one newline character too.
        var lines = source.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
        guard line - 1 < lines.count else { return nil }
        let text = lines[line - 1]
        if token == "<eof>" { return text.count + 1 }
        guard token.hasPrefix("'"), token.hasSuffix("'"), token.count >= 2 else { return nil }
        let bare = token.dropFirst().dropLast()
        let candidates = text.ranges(of: bare)
        guard candidates.count > 1 else {
            return candidates.first.map { text.distance(from: text.startIndex, to: $0.lowerBound) + 1 }
        }
        let expected = "\(line): \(message)"
        for candidate in candidates {
            lines[line - 1] = text[..<candidate.upperBound]
            let prefix = lines[..<line].joined(separator: "\n")
            var unused: Int32 = 0
            _ = compile(prefix, chunkName: chunkName, mode: Int32(PINRULES_LOAD_COMPILE_ONLY), reference: &unused)
            let got = context.pointee.message.map { String(cString: $0) } ?? ""
            if got.hasSuffix(expected) {
                return text.distance(from: text.startIndex, to: candidate.lowerBound) + 1
            }
        }
        return candidates.first.map { text.distance(from: text.startIndex, to: $0.lowerBound) + 1 }
    }

    /// Calls a function the sandbox holds: `reference` itself, or its field `field` (read raw)
    /// when given. Arguments become Lua values; results are read back raw, in protected code.
    /// - throws: `SandboxError`; the sandbox stays usable.
    public func call(_ reference: LuaReference, field: String? = nil, arguments: [LuaArgument] = []) throws(SandboxError) -> LuaCallResult {
        guard reference.owner == ObjectIdentifier(self) else {
            throw .host(message: "the reference belongs to another sandbox")
        }
        for case .reference(let argument) in arguments where argument.owner != ObjectIdentifier(self) {
            throw .host(message: "an argument reference belongs to another sandbox")
        }
        try encoder.encode(arguments)
        let start = monotonicNanoseconds()
        let status: pinrules_status = encoder.bytes.withUnsafeBufferPointer { tape in
            if let field {
                return field.withCString { name in
                    pinrules_call(state, reference.id, name, tape.baseAddress, tape.count)
                }
            }
            return pinrules_call(state, reference.id, nil, tape.baseAddress, tape.count)
        }
        recordStatistics(since: start)
        guard status == PINRULES_OK else { throw finishFailure(status, chunk: nil, source: nil) }
        var values: [JSONValue] = []
        if let out = context.pointee.out {
            var decoder = TapeDecoder(UnsafePointer(out), count: context.pointee.out_len)
            values = try decoder.decodeAll(count: Int(context.pointee.out_count))
        } else if context.pointee.out_count > 0 {
            throw .host(message: "missing result tape")
        }
        var warnings: [String] = []
        if let text = context.pointee.warnings {
            warnings = String(cString: text).split(separator: "\n").map {
                "invalid UTF-8 repaired at \($0)"
            }
        }
        return LuaCallResult(values: values, warnings: warnings, statistics: lastStatistics)
    }

    /// Makes `os.time()` return `seconds` (and `os.date()` format it) until changed; nil
    /// restores the real clock.
    public func setFixedTime(_ seconds: Int64?) throws(SandboxError) {
        guard let sandboxFunctions else { return }
        _ = try call(sandboxFunctions, field: "set_clock", arguments: [.json(seconds.map { .integer($0) } ?? .bool(false))])
    }

    /// Reseeds `math.random`.
    public func reseed(_ seed: Int64) throws(SandboxError) {
        guard let sandboxFunctions else { return }
        _ = try call(sandboxFunctions, field: "reseed", arguments: [.json(.integer(seed))])
    }

    /// The lines executed so far, per chunk name, when the sandbox records line coverage.
    public func coveredLines() throws(SandboxError) -> [String: [Int]] {
        let status = pinrules_coverage(state)
        guard status == PINRULES_OK else { throw finishFailure(status, chunk: nil, source: nil) }
        guard let out = context.pointee.out, context.pointee.out_count == 1 else { return [:] }
        var decoder = TapeDecoder(UnsafePointer(out), count: context.pointee.out_len)
        guard case .object(let chunks)? = try decoder.decodeAll(count: 1).first else { return [:] }
        var result: [String: [Int]] = [:]
        for (source, lines) in chunks.elements {
            let name = source.hasPrefix("=") || source.hasPrefix("@") ? String(source.dropFirst()) : source
            var numbers: [Int] = []
            for case .integer(let line) in lines.arrayValue ?? [] { numbers.append(Int(line)) }
            result[name, default: []] += numbers
        }
        return result.mapValues { Array(Set($0)).sorted() }
    }

    /// Bytes the Lua state holds now.
    public var memoryInUse: Int { context.pointee.memory_in_use }

    private func recordStatistics(since start: UInt64) {
        lastStatistics = CallStatistics(
            instructions: context.pointee.instructions,
            peakMemoryBytes: context.pointee.memory_peak,
            nanoseconds: monotonicNanoseconds() &- start
        )
    }

    private func finishFailure(_ status: pinrules_status, chunk: String?, source: String?) -> SandboxError {
        let error = makeError(status, chunk: chunk, source: source)
        if case .limit = error {
            // Give back what the breaching code held, so the next call starts with room.
            pinrules_collect(state)
        }
        return error
    }

    private func makeError(_ status: pinrules_status, chunk: String?, source: String?) -> SandboxError {
        let message = context.pointee.message.map { String(cString: $0) } ?? "unknown error"
        switch status {
        case PINRULES_SYNTAX:
            return SyntaxErrorParser.parse(message: message, chunk: chunk ?? "?")
        case PINRULES_LIMIT:
            switch Int32(context.pointee.breached) {
            case Int32(PINRULES_LIMIT_INSTRUCTIONS.rawValue): return .limit(.instructions)
            case Int32(PINRULES_LIMIT_DEADLINE.rawValue): return .limit(.deadline)
            default: return .limit(.memory)
            }
        case PINRULES_FORBIDDEN:
            let name = fixedCString(&context.pointee.forbidden_name)
            return .forbidden(name: name, message: message)
        case PINRULES_BAD_RETURN:
            let path = fixedCString(&context.pointee.bad_path)
            return .badReturn(path: path, reason: message, result: Int(context.pointee.bad_result))
        case PINRULES_HOST:
            return .host(message: message)
        default:
            let errorChunk = fixedCString(&context.pointee.error_chunk)
            let line = Int(context.pointee.error_line)
            let traceback = context.pointee.traceback.map { String(cString: $0) }
            var text = message
            let prefix = "\(errorChunk):\(line): "
            if !errorChunk.isEmpty, line > 0, text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
            return .runtime(message: text, chunk: errorChunk.isEmpty ? nil : errorChunk, line: line > 0 ? line : nil, traceback: traceback)
        }
    }
}

@available(*, unavailable)
extension LuaSandbox: Sendable {}

/// The text of a NUL-terminated C `char` array imported as a tuple.
private func fixedCString<T>(_ storage: inout T) -> String {
    withUnsafeBytes(of: &storage) { bytes in
        String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}

func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Lua reports syntax errors as `chunk:line: message near 'token'`: this reads the line and the
/// message; `LuaSandbox.syntaxColumn` finds the column.
enum SyntaxErrorParser {
    static func parse(message: String, chunk: String) -> SandboxError {
        var text = message
        var line: Int? = nil
        // Lua shows at most LUA_IDSIZE - 1 bytes of a chunk name.
        let shown = String(decoding: chunk.utf8.prefix(59), as: UTF8.self)
        // Strip "chunk:" then read the line number.
        if text.hasPrefix(shown + ":") {
            let rest = text.dropFirst(shown.count + 1)
            let digits = rest.prefix(while: { $0.isNumber })
            if let number = Int(digits), rest.dropFirst(digits.count).hasPrefix(": ") {
                line = number
                text = String(rest.dropFirst(digits.count + 2))
            }
        }
        return .syntax(chunk: chunk, line: line, column: nil, message: text)
    }
}
