import PinJSON

/// What the mapping keeps from one message to the next, for a caller that maps message after
/// message on one thread (a pipeline session): the calls' builder buffers, and the event names
/// resolved lately. Not for sharing between threads.
package final class MappingScratch {
    let builder = TapeBuilderStorage()
    @exclusivity(unchecked) var eventNames = EventNameCache()
    /// The storage of a call's data members, empty between messages.
    @exclusivity(unchecked) var members: [DataMembers.Member] = []

    package init() {}
}

/// Event names resolved lately, by their bytes: a stream repeats a few names, and resolving one
/// (user mapping, built-in names, the warning for a custom name) costs far more than finding it
/// again. Two-way: a name takes one of the two slots its hash picks, replacing the second's.
struct EventNameCache {
    private struct Entry {
        var bytes: [UInt8]
        var names: PinterestMapper.EventNames
        var warnings: [String]
    }

    private static let slots = 128
    private var entries: [Entry?] = Array(repeating: nil, count: slots)
    /// The tables the entries were resolved with: another mapper empties the cache.
    private var resolvedBy: ObjectIdentifier?

    /// `mapper.eventNames(name, warnings:)` for the name with these UTF-8 bytes.
    mutating func names(for bytes: UnsafeRawBufferPointer, mapper: PinterestMapper, warnings: inout [String]) -> PinterestMapper.EventNames {
        let tables = ObjectIdentifier(mapper.tables)
        if resolvedBy != tables {
            entries = Array(repeating: nil, count: Self.slots)
            resolvedBy = tables
        }
        // Two slots per name, the pair its hash picks: a few names that share a slot (two of
        // a dozen often do) no longer put each other out, one message after another.
        let pair = Self.slot(of: bytes) & ~1
        for slot in pair...(pair + 1) {
            if let entry = entries[slot], entry.bytes.withUnsafeBytes({ sameBytes($0, bytes) }) {
                // The usual case, no warnings before, takes the array as it is (appending to an
                // empty array made a new one).
                if !entry.warnings.isEmpty { if warnings.isEmpty { warnings = entry.warnings } else { warnings += entry.warnings } }
                return entry.names
            }
        }
        var added: [String] = []
        let names = mapper.eventNames(String(decoding: bytes, as: UTF8.self), warnings: &added)
        // The first slot of the pair when it is free, else the second (the last name added).
        let slot = entries[pair] == nil ? pair : pair + 1
        entries[slot] = Entry(bytes: Array(bytes), names: names, warnings: added)
        warnings += added
        return names
    }

    /// The length and the first and last eight bytes (or all of them), mixed. (Three sampled
    /// bytes, mixed into the top bits, put three of the benchmark's thirteen names in one pair.)
    private static func slot(of bytes: UnsafeRawBufferPointer) -> Int {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var head: UInt64 = 0
        var tail: UInt64 = 0
        if let base = bytes.baseAddress {
            if bytes.count >= 8 {
                head = base.loadUnaligned(as: UInt64.self)
                tail = base.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
            } else {
                for index in 0..<bytes.count { head |= UInt64(bytes[index]) << (8 * UInt64(index)) }
            }
        }
        var hash = ((UInt64(bytes.count) &* k) ^ head.littleEndian) &* k
        hash = (hash ^ tail.littleEndian) &* k
        hash ^= hash >> 32
        return Int(truncatingIfNeeded: hash) & (slots - 1)
    }
}
