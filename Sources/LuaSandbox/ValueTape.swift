public import PinJSON

/// A growable byte buffer for tapes, written through a raw pointer (no capacity or uniqueness
/// check per byte, as an array append would make). Its owner deallocates it.
struct TapeBuffer {
    private(set) var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 4096) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    func deallocate() { storage.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < count + extra { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        grown.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = grown
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(tag: UInt8) {
        reserve(1)
        storage.storeBytes(of: tag, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    @inline(__always)
    mutating func appendU32(_ value: Int) {
        reserve(4)
        storage.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    mutating func append(tag: UInt8, _ value: UInt64) {
        reserve(9)
        storage.storeBytes(of: tag, toByteOffset: count, as: UInt8.self)
        storage.storeBytes(of: value.littleEndian, toByteOffset: count + 1, as: UInt64.self)
        count += 9
    }

    /// Raw bytes, as they are.
    @inline(__always)
    mutating func append(raw bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let base = bytes.baseAddress { (storage + count).copyMemory(from: base, byteCount: bytes.count) }
        count += bytes.count
    }

    /// A string or key: its length, then its bytes (after `tag` when given: keys have none).
    @inline(__always)
    mutating func append(tag: UInt8?, text bytes: UnsafeRawBufferPointer) {
        reserve(5 + bytes.count)
        var at = count
        if let tag {
            storage.storeBytes(of: tag, toByteOffset: at, as: UInt8.self)
            at += 1
        }
        storage.storeBytes(of: UInt32(truncatingIfNeeded: bytes.count).littleEndian, toByteOffset: at, as: UInt32.self)
        if let base = bytes.baseAddress { (storage + at + 4).copyMemory(from: base, byteCount: bytes.count) }
        count = at + 4 + bytes.count
    }

    mutating func append(tag: UInt8?, text: borrowing String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append(tag: tag, text: UnsafeRawBufferPointer($0)) }
        if copied == nil { Array(text.utf8).withUnsafeBytes { append(tag: tag, text: $0) } }
    }

    /// A container's header: tag, member count, then two slots `finishContainer` fills in (the
    /// size of its members in bytes and how many containers it holds), which let the C side
    /// skip it or number its children without reading it. Returns where it starts.
    @inline(__always)
    mutating func beginContainer(tag: UInt8, count members: Int) -> Int {
        reserve(13)
        let offset = count
        storage.storeBytes(of: tag, toByteOffset: offset, as: UInt8.self)
        storage.storeBytes(of: UInt32(truncatingIfNeeded: members).littleEndian, toByteOffset: offset + 1, as: UInt32.self)
        count += 13
        return offset
    }

    @inline(__always)
    func finishContainer(at offset: Int, members: Int? = nil, descendants: Int) {
        if let members { patch(members, at: offset + 1) }
        patch(count - (offset + 13), at: offset + 5)
        patch(descendants, at: offset + 9)
    }

    @inline(__always)
    private func patch(_ value: Int, at offset: Int) {
        storage.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt32.self)
    }
}

/// Encodes call arguments into the tape the C bridge reads (format in `bridge.c`). One encoder
/// per sandbox, reused: its buffer grows to the largest call and stays.
final class TapeEncoder {
    private var tape = TapeBuffer()
    let maxDepth: Int
    /// The arrays and objects of the last encoding, in tape order: results that come back
    /// unchanged (or reordered) refer to them by number.
    private(set) var containers = ArgumentContainers()

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
    }

    deinit { tape.deallocate() }

    /// The encoded bytes, valid until the next `encode`.
    var bytes: UnsafeRawBufferPointer { tape.bytes }

    func encode(_ arguments: [LuaArgument]) throws(SandboxError) {
        tape.removeAll()
        containers.removeAll()
        tape.appendU32(arguments.count)
        for argument in arguments {
            switch argument {
            case .json(let value): try append(value, depth: 0)
            case .prepared(let prepared):
                guard !prepared.tape.isEmpty else {
                    try append(prepared.value, depth: 0)
                    continue
                }
                guard prepared.depth <= maxDepth else { throw .badArgument(reason: "nesting deeper than \(maxDepth)") }
                prepared.tape.withUnsafeBytes { tape.append(raw: $0) }
                containers.append(list: prepared.containers)
            case .reference(let reference):
                tape.append(tag: UInt8(ascii: "r"))
                tape.appendU32(Int(UInt32(bitPattern: reference.id)))
            }
        }
    }

    private func beginContainer(tag: UInt8, count: Int, _ value: borrowing JSONValue) -> (offset: Int, containers: Int) {
        containers.append(copy value)
        return (tape.beginContainer(tag: tag, count: count), containers.count)
    }

    private func endContainer(_ header: (offset: Int, containers: Int)) {
        tape.finishContainer(at: header.offset, descendants: containers.count - header.containers)
    }

    /// Walks the value borrowed, through buffer pointers: iterating copies of elements (or
    /// binding them in patterns) would retain and release every string and container once
    /// more per call, which cost more than the encoding itself.
    private func append(_ value: borrowing JSONValue, depth: Int) throws(SandboxError) {
        switch value {
        case .null: tape.append(tag: UInt8(ascii: "n"))
        case .bool(let flag): tape.append(tag: flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .integer(let number): tape.append(tag: UInt8(ascii: "i"), UInt64(bitPattern: number))
        case .double(let number): tape.append(tag: UInt8(ascii: "d"), number.bitPattern)
        case .string(let text): tape.append(tag: UInt8(ascii: "s"), text: text)
        case .array(let elements):
            guard depth < maxDepth else { throw .badArgument(reason: "nesting deeper than \(maxDepth)") }
            let header = beginContainer(tag: UInt8(ascii: "a"), count: elements.count, value)
            try elements.withUnsafeBufferPointer { (buffer) throws(SandboxError) in
                for index in buffer.indices { try append(buffer[index], depth: depth + 1) }
            }
            endContainer(header)
        case .object(let object):
            guard depth < maxDepth else { throw .badArgument(reason: "nesting deeper than \(maxDepth)") }
            let header = beginContainer(tag: UInt8(ascii: "o"), count: object.count, value)
            try object.elements.withUnsafeBufferPointer { (buffer) throws(SandboxError) in
                for index in buffer.indices {
                    tape.append(tag: nil, text: buffer[index].key)
                    try append(buffer[index].value, depth: depth + 1)
                }
            }
            endContainer(header)
        }
    }
}

/// A JSON value parsed together with its encoding for the bridge (`LuaSandbox.prepare`):
/// handing it to a call as `LuaArgument.prepared` skips walking the value again, which for a
/// 1 KB event costs about as much as parsing it.
public struct PreparedJSON: Sendable {
    /// The parsed value.
    public let value: JSONValue
    /// The value in the argument tape format (see bridge.c), or empty when the document had a
    /// duplicate key (the call then encodes `value` itself).
    let tape: [UInt8]
    /// Its arrays and objects in tape order.
    let containers: [JSONValue]
    /// How deeply its containers nest (1 for a flat object).
    let depth: Int
}

/// Writes the tape of a document as the parser reports it (see `JSONParseObserver`), into a
/// buffer kept from one document to the next. Its state lives behind a pointer: as stored
/// properties of a class, every access paid a dynamic exclusivity check, which cost more than
/// the writing itself.
final class TapeRecorder: JSONParseObserver {
    private struct State {
        var tape = TapeBuffer()
        var containers: [JSONValue] = []
        var valid = true
        var maxDepth = 0
        /// Open containers: where each header starts and its number.
        var open: [(offset: Int, number: Int)] = []
    }

    private let state: UnsafeMutablePointer<State>

    init() {
        state = .allocate(capacity: 1)
        state.initialize(to: State())
        state.pointee.containers.reserveCapacity(32)
        state.pointee.open.reserveCapacity(16)
    }

    deinit {
        state.pointee.tape.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    func prepare(_ bytes: UnsafeRawBufferPointer, with parser: JSONParser) throws(JSONParseError) -> PreparedJSON {
        state.pointee.tape.removeAll()
        state.pointee.containers.removeAll(keepingCapacity: true)
        state.pointee.open.removeAll(keepingCapacity: true)
        state.pointee.valid = true
        state.pointee.maxDepth = 0
        let value = try parser.parse(bytes, observer: self)
        let recorded = state.pointee
        guard recorded.valid else { return PreparedJSON(value: value, tape: [], containers: [], depth: recorded.maxDepth) }
        return PreparedJSON(value: value, tape: [UInt8](recorded.tape.bytes), containers: recorded.containers, depth: recorded.maxDepth)
    }

    func beginContainer(isObject: Bool) {
        let s = state
        let offset = s.pointee.tape.beginContainer(tag: isObject ? UInt8(ascii: "o") : UInt8(ascii: "a"), count: 0)
        s.pointee.open.append((offset, s.pointee.containers.count))
        s.pointee.maxDepth = max(s.pointee.maxDepth, s.pointee.open.count)
        s.pointee.containers.append(.null)
    }

    func key(_ text: UnsafeRawBufferPointer) { state.pointee.tape.append(tag: nil, text: text) }

    func string(_ text: UnsafeRawBufferPointer) { state.pointee.tape.append(tag: UInt8(ascii: "s"), text: text) }

    func scalar(_ value: JSONValue) {
        switch value {
        case .null: state.pointee.tape.append(tag: UInt8(ascii: "n"))
        case .bool(let flag): state.pointee.tape.append(tag: flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .integer(let number): state.pointee.tape.append(tag: UInt8(ascii: "i"), UInt64(bitPattern: number))
        case .double(let number): state.pointee.tape.append(tag: UInt8(ascii: "d"), number.bitPattern)
        case .string, .array, .object: state.pointee.valid = false   // not a scalar: reported otherwise
        }
    }

    func endContainer(_ value: JSONValue, count members: Int) {
        let s = state
        guard let (offset, number) = s.pointee.open.popLast() else {
            s.pointee.valid = false
            return
        }
        s.pointee.tape.finishContainer(at: offset, members: members, descendants: s.pointee.containers.count - number - 1)
        s.pointee.containers[number] = value
    }

    func duplicateKey() { state.pointee.valid = false }
}

/// The containers of an argument tape by number: the encoder's own, and whole lists taken from
/// prepared arguments without copying (and retaining) their elements one by one.
struct ArgumentContainers {
    private var segments: [[JSONValue]] = [[]]
    private var firsts: [Int] = [0]
    private(set) var count = 0

    init() {
        segments[0].reserveCapacity(32)
    }

    mutating func removeAll() {
        if segments.count > 1 {
            segments.removeLast(segments.count - 1)
            firsts.removeLast(firsts.count - 1)
        }
        segments[0].removeAll(keepingCapacity: true)
        count = 0
    }

    mutating func append(_ value: JSONValue) {
        segments[segments.count - 1].append(value)
        count += 1
    }

    /// All of them in order (for tests).
    var all: [JSONValue] { segments.flatMap { $0 } }

    mutating func append(list: [JSONValue]) {
        segments.append(list)
        firsts.append(count)
        count += list.count
        // Own containers after it go to a segment of their own.
        segments.append([])
        firsts.append(count)
    }

    subscript(number: Int) -> JSONValue? {
        guard number >= 0, number < count else { return nil }
        var segment = segments.count - 1
        while firsts[segment] > number { segment -= 1 }
        return segments[segment][number - firsts[segment]]
    }
}

/// Reads the result tape. The C side wrote it, so a malformed tape is a bug: it ends decoding
/// with a host error rather than trapping.
struct TapeDecoder {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var position = 0
    /// The argument containers, for results that refer to them.
    private let containers: ArgumentContainers

    init(_ base: UnsafePointer<UInt8>, count: Int, containers: ArgumentContainers = ArgumentContainers()) {
        self.base = base
        self.end = count
        self.containers = containers
    }

    private mutating func container(_ number: Int) throws(SandboxError) -> JSONValue {
        guard let container = containers[number] else { throw .host(message: "result refers to an unknown argument") }
        return container
    }

    mutating func decodeAll(count: Int) throws(SandboxError) -> [JSONValue] {
        var values: [JSONValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try decode()) }
        return values
    }

    private mutating func readU32() throws(SandboxError) -> Int {
        guard end - position >= 4 else { throw .host(message: "truncated result tape") }
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + position, count: 4)) }
        position += 4
        return Int(UInt32(littleEndian: value))
    }

    private func peekU32() -> UInt32? {
        guard end - position >= 4 else { return nil }
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + position, count: 4)) }
        return UInt32(littleEndian: value)
    }

    private mutating func readU64() throws(SandboxError) -> UInt64 {
        guard end - position >= 8 else { throw .host(message: "truncated result tape") }
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + position, count: 8)) }
        position += 8
        return UInt64(littleEndian: value)
    }

    /// Invalid UTF-8 becomes U+FFFD here; the C side reported where.
    private mutating func readString() throws(SandboxError) -> String {
        let length = try readU32()
        guard end - position >= length else { throw .host(message: "truncated result tape") }
        let text = String(decoding: UnsafeBufferPointer(start: base + position, count: length), as: UTF8.self)
        position += length
        return text
    }

    /// An argument object that changed: its members keep the order they came in with (most
    /// arrive as indexes into the original); new keys follow, sorted. Members are copied out
    /// of the original once each, at the end.
    private mutating func decodeChangedObject(origin: JSONObject) throws(SandboxError) -> JSONObject {
        let count = try readU32()
        // Per original member: 0 gone, 1 kept as it was, 2 kept with a new value.
        var state = [UInt8](repeating: 0, count: origin.count)
        var changed: [(index: Int, value: JSONValue)] = []
        var added: [(key: String, value: JSONValue)] = []
        for _ in 0..<count {
            let marker = peekU32()
            if marker == UInt32.max || marker == UInt32.max - 1 {
                position += 4
                let index = try readU32()
                guard index < origin.count, state[index] == 0 else { throw .host(message: "result refers to an unknown member") }
                if marker == UInt32.max {
                    state[index] = 1
                } else {
                    state[index] = 2
                    changed.append((index, try decode()))
                }
            } else {
                // The C side matched keys byte for byte: a key sent by name is a new one.
                let key = try readString()
                added.append((key, try decode()))
            }
        }
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(count)
        // Lua's traversal order is not the original's: put the changed ones in its order.
        if changed.count > 1 { changed.sort { $0.index < $1.index } }
        var next = 0
        origin.elements.withUnsafeBufferPointer { original in
            for index in original.indices {
                switch state[index] {
                case 1: members.append(original[index])
                case 2:
                    members.append((original[index].key, changed[next].value))
                    next += 1
                default: break
                }
            }
        }
        if added.count > 1 { added.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } }
        members.append(contentsOf: added)
        return JSONObject(uniqueMembers: members)
    }

    private mutating func decode() throws(SandboxError) -> JSONValue {
        guard position < end else { throw .host(message: "truncated result tape") }
        let tag = base[position]
        position += 1
        switch tag {
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "i"): return .integer(Int64(bitPattern: try readU64()))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try readU64()))
        case UInt8(ascii: "s"): return .string(try readString())
        case UInt8(ascii: "a"):
            let count = try readU32()
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try decode()) }
            return .array(elements)
        case UInt8(ascii: "="):
            // An argument table the call left as it was: the value sent, not a copy.
            return try container(try readU32())
        case UInt8(ascii: "o"):
            // Lua tables have no key order (and Lua seeds its string hash per state): new keys
            // come out sorted, so the output does not change from run to run.
            let count = try readU32()
            var members: [(key: String, value: JSONValue)] = []
            members.reserveCapacity(count)
            for _ in 0..<count { members.append((try readString(), try decode())) }
            members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(JSONObject(uniqueMembers: members))
        case UInt8(ascii: "O"):
            return .object(try decodeChangedObject(origin: try container(try readU32()).objectValue ?? JSONObject()))
        default:
            throw .host(message: "malformed result tape")
        }
    }
}
