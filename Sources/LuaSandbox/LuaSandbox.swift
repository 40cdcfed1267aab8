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
    /// A value in tape form: the same as `.json(tape.value)`, without building or encoding it.
    case tape(JSONTape)
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

/// What a call returned, as tapes (`LuaSandbox.callReturningTapes`).
public struct LuaTapeCallResult: Sendable, Equatable {
    /// The function's return values (`nil` becomes `null`).
    public var tapes: [JSONTape]
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
    private let encoder: TapeEncoder
    /// Where `callReturningTapes` writes its results before copying each out.
    @exclusivity(unchecked) private var patchBuffer = TapeBuffer()
    /// The patcher's lists, kept likewise.
    private let patchScratch = PatchScratch()
    private var sandboxFunctions: LuaReference?
    public let configuration: SandboxConfiguration

    /// The limits of the next calls.
    public var limits: SandboxLimits {
        didSet { applyLimits() }
    }

    /// Statistics of the last load or call, successful or not.
    @exclusivity(unchecked) public private(set) var lastStatistics = CallStatistics()

    public init(configuration: SandboxConfiguration = SandboxConfiguration()) throws(SandboxError) {
        self.configuration = configuration
        self.limits = configuration.limits
        // The same bound as the C side's (clamped to 1...1024 below), so an argument the encoder
        // accepts is never refused by the C reader as a malformed tape.
        self.encoder = TapeEncoder(maxDepth: max(1, min(configuration.maxDepth, 1024)))
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
        patchBuffer.deallocate()
        pinrules_close(state, context)
        context.deallocate()
    }

