import PinJSON

/// Encodes call arguments into the tape the C bridge reads (format in `bridge.c` and
/// `JSONTape`). One encoder per sandbox: its buffer is reused from call to call.
final class TapeEncoder {
    // One thread at a time uses a sandbox and its encoder (see LuaSandbox), so the dynamic
    // exclusivity checks Swift makes on class properties (~20 instructions per access, hundreds
    // per call) buy nothing here.
    @exclusivity(unchecked) private var tape = TapeBuffer()
    let maxDepth: Int
    /// The arrays and objects of the last encoding, in tape order: results that come back
    /// unchanged (or reordered) refer to them by number.
    @exclusivity(unchecked) private(set) var containers = ArgumentContainers()

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
            case .json(let value): try append(value)
            case .tape(let document):
                guard document.depth <= maxDepth else { throw .badArgument(reason: "nesting deeper than \(maxDepth)") }
                document.bytes.withUnsafeBytes { tape.append(raw: $0) }
                containers.append(tape: document)
            case .reference(let reference):
                tape.append(tag: UInt8(ascii: "r"))
                tape.appendU32(Int(UInt32(bitPattern: reference.id)))
            }
        }
    }

    private func append(_ value: JSONValue) throws(SandboxError) {
        guard TapeWriting.append(value, to: &tape, depth: 0, maxDepth: maxDepth, sink: &containers) != nil else {
            throw .badArgument(reason: "nesting deeper than \(maxDepth)")
        }
    }
}

/// The containers of an argument tape by number: the encoder's own, and those of tape
/// arguments, built only if a result refers to them.
struct ArgumentContainers: TapeContainerSink {
    private enum Segment {
        case values([JSONValue])
        case tape(JSONTape, count: Int)
    }
    private var segments: [Segment] = []
    private var own: [JSONValue] = []
    private var firsts: [Int] = []
    private(set) var count = 0

    init() {
        own.reserveCapacity(32)
    }

    mutating func removeAll() {
        // Calls have a segment or two, and most no own containers: dropping them one by one
        // costs less than `removeAll(keepingCapacity:)`, which costs even on an empty array.
        while segments.popLast() != nil {}
        while firsts.popLast() != nil {}
        if !own.isEmpty { own.removeAll(keepingCapacity: true) }
        count = 0
    }

    /// Closes the run of own containers (they are numbered before what follows).
    private mutating func closeOwn() {
        guard !own.isEmpty else { return }
        segments.append(.values(own))
        firsts.append(count - own.count)
        own.removeAll(keepingCapacity: true)
    }

    mutating func encoded(_ container: borrowing JSONValue) {
        own.append(copy container)
        count += 1
    }

    /// All of them in order (for tests).
    var all: [JSONValue] {
        var copy = self
        copy.closeOwn()
        return (0..<count).compactMap { copy[$0] }
    }

    mutating func append(tape: JSONTape) {
        closeOwn()
        let containers = tape.bytes.withUnsafeBytes { TapeReader($0, at: 0).containers(at: 0) }
        segments.append(.tape(tape, count: containers))
        firsts.append(count)
        count += containers
    }

    /// The tape argument whose root is container `number`, if that is what it is.
    func tapeArgument(rootedAt number: Int) -> JSONTape? {
        guard number >= 0, number < count - own.count else { return nil }
        var segment = segments.count - 1
        while firsts[segment] > number { segment -= 1 }
        guard firsts[segment] == number, case .tape(let tape, _) = segments[segment] else { return nil }
        return tape
    }

    subscript(number: Int) -> JSONValue? {
        guard number >= 0, number < count else { return nil }
        let ownFirst = count - own.count
        if number >= ownFirst { return own[number - ownFirst] }
        var segment = segments.count - 1
        while firsts[segment] > number { segment -= 1 }
        switch segments[segment] {
        case .values(let values): return values[number - firsts[segment]]
        case .tape(let tape, _):
            guard let node = tape.container(number - firsts[segment]) else { return nil }
            return tape.value(of: node)
        }
    }
}

