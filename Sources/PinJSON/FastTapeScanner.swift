/// The common case of `JSONTapeParser`, written for speed: one pass over the bytes through a raw
/// pointer, writing the tape as it goes, with no per-token calls or thrown errors. It takes only
/// what is plain — strings without escapes, numbers without exponents that convert exactly on
/// the fast path, moderate nesting, keys that differ in hash — and gives up (`nil`) on anything
/// else, valid or not, so that the careful parser decides: its errors and its handling of the
/// rare cases stay the only ones. When it succeeds its tape is byte for byte the careful one's
/// (`FastTapeScannerTests` and the JSON fuzz suites check both).
///
/// It is one loop, not one call per value: the position, the tape's end and the open container
/// stay in registers (a scanner's fields, or a tape passed on, live in memory, and every write
/// through the tape's raw pointer made the compiler read them again). Enclosing containers
/// wait in `Scratch`.
enum FastTapeScanner {
    /// The room made for a line's tape once, before scanning it, so that no write checks for
    /// room: no text takes more tape per byte than `[]` inside an array (2 bytes, or 3 with a
    /// comma, for a 13-byte header); the 64 more cover a lone number (9 bytes for 1) and the
    /// up to 8 bytes a short string's copy writes past its end (`appendShortText`).
    static let roomPerByte = 7
    /// Longer lines go to the careful parser rather than reserve seven times their size.
    static let maximumLength = 1 << 20
    /// Deeper nesting goes to the careful parser.
    static let maximumDepth = 64

    /// An open array or object.
    fileprivate struct Container {
        var isObject = false
        /// Where its header is on the tape.
        var header = 0
        var members = 0
        /// The number of containers opened before its members.
        var first = 0
        /// A 64-bit summary of its keys' hashes: most keys need no comparisons.
        var seen: UInt64 = 0
        /// Where its keys' hashes start in `Scratch`.
        var hashBase = 0
    }

    /// What a scan keeps from one line to the next: room for the enclosing containers and for
    /// the hashes of the keys of the open objects.
    final class Scratch {
        fileprivate let enclosing: UnsafeMutablePointer<Container>
        fileprivate private(set) var hashes: UnsafeMutablePointer<UInt64>
        private var hashCapacity = 256

        init() {
            enclosing = .allocate(capacity: maximumDepth)
            hashes = .allocate(capacity: hashCapacity)
        }

        deinit {
            enclosing.deallocate()
            hashes.deallocate()
        }

        /// A text of `length` bytes has at most `length / 4` keys (`"":0,` each).
        fileprivate func makeRoom(forTextOf length: Int) {
            guard length / 4 + 1 > hashCapacity else { return }
            hashes.deallocate()
            hashCapacity = length / 4 + 1
            hashes = .allocate(capacity: hashCapacity)
        }

        fileprivate var hashRoom: Int { hashCapacity }
    }

    /// Scans `bytes` into `tape` (emptied first); the value's depth, or nil to defer to the
    /// careful parser.
    static func scan(_ bytes: UnsafeRawBufferPointer, maxDepth: Int, into tape: inout TapeBuffer, scratch: Scratch) -> Int? {
        guard let start = bytes.baseAddress, bytes.count > 0, bytes.count <= maximumLength else { return nil }
        tape.removeAll()
        tape.reserve(roomPerByte * bytes.count + 64)
        scratch.makeRoom(forTextOf: bytes.count)
        return scan(start.assumingMemoryBound(to: UInt8.self), end: bytes.count, depthLimit: min(maxDepth, maximumDepth),
                    into: &tape, enclosing: scratch.enclosing, hashes: scratch.hashes, hashRoom: scratch.hashRoom)
    }