    private func applyLimits() {
        context.pointee.memory_limit = max(0, limits.memoryBytes)
        context.pointee.instruction_limit = max(0, limits.instructions)
        // Saturating: a huge deadline (e.g. .seconds(Int64.max)) must not trap on overflow.
        let (seconds, attoseconds) = limits.deadline.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let nanoseconds = overflow ? (seconds > 0 ? Int64.max : 0) : whole.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
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

    private func loadChunk(_ source: String, chunkName: String, trusted: Bool) throws(SandboxError) -> LuaReference {
        let mode = Int32(trusted ? PINRULES_LOAD_TRUSTED : PINRULES_LOAD_RULE)
        var reference: Int32 = 0
        let status = compile(source, chunkName: chunkName, mode: mode, reference: &reference)
        recordStatistics()
        guard status == PINRULES_OK else { throw finishFailure(status, chunk: chunkName, source: source) }
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

    /// A reference to field `field` (read raw) of the table `reference` refers to: calling it
    /// costs no lookup of the field, as `call(reference, field:)` makes on every call.
    package func reference(toField field: String, of reference: LuaReference) throws(SandboxError) -> LuaReference {
        guard reference.owner == ObjectIdentifier(self) else {
            throw .host(message: "the reference belongs to another sandbox")
        }
        var made: Int32 = 0
        let status = field.withCString { name in pinrules_ref_field(state, reference.id, name, &made) }
        guard status == PINRULES_OK else { throw finishFailure(status, chunk: nil, source: nil) }
        return LuaReference(id: made, owner: ObjectIdentifier(self))
    }

    /// Calls a function the sandbox holds: `reference` itself, or its field `field` (read raw)
    /// when given. Arguments become Lua values; results are read back raw, in protected code.
    /// - throws: `SandboxError`; the sandbox stays usable.
    public func call(_ reference: LuaReference, field: String? = nil, arguments: [LuaArgument] = []) throws(SandboxError) -> LuaCallResult {
        try invoke(reference, field: field, arguments: arguments)
        var values: [JSONValue] = []
        if let out = context.pointee.out {
            var decoder = TapeDecoder(UnsafePointer(out), count: context.pointee.out_len, containers: encoder.containers)
            values = try decoder.decodeAll(count: Int(context.pointee.out_count))
        }
        return LuaCallResult(values: values, warnings: resultWarnings(), statistics: lastStatistics)
    }

    /// `call`, with the results as tapes: the parts of tape arguments that came
    /// back unchanged are copied as bytes, and nothing is built as a `JSONValue`. The values
    /// are those `call` returns (`LuaTapeCallResult.values` of each is equal to them).
    public func callReturningTapes(_ reference: LuaReference, field: String? = nil, arguments: [LuaArgument] = []) throws(SandboxError) -> LuaTapeCallResult {
        try invoke(reference, field: field, arguments: arguments)
        var tapes: [JSONTape] = []
        if let out = context.pointee.out {
            var patcher = TapePatcher(result: UnsafeRawBufferPointer(start: out, count: context.pointee.out_len),
                                      arguments: encoder.bytes, containers: encoder.containers, buffer: patchBuffer,
                                      scratch: patchScratch, allStringsValid: context.pointee.out_invalid_utf8 == 0)
            defer { patchBuffer = patcher.out }
            tapes = try patcher.patchAll(count: Int(context.pointee.out_count))
        }
        return LuaTapeCallResult(tapes: tapes, warnings: resultWarnings(), statistics: lastStatistics)
    }

    /// Runs a call; its results wait in the context's result tape.
    private func invoke(_ reference: LuaReference, field: String?, arguments: [LuaArgument]) throws(SandboxError) {
        guard reference.owner == ObjectIdentifier(self) else {
            throw .host(message: "the reference belongs to another sandbox")
        }
        for case .reference(let argument) in arguments where argument.owner != ObjectIdentifier(self) {
            throw .host(message: "an argument reference belongs to another sandbox")
        }
        try encoder.encode(arguments)
        let tape = encoder.bytes.bindMemory(to: UInt8.self)
        let status: pinrules_status
        if let field {
            status = field.withCString { name in pinrules_call(state, reference.id, name, tape.baseAddress, tape.count) }
        } else {
            status = pinrules_call(state, reference.id, nil, tape.baseAddress, tape.count)
        }
        recordStatistics()
        guard status == PINRULES_OK else { throw finishFailure(status, chunk: nil, source: nil) }
        if context.pointee.out == nil && context.pointee.out_count > 0 {
            throw .host(message: "missing result tape")
        }
    }

    private func resultWarnings() -> [String] {
        guard let text = context.pointee.warnings else { return [] }
        return String(cString: text).split(separator: "\n").map { "invalid UTF-8 repaired at \($0)" }
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

    /// What the entry point just run used; its time from when the C side armed it (the same
    /// clock), which saves a clock read per call.
    private func recordStatistics() {
        lastStatistics = CallStatistics(
            instructions: context.pointee.instructions,
            peakMemoryBytes: context.pointee.memory_peak,
            nanoseconds: monotonicNanoseconds() &- UInt64(clamping: context.pointee.armed_at_ns)
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
            let name = "=" + (chunk ?? "?")
            return SyntaxErrorParser.parse(message: message, chunk: chunk ?? "?", source: source) { prefix in
                // Compiles only; the source failed to compile, so nothing of it ever runs.
                let status = name.withCString { pinrules_compile(self.state, prefix.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, prefix.count, $0) }
                guard status == PINRULES_SYNTAX else { return nil }
                return self.context.pointee.message.map { String(cString: $0) }
            }
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

/// Lua reports syntax errors as `chunk:line: message near 'token'`, without a column. The column
/// is where that token is on that line. When the token occurs more than once on the line, the
/// one the parser stopped at is found by compiling (never running) the source cut right after
/// each occurrence: only the cut at the failing token fails with the very same message; a cut
/// after an earlier, valid occurrence fails at `<eof>` or compiles. Columns are 1-based and count
/// characters; lines end at LF (a CR before it is dropped), as Lua counts them for LF sources.
enum SyntaxErrorParser {
    /// - parameter compile: compiles a prefix of the source (UTF-8) and returns the raw message
    ///   of its syntax error, or nil when it compiles.
    static func parse(message: String, chunk: String, source: String?,
                      compile: ((UnsafeBufferPointer<UInt8>) -> String?)? = nil) -> SandboxError {
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
        var column: Int? = nil
        if let line, line >= 1, let source, let nearRange = text.ranges(of: " near ").last {
            let token = text[nearRange.upperBound...]
            let bytes = Array(source.utf8)
            // Byte ranges of the lines.
            var lineStarts = [0]
            for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { lineStarts.append(offset + 1) }
            if line - 1 < lineStarts.count {
                let start = lineStarts[line - 1]
                var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
                if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let lineBytes = Array(bytes[start..<end])
                func characters(_ count: Int) -> Int {
                    String(decoding: lineBytes.prefix(count), as: UTF8.self).count
                }
                if token == "<eof>" {
                    column = characters(lineBytes.count) + 1
                } else if token.hasPrefix("'"), token.hasSuffix("'"), token.count >= 2 {
                    let bare = Array(token.dropFirst().dropLast().utf8)
                    let candidates = occurrences(of: bare, in: lineBytes)
                    var chosen = candidates.first
                    if candidates.count > 1, let compile {
                        for candidate in candidates {
                            let cut = start + candidate + bare.count
                            let failure = bytes.withUnsafeBufferPointer { compile(UnsafeBufferPointer(rebasing: $0[0..<cut])) }
                            if failure == message { chosen = candidate; break }
                        }
                    }
                    if let chosen { column = characters(chosen) + 1 }
                }
            }
        }
        return .syntax(chunk: chunk, line: line, column: column, message: text)
    }

    /// Byte offsets of `token` in `line`; a token that is a name must stand alone (`end` is not
    /// found inside `send`).
    static func occurrences(of token: [UInt8], in line: [UInt8]) -> [Int] {
        guard !token.isEmpty, token.count <= line.count else { return [] }
        func isNameByte(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
        }
        let nameLike = token.allSatisfy(isNameByte)
        var found: [Int] = []
        for offset in 0...(line.count - token.count) where line[offset..<offset + token.count].elementsEqual(token) {
            if nameLike {
                if offset > 0, isNameByte(line[offset - 1]) { continue }
                if offset + token.count < line.count, isNameByte(line[offset + token.count]) { continue }
            }
            found.append(offset)
            if found.count == 16 { break }
        }
        return found
    }
}
