import PinJSON

/// A message's tape as the mapping reads it: values are offsets, read in place, and only what
/// a result needs as a value (a warning's description, a hashed field) is built. Valid inside
/// the `withUnsafeBytes` of the tape it was made from.
struct TapeView {
    typealias Node = Int

    let raw: UnsafeRawBufferPointer

    @inline(__always)
    func tag(_ node: Node) -> UInt8 { raw[node] }

    // The tape's numbers read here rather than through `TapeReader`, whose calls do not inline
    // across modules and cost more than the reads (measured: a third of the line items' time).
    @inline(__always)
    func u32(at offset: Int) -> Int { Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian) }

    @inline(__always)
    func u64(at offset: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian }

    /// The size in bytes of the value at `node`.
    @inline(__always)
    func size(_ node: Node) -> Int {
        switch raw[node] {
        case UInt8(ascii: "i"), UInt8(ascii: "d"): return 9
        case UInt8(ascii: "s"): return 5 + u32(at: node + 1)
        case UInt8(ascii: "a"), UInt8(ascii: "o"): return 13 + u32(at: node + 5)
        default: return 1
        }
    }

    func isNull(_ node: Node) -> Bool { raw[node] == UInt8(ascii: "n") }
    func isObject(_ node: Node) -> Bool { raw[node] == UInt8(ascii: "o") }
    func isArray(_ node: Node) -> Bool { raw[node] == UInt8(ascii: "a") }

    /// Members or elements of a container.
    func count(_ node: Node) -> Int { u32(at: node + 1) }

    /// JavaScript truthiness, as `JSONValue.isTruthy`.
    func isTruthy(_ node: Node) -> Bool {
        switch raw[node] {
        case UInt8(ascii: "n"), UInt8(ascii: "f"): return false
        case UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"): return true
        case UInt8(ascii: "i"): return u64(at: node + 1) != 0
        case UInt8(ascii: "d"):
            let number = Double(bitPattern: u64(at: node + 1))
            return number != 0 && !number.isNaN
        default: return u32(at: node + 1) != 0
        }
    }

    /// The member `key` of the object at `node`; nil when absent or not an object.
    func member(_ key: StaticString, of node: Node?) -> Node? {
        guard let node else { return nil }
        return member(UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount), of: node)
    }

    func member(_ key: String, of node: Node) -> Node? {
        var key = key
        return key.withUTF8 { member(UnsafeRawBufferPointer($0), of: node) }
    }

    func member(_ key: UnsafeRawBufferPointer, of node: Node) -> Node? {
        guard raw[node] == UInt8(ascii: "o") else { return nil }
        var at = node + 13
        for _ in 0..<u32(at: node + 1) {
            let length = u32(at: at)
            let value = at + 4 + length
            if length == key.count && sameBytes(UnsafeRawBufferPointer(start: raw.baseAddress.map { $0 + at + 4 }, count: length), key) {
                return value
            }
            at = value + size(value)
        }
        return nil
    }

    /// The member `key` when it is truthy.
    func truthyMember(_ key: StaticString, of node: Node?) -> Node? {
        guard let found = member(key, of: node), isTruthy(found) else { return nil }
        return found
    }

    func element(_ index: Int, of node: Node) -> Node? {
        guard raw[node] == UInt8(ascii: "a"), index >= 0, index < count(node) else { return nil }
        var at = node + 13
        for _ in 0..<index { at += size(at) }
        return at
    }

    /// Calls `body` with each member's key bytes and value, in order.
    @inline(__always)
    func forEachMember(of object: Node, _ body: (UnsafeRawBufferPointer, Node) -> Void) {
        var at = object + 13
        for _ in 0..<u32(at: object + 1) {
            let length = u32(at: at)
            let key = UnsafeRawBufferPointer(start: raw.baseAddress.map { $0 + at + 4 }, count: length)
            at += 4 + length
            body(key, at)
            at += size(at)
        }
    }

    /// Calls `body` with each element's position and value, in order.
    func forEachElement(of array: Node, _ body: (Int, Node) -> Void) {
        var at = array + 13
        for index in 0..<u32(at: array + 1) {
            body(index, at)
            at += size(at)
        }
    }

    /// The string at `node`, or nil when it holds something else.
    func string(_ node: Node) -> String? {
        guard raw[node] == UInt8(ascii: "s") else { return nil }
        let length = u32(at: node + 1)
        return String(decoding: UnsafeRawBufferPointer(rebasing: raw[(node + 5)..<(node + 5 + length)]), as: UTF8.self)
    }

    /// The bytes of the string at `node`, or nil when it holds something else.
    func stringBytes(_ node: Node) -> UnsafeRawBufferPointer? {
        guard raw[node] == UInt8(ascii: "s") else { return nil }
        let length = u32(at: node + 1)
        return UnsafeRawBufferPointer(rebasing: raw[(node + 5)..<(node + 5 + length)])
    }

    /// The value at `node`, built.
    func value(_ node: Node) -> JSONValue {
        var reader = TapeReader(raw, at: node)
        return reader.value()
    }
}

/// Whether two byte runs are equal: lengths first, then eight bytes at a time, the last word
/// overlapping the one before it; runs of 4 to 7 bytes as two overlapping halves. (Going
/// byte by byte after the last whole word cost most of a comparison of the short keys the
/// mapping looks for.)
@inline(__always)
func sameBytes(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    let count = lhs.count
    guard count == rhs.count else { return false }
    guard count > 0, let left = lhs.baseAddress, let right = rhs.baseAddress else { return true }
    if count >= 8 {
        var offset = 0
        while offset + 8 < count {
            if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
            offset += 8
        }
        return left.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == right.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
    if count >= 4 {
        return left.loadUnaligned(as: UInt32.self) == right.loadUnaligned(as: UInt32.self)
            && left.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self) == right.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
    }
    for offset in 0..<count where left.load(fromByteOffset: offset, as: UInt8.self) != right.load(fromByteOffset: offset, as: UInt8.self) {
        return false
    }
    return true
}

/// Whether the bytes are those of `text`.
@inline(__always)
func sameBytes(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
    sameBytes(bytes, UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
}

/// Whether any byte is a `.`: eight at a time, then the rest one by one (the generic
/// `contains` went byte by byte through the collection's iterator).
@inline(__always)
func containsDot(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let base = bytes.baseAddress else { return false }
    let ones: UInt64 = 0x0101_0101_0101_0101
    var offset = 0
    while offset + 8 <= bytes.count {
        // A zero byte where the word had a dot; the test has no false positives for "any".
        let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self) ^ (ones &* 0x2E)
        if (word &- ones) & ~word & (ones &* 0x80) != 0 { return true }
        offset += 8
    }
    while offset < bytes.count {
        if base.load(fromByteOffset: offset, as: UInt8.self) == UInt8(ascii: ".") { return true }
        offset += 1
    }
    return false
}