/// The pieces of a 'P' result object (format in `bridge.c`).
enum WaitedObjectPiece {
    /// A run of unchanged members, copied whole from the argument tape.
    static let keptRun = Int(UInt32.max - 2)
    /// A member with a new value; its key is on the argument tape.
    static let changed = Int(UInt32.max - 3)
    /// The bytes after a kept run's marker, and after a changed member's.
    static let keptRunSize = 20
    static let changedSize = 8
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
        case UInt8(ascii: "P"):
            return .object(try decodeWaitedObject(origin: try container(try readU32()).objectValue ?? JSONObject()))
        default:
            throw .host(message: "malformed result tape")
        }
    }

    /// An argument object read or set member by member: runs of its members and changed ones
    /// in their original order, then new keys, sorted.
    private mutating func decodeWaitedObject(origin: JSONObject) throws(SandboxError) -> JSONObject {
        let count = try readU32()
        let pieces = try readU32()
        let original = origin.elements
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(count)
        var added: [(key: String, value: JSONValue)] = []
        var next = 0   // members come in order, each once
        for _ in 0..<pieces {
            switch Int(peekU32() ?? 0) {
            case WaitedObjectPiece.keptRun:
                position += 4
                let first = try readU32()
                let runLength = try readU32()
                guard first >= next, runLength <= original.count - first, end - position >= 12 else {
                    throw .host(message: "result refers to an unknown member")
                }
                position += 12
                members.append(contentsOf: original[first..<(first + runLength)])
                next = first + runLength
            case WaitedObjectPiece.changed:
                position += 4
                let index = try readU32()
                guard index >= next, index < original.count, end - position >= 4 else {
                    throw .host(message: "result refers to an unknown member")
                }
                position += 4
                members.append((original[index].key, try decode()))
                next = index + 1
            default:
                let key = try readString()
                added.append((key, try decode()))
            }
        }
        if added.count > 1 { added.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } }
        members.append(contentsOf: added)
        guard members.count == count else { throw .host(message: "malformed result tape") }
        return JSONObject(uniqueMembers: members)
    }
}

/// A key a result object adds (`TapePatcher`): where its bytes and its value are.
struct NewMember {
    /// The key's bytes: at this offset in the result tape or, when negative, repaired (it was
    /// not valid UTF-8) at offset `-1 - key` in `PatchScratch.repairedKeys`.
    var key: Int
    var keyLength: Int
    /// Where its value starts in the result tape.
    var value: Int
}

/// The patcher's lists, kept by the sandbox from call to call so that writing a changed object
/// allocates nothing (one thread at a time uses a sandbox, so no exclusivity checks either).
final class PatchScratch {
    /// The new keys of the objects being written, innermost last.
    @exclusivity(unchecked) var members: [NewMember] = []
    /// Repaired bytes of new keys that were not valid UTF-8.
    @exclusivity(unchecked) var repairedKeys: [UInt8] = []

    /// Small scalar results made lately (a hook's status string, `null`): the next equal one
    /// shares its bytes rather than allocating them again.
    @exclusivity(unchecked) private var recentScalars: [JSONTape] = []
    private var nextRecent = 0

    /// Container results (the event, ~1.5 KB): the pipeline is done with the last one by the
    /// next call, unless someone kept it, so its storage serves again.
    @exclusivity(unchecked) private var containerTapes = RecycledTapeStorage()

    /// The array the last call's tapes came in: the caller is done with it by the next call,
    /// so its storage serves again (one allocation less per call).
    @exclusivity(unchecked) private var lastResults: [JSONTape] = []

    /// An empty array for a call's tapes: the last call's, emptied, when nothing else holds it.
    func resultArray(reserving count: Int) -> [JSONTape] {
        var tapes = lastResults
        lastResults = []
        // Emptied in place when unique, which lets the last tapes go (a call returns a value or
        // three: popping them costs less than `removeAll(keepingCapacity:)`).
        while tapes.popLast() != nil {}
        tapes.reserveCapacity(count)
        return tapes
    }

    func keepResultArray(_ tapes: [JSONTape]) {
        lastResults = tapes
    }

    /// A tape of these bytes (a value patched into the output buffer).
    func tape(_ bytes: UnsafeRawBufferPointer, depth: Int?) -> JSONTape {
        guard bytes.count <= 32, let tag = bytes.first, tag != UInt8(ascii: "a"), tag != UInt8(ascii: "o") else {
            return containerTapes.tape(copying: bytes, depth: depth)
        }
        for recent in recentScalars where recent.bytes.count == bytes.count && recent.bytes.elementsEqual(bytes) {
            return recent
        }
        let made = JSONTape(encoded: [UInt8](bytes), depth: depth)   // a scalar: depth 0, known
        if recentScalars.count < 4 {
            recentScalars.append(made)
        } else {
            recentScalars[nextRecent] = made
            nextRecent = (nextRecent + 1) % 4
        }
        return made
    }

