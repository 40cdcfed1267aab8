#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// One JSON value in a compact binary form that can be read in place: members are found by
/// walking the bytes, and only what a caller asks for becomes a `JSONValue`. A 1 KB event of
/// which the mapping reads a third costs a third to turn into values.
///
/// It is also the form the Lua bridge takes and gives back (see `bridge.c`), so an event can go
/// from the parser through rules to the mapping without being built as a tree.
///
/// Encoding (little-endian):
///
///     'n' null   't' true   'f' false
///     'i' int64          'd' float64 (finite from text; a value made in code may hold any)
///     's' u32 length, UTF-8 bytes
///     'a' u32 count, u32 span, u32 descendants, values
///     'o' u32 count, u32 span, u32 descendants, (u32 key length, key bytes, value) * count
///
/// `span` is the size of the members in bytes (a container can be skipped without reading it),
/// `descendants` the number of arrays and objects it holds at any depth. Keys are unique and
/// keep their order; strings are valid UTF-8.
public struct JSONTape: Sendable, Equatable {
    /// The encoded value.
    public let bytes: [UInt8]
    private let knownDepth: Int?

    /// Takes bytes already in the encoding (checked in debug builds only), with their nesting
    /// depth when the maker knows it.
    package init(encoded bytes: [UInt8], depth: Int?) {
        self.bytes = bytes
        self.knownDepth = depth
        assert(Self.isWellFormed(bytes), "malformed tape")
        assert(depth == nil || depth == Self.measureDepth(bytes), "wrong depth")
    }

    /// How deeply its arrays and objects nest (0 for a scalar).
    public var depth: Int { knownDepth ?? Self.measureDepth(bytes) }

    private static func measureDepth(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { raw in TapeReader(raw, at: 0).depth(at: 0) }
    }

    /// Tapes are equal when their bytes are: the same value with its keys in the same order
    /// (`value == value` ignores key order, as `JSONObject` does).
    public static func == (lhs: JSONTape, rhs: JSONTape) -> Bool { lhs.bytes == rhs.bytes }

    /// Encodes a value.
    public init(_ value: JSONValue) {
        var buffer = TapeBuffer(capacity: 256)
        defer { buffer.deallocate() }
        var counter = TapeContainerCounter()
        let depth = TapeWriting.append(value, to: &buffer, depth: 0, maxDepth: Int.max, sink: &counter) ?? 0
        self.init(encoded: [UInt8](buffer.bytes), depth: depth)
    }

    /// A position in the tape: where a value's tag is.
    public struct Node: Sendable, Equatable {
        public let offset: Int
    }

    public enum Kind: Sendable, Equatable {
        case null, bool, integer, double, string, array, object
    }

    public var root: Node { Node(offset: 0) }

