/// Writes a new tape value by value, for code that assembles a result (the mapping's calls)
/// partly from pieces of another tape: `copy` takes a value of a source tape as its bytes,
/// without building it. Containers are opened and closed in order; closing one fills in its
/// header (count, span, descendants).
package struct TapeBuilder: ~Copyable {
    private var buffer: TapeBuffer
    /// Where the innermost open container's header is, or -1. While a container is open its
    /// header holds its running member count, where its parent's header is (plus one; 0 for
    /// none) in the span slot, and the container count when it opened in the descendants
    /// slot: the stack lives in the tape, and building allocates nothing but the tape.
    private var current = -1
    /// Containers written so far, copied ones and those inside them included.
    private var containers = 0

    /// Where the buffer came from and goes back to, when it is reused.
    private let reused: TapeBuilderStorage?

    package init(capacity: Int = 1024) {
        buffer = TapeBuffer(capacity: capacity)
        reused = nil
    }

    /// A builder that takes its buffer from `storage` (when it has one free) and gives it back.
    package init(reusing storage: TapeBuilderStorage?, capacity: Int) {
        if let storage, var kept = storage.buffer {
            storage.buffer = nil
            kept.removeAll()
            buffer = kept
        } else {
            buffer = TapeBuffer(capacity: capacity)
        }
        reused = storage
    }

    deinit {
        if let reused, reused.buffer == nil {
            reused.buffer = buffer
        } else {
            buffer.deallocate()
        }
    }

    @inline(__always)
    private func u32(at offset: Int) -> Int {
        Int(buffer.storage.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
    }

    @inline(__always)
    private func setU32(_ value: Int, at offset: Int) {
        buffer.storage.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    private mutating func counted() {
        if current >= 0 { setU32(u32(at: current + 1) + 1, at: current + 1) }
    }

    package mutating func beginArray() { begin(UInt8(ascii: "a")) }
    package mutating func beginObject() { begin(UInt8(ascii: "o")) }

    private mutating func begin(_ tag: UInt8) {
        counted()
        let header = buffer.beginContainer(tag: tag, count: 0)
        setU32(current + 1, at: header + 5)
        setU32(containers, at: header + 9)
        current = header
        containers += 1
    }

    /// Closes the innermost open container.
    package mutating func end() {
        guard current >= 0 else { return }
        let header = current
        let parent = u32(at: header + 5) - 1
        let before = u32(at: header + 9)
        buffer.finishContainer(at: header, descendants: containers - before - 1)
        current = parent
    }

    /// An object member's key; its value comes next.
    package mutating func key(_ key: String) { buffer.append(tag: nil, text: key) }

    /// A key given as its UTF-8 bytes.
    package mutating func key(bytes: UnsafeRawBufferPointer) { buffer.append(tag: nil, text: bytes) }

    /// A string given as its UTF-8 bytes.
    package mutating func string(bytes: UnsafeRawBufferPointer) {
        counted()
        buffer.append(tag: UInt8(ascii: "s"), text: bytes)
    }

    package mutating func string(_ text: String) {
        counted()
        buffer.append(tag: UInt8(ascii: "s"), text: text)
    }


    /// The value at `offset` of the tape `source`, as it is.
    package mutating func copy(_ offset: Int, of source: UnsafeRawBufferPointer) {
        counted()
        let reader = TapeReader(source, at: offset)
        let size = reader.size(at: offset)
        buffer.append(raw: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + size)]))
        containers += reader.containers(at: offset)
    }

    /// An object member: its key, given as UTF-8 bytes, and the value at `offset` of the tape
    /// `source`, as it is. One call and one check for room, where `key(bytes:)` and `copy` make
    /// two of each (the mapping writes most members this way).
    package mutating func member(key: UnsafeRawBufferPointer, copying offset: Int, of source: UnsafeRawBufferPointer) {
        counted()
        let reader = TapeReader(source, at: offset)
        let size = reader.size(at: offset)
        buffer.reserve(4 + key.count + size)
        buffer.append(tag: nil, text: key, roomMade: true)
        buffer.append(raw: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + size)]))
        containers += reader.containers(at: offset)
    }

    /// The tape written; every container must be closed.
    package consuming func finish() -> JSONTape {
        assert(current < 0, "a container was left open")
        guard let reused else { return JSONTape(encoded: [UInt8](buffer.bytes), depth: nil) }
        return reused.finished.tape(copying: buffer.bytes, depth: nil)
    }
}

/// Makes tapes one after another in storage that comes back: each new tape takes the last one's
/// storage when that tape is gone (nothing else holds it), and a new buffer when it is not, so
/// a tape someone kept is never written over. For code that makes a tape per event on one thread.
package struct RecycledTapeStorage {
    private var last: [UInt8] = []

    package init() {}

    /// A tape of a copy of `bytes`.
    package mutating func tape(copying bytes: UnsafeRawBufferPointer, depth: Int?) -> JSONTape {
        var storage = last
        last = []
        storage.removeAll(keepingCapacity: true)   // in place when unique
        // As typed bytes: appending raw bytes copies them one at a time.
        storage.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
        last = storage
        return JSONTape(encoded: storage, depth: depth)
    }
}

/// What builders reuse from one tape to the next, for code that builds one tape after another
/// on one thread (the mapping's calls, per event): the working buffer, and the storage of the
/// last tape finished, taken again once that tape is gone. Saves two allocations per tape.
package final class TapeBuilderStorage {
    // Unchecked: one thread uses a storage, one builder at a time, and the dynamic checks of
    // each access cost more than the rest of finishing a tape.
    @exclusivity(unchecked) fileprivate var buffer: TapeBuffer?
    @exclusivity(unchecked) fileprivate var finished = RecycledTapeStorage()

    package init() {}

    deinit { buffer?.deallocate() }
}