    /// Empties the lists (they are empty unless a patch failed; emptying an empty one costs).
    func removeAll() {
        if !members.isEmpty { members.removeAll(keepingCapacity: true) }
        if !repairedKeys.isEmpty { repairedKeys.removeAll(keepingCapacity: true) }
    }
}

/// Turns the result tape into complete `JSONTape`s: where the C side sent a reference to an
/// argument container ('=', 'O' and 'P', member indexes and runs), the argument's bytes are copied, so what
/// came back unchanged costs a copy, not a decoding. Members are ordered as `TapeDecoder`
/// orders them, and invalid UTF-8 is repaired as it repairs it, so both readings agree.
struct TapePatcher {
    private let result: UnsafeRawBufferPointer
    private var position = 0
    /// The argument tape of the call (a u32 count, then the arguments).
    private let arguments: UnsafeRawBufferPointer
    /// The output buffer, lent by the sandbox (kept from call to call); hand it back after.
    private(set) var out: TapeBuffer
    private var containersWritten = 0
    /// False once an argument container was copied: its depth is not known without a walk.
    private var depthKnown = true
    /// Lists for changed and new objects, lent by the sandbox (one for all objects, rather than
    /// arrays per object).
    private let scratch: PatchScratch

    /// The call's argument containers: a tape argument that comes back whole and unchanged is
    /// returned as it is, not copied.
    private let containers: ArgumentContainers
    /// The C side found every string of the result valid UTF-8 (`out_invalid_utf8`).
    private let allStringsValid: Bool

    init(result: UnsafeRawBufferPointer, arguments: UnsafeRawBufferPointer, containers: ArgumentContainers, buffer: TapeBuffer,
         scratch: PatchScratch = PatchScratch(), allStringsValid: Bool = false) {
        self.result = result
        self.allStringsValid = allStringsValid
        self.arguments = arguments
        self.containers = containers
        self.out = buffer
        self.scratch = scratch
    }

    mutating func patchAll(count: Int) throws(SandboxError) -> [JSONTape] {
        scratch.removeAll()   // what a failed patch left
        var tapes = scratch.resultArray(reserving: count)
        for _ in 0..<count {
            if result.count - position >= 5, result[position] == UInt8(ascii: "="),
               let whole = containers.tapeArgument(rootedAt: Self.u32(result, at: position + 1)) {
                position += 5
                tapes.append(whole)
                continue
            }
            out.removeAll()
            containersWritten = 0
            depthKnown = true
            let depth = try patchValue()
            tapes.append(scratch.tape(out.bytes, depth: depthKnown ? depth : nil))
        }
        scratch.keepResultArray(tapes)
        return tapes
    }