    public func kind(of node: Node) -> Kind {
        switch bytes[node.offset] {
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "i"): return .integer
        case UInt8(ascii: "d"): return .double
        case UInt8(ascii: "s"): return .string
        case UInt8(ascii: "a"): return .array
        default: return .object
        }
    }

    /// The whole value.
    public var value: JSONValue { value(of: root) }

    /// The value at `node`, built.
    public func value(of node: Node) -> JSONValue {
        bytes.withUnsafeBytes { raw in
            var reader = TapeReader(raw, at: node.offset)
            return reader.value()
        }
    }

    /// The member `key` of the object at `node`; nil when absent or `node` is not an object.
    /// Keys compare by their UTF-8 bytes.
    public func member(_ key: String, of node: Node) -> Node? {
        var key = key
        return key.withUTF8 { wanted in
            bytes.withUnsafeBytes { raw in
                TapeReader(raw, at: node.offset).member(UnsafeRawBufferPointer(wanted))
            }
        }
    }

    /// Whether both roots are objects whose member `key` is, byte for byte, the same (or both
    /// lack it). A cheap test for "unchanged"; false says nothing.
    public func sameMember(_ key: String, as other: JSONTape) -> Bool {
        guard kind(of: root) == .object, other.kind(of: other.root) == .object else { return false }
        let mine = member(key, of: root), theirs = other.member(key, of: other.root)
        guard let mine, let theirs else { return mine == nil && theirs == nil }
        return bytes.withUnsafeBytes { a in
            other.bytes.withUnsafeBytes { b in
                let size = TapeReader(a, at: 0).size(at: mine.offset)
                return size == TapeReader(b, at: 0).size(at: theirs.offset)
                    && memcmp(a.baseAddress! + mine.offset, b.baseAddress! + theirs.offset, size) == 0
            }
        }
    }

    /// The number of members or elements of the container at `node`; 0 for anything else.
    public func count(of node: Node) -> Int {
        switch bytes[node.offset] {
        case UInt8(ascii: "a"), UInt8(ascii: "o"):
            return bytes.withUnsafeBytes { raw in TapeReader(raw, at: node.offset).u32(at: node.offset + 1) }
        default:
            return 0
        }
    }

    /// The element at `index` of the array at `node`; nil when out of range or not an array.
    public func element(_ index: Int, of node: Node) -> Node? {
        bytes.withUnsafeBytes { raw in TapeReader(raw, at: node.offset).element(index) }
    }

    /// The array or object number `number` in tape order (0 is the value itself when it is
    /// one); nil when there are not that many.
    public func container(_ number: Int) -> Node? {
        bytes.withUnsafeBytes { raw in TapeReader(raw, at: 0).container(number, inValueAt: 0).map { Node(offset: $0) } }
    }

    /// The string at `node`, or nil when it holds something else.
    public func string(at node: Node) -> String? {
        guard bytes[node.offset] == UInt8(ascii: "s") else { return nil }
        return bytes.withUnsafeBytes { raw in
            let length = Int(raw.loadUnaligned(fromByteOffset: node.offset + 1, as: UInt32.self).littleEndian)
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[(node.offset + 5)..<(node.offset + 5 + length)]), as: UTF8.self)
        }
    }

    /// Does `bytes` hold exactly one value in the encoding (counts, spans, descendants and
    /// UTF-8 all consistent)?
    package static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var position = 0
            guard let _ = TapeReader.check(raw, &position, depth: 0), position == raw.count else { return false }
            return true
        }
    }
}

