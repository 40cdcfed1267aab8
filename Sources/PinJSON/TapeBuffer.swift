/// A growable byte buffer for tapes, written through a raw pointer (no capacity or uniqueness
/// check per byte, as an array append would make). Its owner deallocates it.
package struct TapeBuffer {
    package private(set) var storage: UnsafeMutableRawPointer
    private var capacity: Int
    package private(set) var count = 0

    package init(capacity: Int = 4096) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
    }

    package func deallocate() { storage.deallocate() }

    package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: count) }

    package mutating func removeAll() { count = 0 }

    @inline(__always)
    package mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        grow(extra)
    }

    private mutating func grow(_ extra: Int) {
        var newCapacity = capacity * 2
        while newCapacity < count + extra { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        grown.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = grown
        capacity = newCapacity
    }

    // Offsets stay within the storage: their sums cannot overflow, and wrapping arithmetic
    // spares the overflow checks.

    @inline(__always)
    package mutating func append(tag: UInt8) {
        reserve(1)
        storage.storeBytes(of: tag, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }

    @inline(__always)
    package mutating func appendU32(_ value: Int) {
        reserve(4)
        storage.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    @inline(__always)
    package mutating func append(tag: UInt8, _ value: UInt64) {
        reserve(9)
        storage.storeBytes(of: tag, toByteOffset: count, as: UInt8.self)
        storage.storeBytes(of: value.littleEndian, toByteOffset: count &+ 1, as: UInt64.self)
        count &+= 9
    }

    /// Raw bytes, as they are.
    @inline(__always)
    package mutating func append(raw bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        // Most are one value (a copied member): short, so no call to `memmove`.
        if let base = bytes.baseAddress { copyBytes(from: base, to: storage + count, count: bytes.count) }
        count += bytes.count
    }

    /// A string or key: its length, then its bytes (after `tag` when given: keys have none).
    /// `roomMade`: the caller reserved room for it (the tape builder, for a member it writes in
    /// one piece), so the check is left out.
    @inline(__always)
    package mutating func append(tag: UInt8?, text bytes: UnsafeRawBufferPointer, roomMade: Bool = false) {
        if !roomMade { reserve(5 + bytes.count) } else { assert(count + (5 + bytes.count) <= capacity, "room was not made") }
        var at = count
        if let tag {
            storage.storeBytes(of: tag, toByteOffset: at, as: UInt8.self)
            at &+= 1
        }
        storage.storeBytes(of: UInt32(truncatingIfNeeded: bytes.count).littleEndian, toByteOffset: at, as: UInt32.self)
        if let base = bytes.baseAddress { copyBytes(from: base, to: storage + (at &+ 4), count: bytes.count) }
        count = at &+ 4 &+ bytes.count
    }

    package mutating func append(tag: UInt8?, text: borrowing String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append(tag: tag, text: UnsafeRawBufferPointer($0)) }
        if copied == nil { Array(text.utf8).withUnsafeBytes { append(tag: tag, text: $0) } }
    }

    /// A container's header: tag, member count, then two slots `finishContainer` fills in (the
    /// size of its members in bytes and how many containers it holds), which let the C side
    /// skip it or number its children without reading it. Returns where it starts.
    @inline(__always)
    package mutating func beginContainer(tag: UInt8, count members: Int) -> Int {
        reserve(13)
        let offset = count
        storage.storeBytes(of: tag, toByteOffset: offset, as: UInt8.self)
        storage.storeBytes(of: UInt32(truncatingIfNeeded: members).littleEndian, toByteOffset: offset &+ 1, as: UInt32.self)
        count &+= 13
        return offset
    }

    @inline(__always)
    package func finishContainer(at offset: Int, members: Int? = nil, descendants: Int) {
        if let members { patch(members, at: offset &+ 1) }
        patch(count &- (offset &+ 13), at: offset &+ 5)
        patch(descendants, at: offset &+ 9)
    }

    @inline(__always)
    private func patch(_ value: Int, at offset: Int) {
        storage.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt32.self)
    }
}


/// Copies `count` bytes. Most copies in tapes and JSON text are short keys and values: those
/// of up to 32 bytes are copied in place, without a call to `memmove` (which cost more than the
/// copy).
@inline(__always)
func copyBytes(from source: UnsafeRawPointer, to target: UnsafeMutableRawPointer, count: Int) {
    // Two overlapping loads and stores cover any length in a range.
    if count >= 8 && count <= 16 {
        let head = source.loadUnaligned(as: UInt64.self)
        let tail = source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        target.storeBytes(of: head, as: UInt64.self)
        target.storeBytes(of: tail, toByteOffset: count - 8, as: UInt64.self)
    } else if count >= 4 && count < 8 {
        let head = source.loadUnaligned(as: UInt32.self)
        let tail = source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        target.storeBytes(of: head, as: UInt32.self)
        target.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
    } else if count > 16 && count <= 32 {
        // Four loads before any store, as above (the ranges may overlap).
        let first = source.loadUnaligned(as: UInt64.self)
        let second = source.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let third = source.loadUnaligned(fromByteOffset: count - 16, as: UInt64.self)
        let last = source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        target.storeBytes(of: first, as: UInt64.self)
        target.storeBytes(of: second, toByteOffset: 8, as: UInt64.self)
        target.storeBytes(of: third, toByteOffset: count - 16, as: UInt64.self)
        target.storeBytes(of: last, toByteOffset: count - 8, as: UInt64.self)
    } else if count < 4 {
        for offset in 0..<count {
            target.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
        }
    } else {
        target.copyMemory(from: source, byteCount: count)
    }
}