    private static func scan(
        _ base: UnsafePointer<UInt8>, end: Int, depthLimit: Int, into tape: inout TapeBuffer,
        enclosing: UnsafeMutablePointer<Container>, hashes: UnsafeMutablePointer<UInt64>, hashRoom: Int
    ) -> Int? {
        // A copy in registers; the room is made, so its storage does not move.
        var out = tape
        defer { tape = out }
        var position = skippingWhitespace(base, from: 0, end: end)
        guard position < end else { return nil }
        // The last byte that is not white space. When the value is an array or an object it
        // must be `}` or `]`: then every byte the scan looks for (a quote, a colon, a comma, the
        // start of a value, white space, a digit) is found at or before it, so that reading
        // the byte at `position` needs no check against `end` until a container closes there.
        var limit = end &- 1
        while base[limit] == 0x20 || base[limit] == 0x0A || base[limit] == 0x0D || base[limit] == 0x09 { limit &-= 1 }
        if base[position] == UInt8(ascii: "{") || base[position] == UInt8(ascii: "[") {
            guard base[limit] == UInt8(ascii: "}") || base[limit] == UInt8(ascii: "]") else { return nil }
        }
        var depth = 0
        var deepest = 0
        var containers = 0
        // The open container is `enclosing[depth - 1]`; its member count and key summary are
        // kept here while it is open (the rest is read at its end).
        var members = 0
        var seen: UInt64 = 0
        /// `}` or `]`, what closes it.
        var closer: UInt8 = 0
        var hashCount = 0
        var atKey = false
        scanning: while true {
            if atKey {
                // Compact text (what SDKs send) has no whitespace: look for the expected byte first.
                assert(position <= limit)
                if base[position] != UInt8(ascii: "\"") {
                    position = skippingWhitespace(base, from: position, end: end)
                    guard position < end, base[position] == UInt8(ascii: "\"") else { return nil }
                }
                let start = position &+ 1
                let hash: UInt64
                if let (length, head, tail) = shortText(base, start: start, end: end, position: &position) {
                    out.appendShortText(tag: nil, count: length, head: head, tail: tail)
                    hash = Self.hash(count: length, head: head, tail: tail)
                } else {
                    guard let closing = restOfPlainString(base, from: position, end: end) else { return nil }
                    let key = UnsafeRawBufferPointer(start: base + start, count: closing &- start)
                    position = closing &+ 1
                    out.append(tag: nil, text: key, roomMade: true)
                    hash = Self.hash(key, base: base, end: end)
                }
                // Keys that may be the same go to the careful parser, which knows what to do.
                let bit: UInt64 = 1 &<< (hash >> 58)
                if seen & bit != 0 {
                    var slot = enclosing[depth &- 1].hashBase
                    while slot < hashCount {
                        if hashes[slot] == hash { return nil }
                        slot &+= 1
                    }
                }
                seen |= bit
                assert(hashCount < hashRoom, "room was not made for the keys")
                hashes[hashCount] = hash
                hashCount &+= 1
                assert(position <= limit)
                if base[position] != UInt8(ascii: ":") {
                    position = skippingWhitespace(base, from: position, end: end)
                    guard position < end, base[position] == UInt8(ascii: ":") else { return nil }
                }
                position &+= 1
                assert(position <= limit)
                if base[position] <= UInt8(ascii: " ") { position = skippingWhitespace(base, from: position, end: end) }
                atKey = false
            }
            // A value.
            assert(position <= limit)
            let byte = base[position]
            switch byte {
            case UInt8(ascii: "\""):
                let start = position &+ 1
                if let (length, head, tail) = shortText(base, start: start, end: end, position: &position) {
                    out.appendShortText(tag: UInt8(ascii: "s"), count: length, head: head, tail: tail)
                } else {
                    guard let closing = restOfPlainString(base, from: position, end: end) else { return nil }
                    position = closing &+ 1
                    out.append(tag: UInt8(ascii: "s"), text: UnsafeRawBufferPointer(start: base + start, count: closing &- start), roomMade: true)
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < depthLimit else { return nil }
                position &+= 1
                let isObject = byte == UInt8(ascii: "{")
                let header = out.beginContainer(tag: isObject ? UInt8(ascii: "o") : UInt8(ascii: "a"), count: 0, roomMade: true)
                position = skippingWhitespace(base, from: position, end: end)
                assert(position <= limit)
                // `}` and `]` follow `{` and `[` by two.
                if base[position] == byte &+ 2 {
                    // Empty: closed at once, a member of the enclosing container (which cannot
                    // end after the last byte).
                    if position == limit && depth > 0 { return nil }
                    position &+= 1
                    containers &+= 1
                    deepest = max(deepest, depth &+ 1)
                    out.finishContainer(at: header, members: 0, descendants: 0)
                } else {
                    if depth > 0 {
                        enclosing[depth &- 1].members = members
                        enclosing[depth &- 1].seen = seen
                    }
                    containers &+= 1
                    enclosing[depth] = Container(isObject: isObject, header: header, first: containers, hashBase: hashCount)
                    depth &+= 1
                    deepest = max(deepest, depth)
                    members = 0
                    seen = 0
                    closer = byte &+ 2
                    atKey = isObject
                    continue scanning
                }
            case UInt8(ascii: "t"):
                guard word(base, at: position, end: end, is: "true") else { return nil }
                position &+= 4
                out.append(tag: UInt8(ascii: "t"), roomMade: true)
            case UInt8(ascii: "f"):
                guard word(base, at: position &+ 1, end: end, is: "alse") else { return nil }
                position &+= 5
                out.append(tag: UInt8(ascii: "f"), roomMade: true)
            case UInt8(ascii: "n"):
                guard word(base, at: position, end: end, is: "null") else { return nil }
                position &+= 4
                out.append(tag: UInt8(ascii: "n"), roomMade: true)
            default:
                guard let (next, tag, bits) = number(base, at: position, end: end) else { return nil }
                position = next
                out.append(tag: tag, bits, roomMade: true)
            }
            // After a value: a comma and the next member, or the end of its container (itself
            // a value in the one enclosing it).
            while depth > 0 {
                members &+= 1
                assert(position <= limit)
                if base[position] <= UInt8(ascii: " ") { position = skippingWhitespace(base, from: position, end: end) }
                let next = base[position]
                position &+= 1
                if next == UInt8(ascii: ",") {
                    if closer == UInt8(ascii: "}") {
                        atKey = true
                    } else if base[position] <= UInt8(ascii: " ") {
                        position = skippingWhitespace(base, from: position, end: end)
                    }
                    continue scanning
                }
                guard next == closer else { return nil }
                let closed = enclosing[depth &- 1]
                out.finishContainer(at: closed.header, members: members, descendants: containers &- closed.first)
                hashCount = closed.hashBase
                depth &-= 1
                if depth > 0 {
                    // The enclosing container cannot end after the last byte.
                    if position > limit { return nil }
                    members = enclosing[depth &- 1].members
                    seen = enclosing[depth &- 1].seen
                    closer = enclosing[depth &- 1].isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                }
            }
            break
        }
        position = skippingWhitespace(base, from: position, end: end)
        return position == end ? deepest : nil
    }

    @inline(__always)
    private static func skippingWhitespace(_ base: UnsafePointer<UInt8>, from position: Int, end: Int) -> Int {
        var position = position
        while position < end {
            switch base[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position &+= 1
            default: return position
            }
        }
        return position
    }

    /// Whether the 4 bytes at `position` are `expected`.
    @inline(__always)
    private static func word(_ base: UnsafePointer<UInt8>, at position: Int, end: Int, is expected: StaticString) -> Bool {
        guard end &- position >= 4 else { return false }
        return UnsafeRawPointer(base + position).loadUnaligned(as: UInt32.self)
            == UnsafeRawPointer(expected.utf8Start).loadUnaligned(as: UInt32.self)
    }

    /// Most keys and many values are short and ASCII: a string of up to 15 such bytes starting
    /// at `start` (after its opening quote), found in the two words there (when the text has
    /// them), loaded once: its length, first 8 bytes and last 8 (for shorter ones, `head`
    /// holds the string and what follows it, and `tail` is `head`). Moves `position` past its
    /// closing quote. Otherwise nil, and `position` is where `restOfPlainString` goes on from,
    /// past the bytes found plain.
    @inline(__always)
    private static func shortText(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, position: inout Int
    ) -> (count: Int, head: UInt64, tail: UInt64)? {
        position = start
        #if _endian(little)
        guard start &+ 16 <= end else { return nil }
        let text = UnsafeRawPointer(base + start)
        let head = text.loadUnaligned(as: UInt64.self)
        let headFlags = attentionFlags(head)
        if headFlags != 0 {
            let length = headFlags.trailingZeroBitCount >> 3
            guard base[start &+ length] == UInt8(ascii: "\"") else {
                position = start &+ length
                return nil
            }
            position = start &+ length &+ 1
            return (length, head, head)
        }
        let flags = attentionFlags(text.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let length = 8 &+ flags.trailingZeroBitCount >> 3
        guard flags != 0 && base[start &+ length] == UInt8(ascii: "\"") else {
            position = start &+ length
            return nil
        }
        position = start &+ length &+ 1
        return (length, head, text.loadUnaligned(fromByteOffset: length &- 8, as: UInt64.self))
        #else
        return nil
        #endif
    }

    /// The rest of a string with no escapes and no control characters (valid UTF-8 is
    /// checked), from `position` (the bytes before it, after the opening quote, were found
    /// plain): where its closing quote is. Nil otherwise.
    @inline(never)
    private static func restOfPlainString(_ base: UnsafePointer<UInt8>, from position: Int, end: Int) -> Int? {
        var position = position
        while true {
            position = skippingPlainWords(UnsafeRawPointer(base), from: position, end: end)
            guard position < end else { return nil }
            let byte = base[position]
            if byte == UInt8(ascii: "\"") { return position }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            if byte >= 0x80 {
                guard let length = utf8SequenceLength(UnsafeRawPointer(base), at: position, end: end) else { return nil }
                position &+= length
            } else {
                position &+= 1
            }
        }
    }

    /// Integers of up to 18 digits, and decimals without exponent whose digits fit in 2^53
    /// (converted with one exact division, as the careful parser's fast path does): where the
    /// number ends, and its tag and bits on the tape.
    @inline(never)
    private static func number(_ base: UnsafePointer<UInt8>, at start: Int, end: Int) -> (next: Int, tag: UInt8, bits: UInt64)? {
        var position = start
        var negative = false
        if base[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard position < end else { return nil }
        var significand: UInt64 = 0
        var digits = 0
        if base[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            while position < end, base[position] &- UInt8(ascii: "0") < 10 {
                significand = significand &* 10 &+ UInt64(base[position] &- UInt8(ascii: "0"))
                digits += 1
                position += 1
            }
            guard digits > 0, digits <= 18 else { return nil }
        }
        var fractionDigits = 0
        if position < end && base[position] == UInt8(ascii: ".") {
            position += 1
            while position < end, base[position] &- UInt8(ascii: "0") < 10 {
                significand = significand &* 10 &+ UInt64(base[position] &- UInt8(ascii: "0"))
                fractionDigits += 1
                position += 1
            }
            guard fractionDigits > 0, digits + fractionDigits <= 15 else { return nil }
        }
        if position < end && (base[position] == UInt8(ascii: "e") || base[position] == UInt8(ascii: "E")) { return nil }
        if fractionDigits == 0 {
            let magnitude = Int64(significand)
            return (position, UInt8(ascii: "i"), UInt64(bitPattern: negative ? -magnitude : magnitude))
        }
        let value = Double(significand) / Self.powersOfTen[fractionDigits]
        return (position, UInt8(ascii: "d"), (negative ? -value : value).bitPattern)
    }

    private static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

    /// Length, first and last 8 bytes, mixed: equal keys hash alike, and keys of one object
    /// seldom share all three (when they do, the careful parser compares them).
    @inline(__always)
    private static func hash(_ key: UnsafeRawBufferPointer, base: UnsafePointer<UInt8>, end: Int) -> UInt64 {
        guard let start = key.baseAddress else { return hash(count: 0, head: 0, tail: 0) }
        if key.count >= 8 {
            return hash(count: key.count, head: start.loadUnaligned(as: UInt64.self),
                        tail: (start + key.count - 8).loadUnaligned(as: UInt64.self))
        } else if start - UnsafeRawPointer(base) + 8 <= end {
            // The bytes after a key (its closing quote, at least) are in the text: load 8, keep
            // the key's.
            let word = start.loadUnaligned(as: UInt64.self)
            return hash(count: key.count, head: word, tail: word)
        } else {
            var word: UInt64 = 0
            for offset in 0..<key.count { word |= UInt64(key[offset]) << (8 * UInt64(offset)) }
            return hash(count: key.count, head: word, tail: word)
        }
    }

    /// The hash of a key of `count` bytes from its first 8 bytes and its last 8; a key shorter
    /// than 8 bytes is `head` alone, of which the bytes past the key are left out. One
    /// multiplication mixes them (its top bits, which `seen` uses, depend on every bit).
    @inline(__always)
    private static func hash(count: Int, head: UInt64, tail: UInt64) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        let words = count >= 8
            ? head ^ (tail << 29 | tail >> 35)
            : head & ((1 &<< (8 * UInt64(count))) &- 1)
        return (words ^ UInt64(truncatingIfNeeded: count)) &* multiplier
    }
}