    private static func u32(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> Int {
        Int(buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
    }

    private mutating func readU32() throws(SandboxError) -> Int {
        guard result.count - position >= 4 else { throw .host(message: "truncated result tape") }
        defer { position += 4 }
        return Self.u32(result, at: position)
    }

    /// Where argument container `number` starts in the argument tape.
    // Static: as a method of the patcher, each call copied the whole patcher (outlined copy).
    private static func argumentContainer(_ number: Int, in arguments: UnsafeRawBufferPointer) throws(SandboxError) -> Int {
        let reader = TapeReader(arguments, at: 0)
        var remaining = number
        var at = 4
        for _ in 0..<Self.u32(arguments, at: 0) {
            if arguments[at] == UInt8(ascii: "r") {
                at += 5
                continue
            }
            let inside = reader.containers(at: at)
            if remaining < inside, let found = reader.container(remaining, inValueAt: at) { return found }
            remaining -= inside
            at += reader.size(at: at)
        }
        throw .host(message: "result refers to an unknown argument")
    }

    /// A string or key's bytes from the result, repaired when not valid UTF-8.
    private mutating func readText() throws(SandboxError) -> UnsafeRawBufferPointer {
        let length = try readU32()
        guard result.count - position >= length else { throw .host(message: "truncated result tape") }
        defer { position += length }
        return UnsafeRawBufferPointer(rebasing: result[position..<(position + length)])
    }

    /// Whether `text` needs no repair: the C side checked every string and counted the invalid.
    @inline(__always)
    private func isValidUTF8(_ text: UnsafeRawBufferPointer) -> Bool {
        allStringsValid || String(validating: text, as: UTF8.self) != nil
    }

    private mutating func append(tag: UInt8?, text: UnsafeRawBufferPointer) {
        if isValidUTF8(text) {
            out.append(tag: tag, text: text)
        } else {
            out.append(tag: tag, text: String(decoding: text, as: UTF8.self))
        }
    }

    /// Reads a new key (its length, then its bytes) and where its value starts (after it).
    private mutating func readNewMember() throws(SandboxError) -> NewMember {
        let text = try readText()
        let start = position - text.count
        if isValidUTF8(text) {
            return NewMember(key: start, keyLength: text.count, value: position)
        }
        let fixed = Array(String(decoding: text, as: UTF8.self).utf8)
        let at = scratch.repairedKeys.count
        scratch.repairedKeys.append(contentsOf: fixed)
        return NewMember(key: -1 - at, keyLength: fixed.count, value: position)
    }

    private static func keyBytes(_ member: NewMember, result: UnsafeRawBufferPointer, repaired: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let start = member.key >= 0 ? member.key : -1 - member.key
        return UnsafeRawBufferPointer(rebasing: (member.key >= 0 ? result : repaired)[start..<(start + member.keyLength)])
    }

    /// Sorts the new members from `first` on by their keys' bytes (Lua has no key order).
    private func sortMembers(from first: Int) {
        guard scratch.members.count - first > 1 else { return }
        let result = self.result
        let scratch = self.scratch
        scratch.repairedKeys.withUnsafeBytes { repaired in
            scratch.members[first...].sort {
                Self.keyBytes($0, result: result, repaired: repaired).lexicographicallyPrecedes(Self.keyBytes($1, result: result, repaired: repaired))
            }
        }
    }

    /// Moves past one result value without writing it.
    private mutating func skipValue() throws(SandboxError) {
        guard position < result.count else { throw .host(message: "truncated result tape") }
        let tag = result[position]
        position += 1
        switch tag {
        case UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "f"): break
        case UInt8(ascii: "i"), UInt8(ascii: "d"): position += 8
        case UInt8(ascii: "s"): position += try readU32()
        case UInt8(ascii: "="): position += 4
        case UInt8(ascii: "a"):
            for _ in 0..<(try readU32()) { try skipValue() }
        case UInt8(ascii: "o"):
            for _ in 0..<(try readU32()) {
                position += try readU32()
                try skipValue()
            }
        case UInt8(ascii: "O"):
            position += 4
            for _ in 0..<(try readU32()) { try skipMember() }
        case UInt8(ascii: "P"):
            position += 8   // the node and the member count
            for _ in 0..<(try readU32()) {
                switch try readU32() {
                case WaitedObjectPiece.keptRun: position += WaitedObjectPiece.keptRunSize
                case WaitedObjectPiece.changed:
                    position += WaitedObjectPiece.changedSize
                    try skipValue()
                case let keyLength:
                    position += keyLength
                    try skipValue()
                }
            }
        default: throw .host(message: "malformed result tape")
        }
        guard position <= result.count else { throw .host(message: "truncated result tape") }
    }

    private mutating func skipMember() throws(SandboxError) {
        let marker = try readU32()
        if marker == Int(UInt32.max) {
            position += 4
        } else if marker == Int(UInt32.max - 1) {
            position += 4
            try skipValue()
        } else {
            position += marker
            try skipValue()
        }
    }

    /// Copies an argument value (its tag at `offset`) as it is.
    private mutating func copyArgument(at offset: Int, through end: Int) {
        guard end > offset else { return }
        out.append(raw: UnsafeRawBufferPointer(rebasing: arguments[offset..<end]))
    }

    /// Writes one result value as a complete tape value; returns its depth (meaningless once
    /// `depthKnown` is false).
    private mutating func patchValue() throws(SandboxError) -> Int {
        guard position < result.count else { throw .host(message: "truncated result tape") }
        let tag = result[position]
        position += 1
        switch tag {
        case UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "f"):
            out.append(tag: tag)
            return 0
        case UInt8(ascii: "i"), UInt8(ascii: "d"):
            guard result.count - position >= 8 else { throw .host(message: "truncated result tape") }
            out.append(tag: tag, result.loadUnaligned(fromByteOffset: position, as: UInt64.self).littleEndian)
            position += 8
            return 0
        case UInt8(ascii: "s"):
            append(tag: tag, text: try readText())
            return 0
        case UInt8(ascii: "a"):
            let count = try readU32()
            let header = out.beginContainer(tag: tag, count: count)
            containersWritten += 1
            let first = containersWritten
            var deepest = 0
            for _ in 0..<count { deepest = max(deepest, try patchValue()) }
            out.finishContainer(at: header, descendants: containersWritten - first)
            return deepest + 1
        case UInt8(ascii: "="):
            let offset = try Self.argumentContainer(try readU32(), in: arguments)
            let reader = TapeReader(arguments, at: 0)
            copyArgument(at: offset, through: offset + reader.size(at: offset))
            containersWritten += reader.containers(at: offset)
            depthKnown = false
            return 0
        case UInt8(ascii: "o"):
            return try patchNewObject()
        case UInt8(ascii: "O"):
            return try patchChangedObject()
        case UInt8(ascii: "P"):
            return try patchWaitedObject()
        default:
            throw .host(message: "malformed result tape")
        }
    }

