/// A fixed set of names found by their UTF-8 bytes: the keys the mapping looks for in every event
/// and the event names it maps. A small open-addressing table over a hash of a few bytes costs
/// less than hashing a `String` (or a `JSONKey`) and does not grow with the set as a list does;
/// it compares bytes, as JavaScript compares code units.
struct NameIndex: Sendable {
    /// The names back to back; name `i` is `bytes[starts[i]..<starts[i + 1]]`.
    private let bytes: [UInt8]
    private let starts: [Int]
    /// Name positions by hash; -1 is empty. At least twice as many slots as names.
    private let slots: [Int]
    private let mask: Int
    /// Whether lookups ignore ASCII case: then the names are stored lowercased.
    private let asciiCaseInsensitive: Bool

    /// `names` in order: `position(of:)` gives a name's index in this sequence (a name listed
    /// twice keeps its first). With `asciiCaseInsensitive`, a key matches a name equal to it once
    /// its ASCII capitals are lowercased; the names are lowercased here.
    init<S: Sequence>(_ names: S, asciiCaseInsensitive: Bool = false) where S.Element == String {
        var bytes: [UInt8] = []
        var starts = [0]
        for name in names {
            bytes += name.utf8.map { asciiCaseInsensitive ? Self.asciiLowercased($0) : $0 }
            starts.append(bytes.count)
        }
        let count = starts.count - 1
        var size = 8
        while size < 2 * count { size *= 2 }
        var slots = [Int](repeating: -1, count: size)
        bytes.withUnsafeBytes { all in
            func name(_ index: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: all[starts[index]..<starts[index + 1]])
            }
            for index in 0..<count {
                var slot = Self.hash(name(index)) & (size - 1)
                var duplicate = false
                while slots[slot] >= 0 {
                    if sameBytes(name(slots[slot]), name(index)) { duplicate = true; break }
                    slot = (slot + 1) & (size - 1)
                }
                if !duplicate { slots[slot] = index }
            }
        }
        self.bytes = bytes
        self.starts = starts
        self.slots = slots
        self.mask = size - 1
        self.asciiCaseInsensitive = asciiCaseInsensitive
    }

    var isEmpty: Bool { starts.count == 1 }

    /// The position of `key` among the names, or nil.
    func position(of key: UnsafeRawBufferPointer) -> Int? {
        if isEmpty { return nil }
        var slot = Self.hash(key) & mask
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            let start = starts[index], count = starts[index + 1] - start
            if count == key.count && bytes.withUnsafeBytes({ same(UnsafeRawBufferPointer(rebasing: $0[start..<(start + count)]), key) }) {
                return index
            }
            slot = (slot + 1) & mask
        }
    }

    func position(of key: String) -> Int? {
        var key = key
        return key.withUTF8 { position(of: UnsafeRawBufferPointer($0)) }
    }

    /// The length and three bytes (first, middle, last; ASCII capitals lowercased, so that both
    /// kinds of index can use it), mixed: names in a set seldom share all four, and a shared
    /// hash only costs a comparison more.
    @inline(__always)
    private static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var hash = UInt64(key.count) &* 0x9E37_79B9_7F4A_7C15
        if key.count > 0 {
            let first = UInt64(asciiLowercased(key[0]))
            let middle = UInt64(asciiLowercased(key[key.count / 2]))
            let last = UInt64(asciiLowercased(key[key.count - 1]))
            hash = (hash ^ (first | middle << 8 | last << 16)) &* 0x9E37_79B9_7F4A_7C15
        }
        return Int(truncatingIfNeeded: hash >> 32)
    }

    @inline(__always)
    private func same(_ name: UnsafeRawBufferPointer, _ key: UnsafeRawBufferPointer) -> Bool {
        if !asciiCaseInsensitive { return sameBytes(name, key) }
        for index in 0..<name.count where name[index] != Self.asciiLowercased(key[index]) { return false }
        return true
    }

    @inline(__always)
    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }
}