/// Reads a tape through a raw pointer. The tape is trusted (the parser, the encoder or the
/// bridge's read-back made it), so reads are not bounds-checked beyond debug assertions.
package struct TapeReader {
    package let raw: UnsafeRawBufferPointer
    package var position: Int

    package init(_ raw: UnsafeRawBufferPointer, at position: Int) {
        self.raw = raw
        self.position = position
    }

    @inline(__always)
    package func u32(at offset: Int) -> Int {
        Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
    }

    @inline(__always)
    package func u64(at offset: Int) -> UInt64 {
        raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
    }

    /// The size in bytes of the value at `offset`.
    @inline(__always)
    package func size(at offset: Int) -> Int {
        switch raw[offset] {
        case UInt8(ascii: "i"), UInt8(ascii: "d"): return 9
        case UInt8(ascii: "s"): return 5 + u32(at: offset + 1)
        case UInt8(ascii: "a"), UInt8(ascii: "o"): return 13 + u32(at: offset + 5)
        default: return 1
        }
    }

    /// How deeply the value at `offset` nests (0 for a scalar).
    package func depth(at offset: Int) -> Int {
        let tag = raw[offset]
        guard tag == UInt8(ascii: "a") || tag == UInt8(ascii: "o") else { return 0 }
        var deepest = 0
        if u32(at: offset + 9) > 0 {
            let isObject = tag == UInt8(ascii: "o")
            var at = offset + 13
            for _ in 0..<u32(at: offset + 1) {
                if isObject { at += 4 + u32(at: at) }
                deepest = max(deepest, depth(at: at))
                at += size(at: at)
            }
        }
        return deepest + 1
    }

    /// The number of containers in the value at `offset`, itself included.
    @inline(__always)
    package func containers(at offset: Int) -> Int {
        switch raw[offset] {
        case UInt8(ascii: "a"), UInt8(ascii: "o"): return 1 + u32(at: offset + 9)
        default: return 0
        }
    }

    /// Where container number `number` (in tape order, 0 being the value at `offset` itself when
    /// it is one) starts; nil when the value holds fewer. Skips whole subtrees by their counts.
    package func container(_ number: Int, inValueAt offset: Int) -> Int? {
        var offset = offset
        var number = number
        while true {
            let tag = raw[offset]
            guard tag == UInt8(ascii: "a") || tag == UInt8(ascii: "o") else { return nil }
            if number == 0 { return offset }
            number -= 1
            guard number < u32(at: offset + 9) else { return nil }
            let isObject = tag == UInt8(ascii: "o")
            var at = offset + 13
            var found = false
            for _ in 0..<u32(at: offset + 1) {
                if isObject { at += 4 + u32(at: at) }
                let inside = containers(at: at)
                if number < inside {
                    offset = at
                    found = true
                    break
                }
                number -= inside
                at += size(at: at)
            }
            guard found else { return nil }
        }
    }

    func member(_ key: UnsafeRawBufferPointer) -> JSONTape.Node? {
        guard raw[position] == UInt8(ascii: "o") else { return nil }
        let count = u32(at: position + 1)
        var at = position + 13
        for _ in 0..<count {
            let length = u32(at: at)
            let valueAt = at + 4 + length
            if length == key.count && (length == 0 || memcmp(raw.baseAddress! + at + 4, key.baseAddress!, length) == 0) {
                return JSONTape.Node(offset: valueAt)
            }
            at = valueAt + size(at: valueAt)
        }
        return nil
    }

    func element(_ index: Int) -> JSONTape.Node? {
        guard raw[position] == UInt8(ascii: "a"), index >= 0, index < u32(at: position + 1) else { return nil }
        var at = position + 13
        for _ in 0..<index { at += size(at: at) }
        return JSONTape.Node(offset: at)
    }

    mutating func text() -> String {
        let length = u32(at: position)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: raw[(position + 4)..<(position + 4 + length)]), as: UTF8.self)
        position += 4 + length
        return text
    }

    /// The value at `position`, built; moves past it.
    package mutating func value() -> JSONValue {
        let tag = raw[position]
        position += 1
        switch tag {
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "i"):
            defer { position += 8 }
            return .integer(Int64(bitPattern: u64(at: position)))
        case UInt8(ascii: "d"):
            defer { position += 8 }
            return .double(Double(bitPattern: u64(at: position)))
        case UInt8(ascii: "s"): return .string(text())
        case UInt8(ascii: "a"):
            let count = u32(at: position)
            position += 12
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(value()) }
            return .array(elements)
        default:
            let count = u32(at: position)
            position += 12
            var members: [JSONObject.Element] = []
            members.reserveCapacity(count)
            for _ in 0..<count {
                let key = text()
                members.append((key, value()))
            }
            return .object(JSONObject(uniqueMembers: members))
        }
    }

    /// Validates the value at `position` and moves past it; returns its nesting depth, or nil
    /// when it is malformed.
    static func check(_ raw: UnsafeRawBufferPointer, _ position: inout Int, depth: Int) -> Int? {
        func u32(_ at: Int) -> Int? {
            guard at + 4 <= raw.count else { return nil }
            return Int(raw.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
        }
        func text(_ at: inout Int) -> [UInt8]? {
            guard let length = u32(at), at + 4 + length <= raw.count else { return nil }
            let bytes = [UInt8](raw[(at + 4)..<(at + 4 + length)])
            guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
            at += 4 + length
            return bytes
        }
        guard position < raw.count else { return nil }
        let tag = raw[position]
        position += 1
        switch tag {
        case UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "f"): return 0
        case UInt8(ascii: "i"), UInt8(ascii: "d"):
            guard position + 8 <= raw.count else { return nil }
            position += 8
            return 0
        case UInt8(ascii: "s"):
            return text(&position) == nil ? nil : 0
        case UInt8(ascii: "a"), UInt8(ascii: "o"):
            let containerStart = position - 1
            guard let count = u32(position), let span = u32(position + 4), let descendants = u32(position + 8) else { return nil }
            position += 12
            let membersStart = position
            var deepest = 0
            var keys = Set<[UInt8]>()
            for _ in 0..<count {
                if tag == UInt8(ascii: "o") {
                    guard let key = text(&position), keys.insert(key).inserted else { return nil }
                }
                guard let inner = check(raw, &position, depth: depth + 1) else { return nil }
                deepest = max(deepest, inner)
            }
            guard position - membersStart == span else { return nil }
            // Count the containers inside by walking the members again.
            guard TapeReader(raw, at: containerStart).countDescendants() == descendants else { return nil }
            return deepest + 1
        default:
            return nil
        }
    }

    /// The containers inside the container at `position` (not itself), by walking its members.
    func countDescendants() -> Int {
        var total = 0
        let isObject = raw[position] == UInt8(ascii: "o")
        let count = u32(at: position + 1)
        var at = position + 13
        for _ in 0..<count {
            if isObject { at += 4 + u32(at: at) }
            if raw[at] == UInt8(ascii: "a") || raw[at] == UInt8(ascii: "o") {
                total += 1 + TapeReader(raw, at: at).countDescendants()
            }
            at += size(at: at)
        }
        return total
    }
}