    /// Writes the new members from `first` on (their values wait in the result), then drops them
    /// from the list; returns the deepest value's depth.
    private mutating func patchMembers(from first: Int) throws(SandboxError) -> Int {
        var deepest = 0
        let end = scratch.members.count
        for index in first..<end {
            let member = scratch.members[index]
            if member.key >= 0 {
                out.append(tag: nil, text: UnsafeRawBufferPointer(rebasing: result[member.key..<(member.key + member.keyLength)]))
            } else {
                let start = -1 - member.key
                scratch.repairedKeys.withUnsafeBytes { out.append(tag: nil, text: UnsafeRawBufferPointer(rebasing: $0[start..<(start + member.keyLength)])) }
            }
            position = member.value
            // (Values add their own members after `end` and drop them before returning.)
            deepest = max(deepest, try patchValue())
        }
        // One by one: `removeLast(_:)` and `removeSubrange` go through the general replace.
        for _ in first..<end { scratch.members.removeLast() }
        return deepest
    }

    /// A table made in Lua: its keys sorted by their bytes (Lua has no key order).
    private mutating func patchNewObject() throws(SandboxError) -> Int {
        let count = try readU32()
        let first = scratch.members.count
        for _ in 0..<count {
            scratch.members.append(try readNewMember())
            try skipValue()
        }
        let end = position
        sortMembers(from: first)
        let header = out.beginContainer(tag: UInt8(ascii: "o"), count: count)
        containersWritten += 1
        let firstContainer = containersWritten
        let deepest = try patchMembers(from: first)
        position = end
        out.finishContainer(at: header, descendants: containersWritten - firstContainer)
        return deepest + 1
    }

    /// An argument object that changed: kept and changed members in their original order, then
    /// new keys sorted by their bytes.
    private mutating func patchChangedObject() throws(SandboxError) -> Int {
        let origin = try Self.argumentContainer(try readU32(), in: arguments)
        guard arguments[origin] == UInt8(ascii: "o") else { throw .host(message: "result refers to an unknown member") }
        let originCount = Self.u32(arguments, at: origin + 1)
        let count = try readU32()
        // Per original member: where its result value starts, -1 kept as it was, 0 gone. On the
        // stack for objects of usual size.
        return try withUnsafeTemporaryAllocation(of: Int.self, capacity: originCount) { (fates) throws(SandboxError) -> Int in
            fates.initialize(repeating: 0)
            let firstAdded = scratch.members.count
            for _ in 0..<count {
                let marker = try readU32()
                if marker == Int(UInt32.max) || marker == Int(UInt32.max - 1) {
                    let index = try readU32()
                    guard index < originCount, fates[index] == 0 else { throw .host(message: "result refers to an unknown member") }
                    if marker == Int(UInt32.max) {
                        fates[index] = -1
                    } else {
                        fates[index] = position
                        try skipValue()
                    }
                } else {
                    position -= 4
                    scratch.members.append(try readNewMember())
                    try skipValue()
                }
            }
            let end = position
            let header = out.beginContainer(tag: UInt8(ascii: "o"), count: count)
            containersWritten += 1
            let first = containersWritten
            var deepest = 0
            var at = origin + 13
            // Kept members that follow each other are copied in one piece.
            var run = at
            for index in 0..<originCount {
                let valueAt = at + 4 + Self.u32(arguments, at: at)
                let memberEnd = valueAt + Self.valueSize(arguments, at: valueAt)
                switch fates[index] {
                case -1:
                    let inside = Self.containers(arguments, at: valueAt)
                    if inside > 0 {
                        containersWritten += inside
                        depthKnown = false
                    }
                case 0:
                    copyArgument(at: run, through: at)
                    run = memberEnd
                default:
                    copyArgument(at: run, through: valueAt)
                    position = fates[index]
                    deepest = max(deepest, try patchValue())
                    run = memberEnd
                }
                at = memberEnd
            }
            copyArgument(at: run, through: at)
            sortMembers(from: firstAdded)
            deepest = max(deepest, try patchMembers(from: firstAdded))
            position = end
            out.finishContainer(at: header, descendants: containersWritten - first)
            return deepest + 1
        }
    }

