/// Writes the tape of a document (see `JSONTape`) as the parser reports it, into a buffer kept
/// from one document to the next. Its state lives behind a pointer: as stored properties of a
/// class, every access paid a dynamic exclusivity check, which cost more than the writing.
package final class TapeRecorder {
    private struct State {
        var tape = TapeBuffer()
        var count = 0
        var valid = true
        var maxDepth = 0
        /// Open containers: where each header starts and its number.
        var open: [(offset: Int, number: Int)] = []
    }

    private let state: UnsafeMutablePointer<State>

    package init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        state.pointee.open.reserveCapacity(16)
    }

    deinit {
        state.pointee.tape.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// The last document's tape; valid until the next one.
    package var bytes: UnsafeRawBufferPointer { state.pointee.tape.bytes }
    /// False when the last document had (possibly) duplicate keys: its tape does not match it.
    package var isValid: Bool { state.pointee.valid }
    package var depth: Int { state.pointee.maxDepth }

    private func reset() {
        state.pointee.tape.removeAll()
        state.pointee.count = 0
        state.pointee.open.removeAll(keepingCapacity: true)
        state.pointee.valid = true
        state.pointee.maxDepth = 0
    }

    /// Records the tape of `bytes` without building a value.
    package func scan(_ bytes: UnsafeRawBufferPointer, with parser: JSONParser) throws(JSONParseError) {
        reset()
        try parser.scan(bytes, recorder: self)
    }

    package func beginContainer(isObject: Bool) {
        let s = state
        let offset = s.pointee.tape.beginContainer(tag: isObject ? UInt8(ascii: "o") : UInt8(ascii: "a"), count: 0)
        s.pointee.open.append((offset, s.pointee.count))
        s.pointee.maxDepth = max(s.pointee.maxDepth, s.pointee.open.count)
        s.pointee.count += 1
    }

    @inline(__always)
    package func key(_ text: UnsafeRawBufferPointer) { state.pointee.tape.append(tag: nil, text: text) }

    @inline(__always)
    package func string(_ text: UnsafeRawBufferPointer) { state.pointee.tape.append(tag: UInt8(ascii: "s"), text: text) }

    package func scalar(_ value: JSONValue) {
        switch value {
        case .null: state.pointee.tape.append(tag: UInt8(ascii: "n"))
        case .bool(let flag): state.pointee.tape.append(tag: flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .integer(let number): state.pointee.tape.append(tag: UInt8(ascii: "i"), UInt64(bitPattern: number))
        case .double(let number): state.pointee.tape.append(tag: UInt8(ascii: "d"), number.bitPattern)
        case .string, .array, .object: state.pointee.valid = false   // not a scalar: reported otherwise
        }
    }

    package func endContainer(_ value: JSONValue, count members: Int) {
        let s = state
        guard let (offset, number) = s.pointee.open.popLast() else {
            s.pointee.valid = false
            return
        }
        s.pointee.tape.finishContainer(at: offset, members: members, descendants: s.pointee.count - number - 1)
    }

    package func duplicateKey() { state.pointee.valid = false }
}

/// Parses JSON texts straight into `JSONTape`s, without building `JSONValue` trees, reusing its
/// buffers from one text to the next. One per thread (it is not `Sendable`).
public final class JSONTapeParser {
    public let parser: JSONParser
    private let recorder = TapeRecorder()
    /// For `FastTapeScanner` (its tape too), kept from one text to the next.
    private let scratch = FastTapeScanner.Scratch()
    /// The storage of the last two tapes made, taken again once their holders let go: a caller
    /// usually still holds the last tape at the next call, and no longer the one before (one
    /// array alone was never free when reused). One thread at a time (the parser is not
    /// Sendable): no dynamic exclusivity checks needed.
    @exclusivity(unchecked) private var lastTape: [UInt8] = []
    @exclusivity(unchecked) private var tapeBefore: [UInt8] = []

    public init(parser: JSONParser = JSONParser()) {
        self.parser = parser
    }

    /// The tape of a JSON text; the same errors as `JSONParser.parse`, and for a text with
    /// duplicate keys the tape of what `parse` makes of it (the last value wins, in the first
    /// one's place).
    public func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONTape {
        if let (depth, tape) = FastTapeScanner.scan(bytes, maxDepth: parser.maxDepth, scratch: scratch) {
            return JSONTape(encoded: recycled(tape), depth: depth)
        }
        return try parseCarefully(bytes)
    }

    /// A copy of `tape` in the storage of the tape before the last when nothing holds it any
    /// more (else in new storage: the arrays copy on write).
    private func recycled(_ tape: UnsafeRawBufferPointer) -> [UInt8] {
        swap(&lastTape, &tapeBefore)
        lastTape.replaceSubrange(lastTape.indices, with: tape)
        return lastTape
    }

    /// The careful path alone (the fast one declined): the parser's own checks and errors.
    package func parseCarefully(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONTape {
        try recorder.scan(bytes, with: parser)
        guard recorder.isValid else {
            // Keys that share a hash, maybe duplicates: the parser decides.
            return JSONTape(try parser.parse(bytes))
        }
        return JSONTape(encoded: [UInt8](recorder.bytes), depth: recorder.depth)
    }

    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONTape {
        try bytes.withUnsafeBytes { buffer in Result { () throws(JSONParseError) in try parse(buffer) } }.get()
    }

    /// Whether the fast path takes `bytes` (for tests and benchmarks).
    package func fastPathTakes(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { FastTapeScanner.scan($0, maxDepth: parser.maxDepth, scratch: scratch) != nil }
    }
}

@available(*, unavailable)
extension JSONTapeParser: Sendable {}
