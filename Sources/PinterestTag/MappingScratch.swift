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
/// again. Direct-mapped: a name takes the slot of its hash, replacing what was there.
struct EventNameCache {
    private struct Entry {
        var bytes: [UInt8]
        var names: PinterestMapper.EventNames
        var warnings: [String]
    }

    private static let slots = 64
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
        let slot = Self.slot(of: bytes)
        if let entry = entries[slot], entry.bytes.withUnsafeBytes({ sameBytes($0, bytes) }) {
            // The usual case, no warnings before, takes the array as it is (appending to an
            // empty array made a new one).
            if !entry.warnings.isEmpty { if warnings.isEmpty { warnings = entry.warnings } else { warnings += entry.warnings } }
            return entry.names
        }
        var added: [String] = []
        let names = mapper.eventNames(String(decoding: bytes, as: UTF8.self), warnings: &added)
        entries[slot] = Entry(bytes: Array(bytes), names: names, warnings: added)
        warnings += added
        return names
    }

    /// The length and the first, middle and last bytes, mixed.
    private static func slot(of bytes: UnsafeRawBufferPointer) -> Int {
        var hash = UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
        if bytes.count > 0 {
            let sample = UInt64(bytes[0]) | UInt64(bytes[bytes.count / 2]) << 8 | UInt64(bytes[bytes.count - 1]) << 16
            hash = (hash ^ sample) &* 0x9E37_79B9_7F4A_7C15
        }
        return Int(truncatingIfNeeded: hash >> 58) & (slots - 1)
    }
}