/// Told about each array and object as `TapeWriting` encodes it, in tape order.
package protocol TapeContainerSink {
    mutating func encoded(_ container: borrowing JSONValue)
    /// How many it was told about so far.
    var count: Int { get }
}

/// A sink that only counts.
package struct TapeContainerCounter: TapeContainerSink {
    package private(set) var count = 0
    package init() {}
    package mutating func encoded(_ container: borrowing JSONValue) { count += 1 }
}

package enum TapeWriting {
    /// Appends `value` to `tape`; returns its nesting depth, or nil when it nests deeper than
    /// `maxDepth` (the tape is then incomplete). Walks the value borrowed, through buffer
    /// pointers: iterating copies of elements (or binding them in patterns) would retain and
    /// release every string and container once more, which cost more than the encoding itself.
    package static func append<Sink: TapeContainerSink>(
        _ value: borrowing JSONValue, to tape: inout TapeBuffer, depth: Int, maxDepth: Int, sink: inout Sink
    ) -> Int? {
        switch value {
        case .null: tape.append(tag: UInt8(ascii: "n"))
        case .bool(let flag): tape.append(tag: flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .integer(let number): tape.append(tag: UInt8(ascii: "i"), UInt64(bitPattern: number))
        case .double(let number): tape.append(tag: UInt8(ascii: "d"), number.bitPattern)
        case .string(let text): tape.append(tag: UInt8(ascii: "s"), text: text)
        case .array(let elements):
            guard depth < maxDepth else { return nil }
            sink.encoded(value)
            let first = sink.count
            let offset = tape.beginContainer(tag: UInt8(ascii: "a"), count: elements.count)
            var deepest = 0
            let complete: Bool = elements.withUnsafeBufferPointer { buffer in
                for index in buffer.indices {
                    guard let inner = append(buffer[index], to: &tape, depth: depth + 1, maxDepth: maxDepth, sink: &sink) else { return false }
                    deepest = max(deepest, inner)
                }
                return true
            }
            guard complete else { return nil }
            tape.finishContainer(at: offset, descendants: sink.count - first)
            return deepest + 1
        case .object(let object):
            guard depth < maxDepth else { return nil }
            sink.encoded(value)
            let first = sink.count
            let offset = tape.beginContainer(tag: UInt8(ascii: "o"), count: object.count)
            var deepest = 0
            let complete: Bool = object.elements.withUnsafeBufferPointer { buffer in
                for index in buffer.indices {
                    tape.append(tag: nil, text: buffer[index].key)
                    guard let inner = append(buffer[index].value, to: &tape, depth: depth + 1, maxDepth: maxDepth, sink: &sink) else { return false }
                    deepest = max(deepest, inner)
                }
                return true
            }
            guard complete else { return nil }
            tape.finishContainer(at: offset, descendants: sink.count - first)
            return deepest + 1
        }
        return 0
    }
}