    /// An argument object read or set member by member while it waited: the C side sends its
    /// members in their original order as pieces, most of them runs of unchanged members with
    /// their place on the argument tape, so they are copied without walking them here.
    private mutating func patchWaitedObject() throws(SandboxError) -> Int {
        guard result.count - position >= 12 else { throw .host(message: "truncated result tape") }
        let count = Self.u32(result, at: position + 4)
        let pieces = Self.u32(result, at: position + 8)
        position += 12
        let header = out.beginContainer(tag: UInt8(ascii: "o"), count: count)
        containersWritten += 1
        let first = containersWritten
        let firstAdded = scratch.members.count
        var deepest = 0
        var written = 0
        var next = 0   // members come in order, each once
        for _ in 0..<pieces {
            switch try readU32() {
            case WaitedObjectPiece.keptRun:
                guard result.count - position >= WaitedObjectPiece.keptRunSize else { throw .host(message: "truncated result tape") }
                let firstMember = Self.u32(result, at: position)
                let members = Self.u32(result, at: position + 4)
                let offset = 4 + Self.u32(result, at: position + 8)   // past the argument count
                let length = Self.u32(result, at: position + 12)
                let inside = Self.u32(result, at: position + 16)
                position += WaitedObjectPiece.keptRunSize
                guard firstMember >= next, length <= arguments.count - offset else {
                    throw .host(message: "result refers to an unknown member")
                }
                copyArgument(at: offset, through: offset + length)
                if inside > 0 {
                    containersWritten += inside
                    depthKnown = false
                }
                next = firstMember + members
                written += members
            case WaitedObjectPiece.changed:
                guard result.count - position >= WaitedObjectPiece.changedSize else { throw .host(message: "truncated result tape") }
                let index = Self.u32(result, at: position)
                let key = 4 + Self.u32(result, at: position + 4)
                position += WaitedObjectPiece.changedSize
                guard index >= next, arguments.count - key >= 4, Self.u32(arguments, at: key) <= arguments.count - key - 4 else {
                    throw .host(message: "result refers to an unknown member")
                }
                copyArgument(at: key, through: key + 4 + Self.u32(arguments, at: key))   // the key as it came
                deepest = max(deepest, try patchValue())
                next = index + 1
                written += 1
            default:
                position -= 4
                scratch.members.append(try readNewMember())
                try skipValue()
                written += 1
            }
        }
        guard written == count else { throw .host(message: "malformed result tape") }
        let end = position
        sortMembers(from: firstAdded)
        deepest = max(deepest, try patchMembers(from: firstAdded))
        position = end
        out.finishContainer(at: header, descendants: containersWritten - first)
        return deepest + 1
    }

    /// `TapeReader.size(at:)`, here so that it is inlined (it is not across modules).
    @inline(__always)
    private static func valueSize(_ tape: UnsafeRawBufferPointer, at offset: Int) -> Int {
        switch tape[offset] {
        case UInt8(ascii: "i"), UInt8(ascii: "d"): return 9
        case UInt8(ascii: "s"): return 5 + u32(tape, at: offset + 1)
        case UInt8(ascii: "a"), UInt8(ascii: "o"): return 13 + u32(tape, at: offset + 5)
        default: return 1
        }
    }

    /// `TapeReader.containers(at:)`, likewise.
    @inline(__always)
    private static func containers(_ tape: UnsafeRawBufferPointer, at offset: Int) -> Int {
        switch tape[offset] {
        case UInt8(ascii: "a"), UInt8(ascii: "o"): return 1 + u32(tape, at: offset + 9)
        default: return 0
        }
    }
}
