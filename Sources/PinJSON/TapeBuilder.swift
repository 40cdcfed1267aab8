/// Writes a new tape value by value, for code that assembles a result (the mapping's calls)
/// partly from pieces of another tape: `copy` takes a value of a source tape as its bytes,
/// without building it. Containers are opened and closed in order; closing one fills in its
/// header (count, span, descendants).
package struct TapeBuilder: ~Copyable {
    @usableFromInline var buffer: TapeBuffer
    /// The open containers, innermost last: where each header is, its members so far, and the
    /// container count when it opened.
    @usableFromInline var open: [(header: Int, members: Int, containersBefore: Int)] = []
    /// Containers written so far, copied ones and those inside them included.
    @usableFromInline var containers = 0

    package init(capacity: Int = 1024) {
        buffer = TapeBuffer(capacity: capacity)
        open.reserveCapacity(8)
    }

    deinit { buffer.deallocate() }

    @inlinable @inline(__always)
    mutating func counted() {
        if !open.isEmpty { open[open.count - 1].members += 1 }
    }

    @inlinable package mutating func beginArray() { begin(UInt8(ascii: "a")) }
    @inlinable package mutating func beginObject() { begin(UInt8(ascii: "o")) }

    @inlinable
    mutating func begin(_ tag: UInt8) {
        counted()
        let header = buffer.beginContainer(tag: tag, count: 0)
        open.append((header, 0, containers))
        containers += 1
    }

    /// Closes the innermost open container.
    @inlinable
    package mutating func end() {
        guard let last = open.popLast() else { return }
        buffer.finishContainer(at: last.header, members: last.members, descendants: containers - last.containersBefore - 1)
    }

    /// An object member's key; its value comes next.
    @inlinable
    package mutating func key(_ key: String) { buffer.append(tag: nil, text: key) }

    /// A key given as its UTF-8 bytes.
    @inlinable
    package mutating func key(bytes: UnsafeRawBufferPointer) { buffer.append(tag: nil, text: bytes) }

    @inlinable
    package mutating func string(_ text: String) {
        counted()
        buffer.append(tag: UInt8(ascii: "s"), text: text)
    }

    /// A string given as its UTF-8 bytes.
    @inlinable
    package mutating func string(bytes: UnsafeRawBufferPointer) {
        counted()
        buffer.append(tag: UInt8(ascii: "s"), text: bytes)
    }

    /// Any value, encoded. Non-finite numbers become null (`JSONTape.init(_:)`).
    package mutating func value(_ value: JSONValue) {
        counted()
        var counter = TapeContainerCounter()
        _ = TapeWriting.append(value, to: &buffer, depth: 0, maxDepth: Int.max, sink: &counter)
        containers += counter.count
    }

    /// The value at `offset` of the tape `source`, as it is.
    @inlinable
    package mutating func copy(_ offset: Int, of source: UnsafeRawBufferPointer) {
        counted()
        let reader = TapeReader(source, at: offset)
        let size = reader.size(at: offset)
        buffer.append(raw: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + size)]))
        containers += reader.containers(at: offset)
    }

    /// The tape written; every container must be closed.
    package consuming func finish() -> JSONTape {
        assert(open.isEmpty, "a container was left open")
        return JSONTape(encoded: [UInt8](buffer.bytes), depth: nil)
    }
}
