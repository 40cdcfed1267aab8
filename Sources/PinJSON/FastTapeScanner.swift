#if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
// SSE2 (part of every x86-64): sixteen bytes of a string checked in a handful of instructions.
// Swift's own `SIMD16` comparisons did not become vector code (docs/performance.md).
internal import _Builtin_intrinsics.intel
#endif

/// The common case of `JSONTapeParser`, written for speed: one pass over the bytes through a raw
/// pointer, writing the tape as it goes, with no per-token calls or thrown errors. It takes only
/// what is plain — strings without escapes, numbers without exponents that convert exactly on
/// the fast path, moderate nesting, keys that differ in hash — and gives up (`nil`) on anything
/// else, valid or not, so that the careful parser decides: its errors and its handling of the
/// rare cases stay the only ones. When it succeeds its tape is byte for byte the careful one's
/// (`FastTapeScannerTests` and the JSON fuzz suites check both).
///
/// It is one loop, not one call per value: the position, where the tape goes on and the open
/// container stay in registers (a scanner's fields, or a tape passed on, live in memory, and
/// every write through the tape's raw pointer made the compiler read them again). Registers are
/// what this loop runs short of: what is seldom needed, or compared where it is (a container's
/// counts, the text's last significant byte), stays in `Scratch`. Strings are looked at 16
/// bytes at a time (`TextBlock`).
enum FastTapeScanner {
    /// The room made for a line's tape once, before scanning it, so that no write checks for
    /// room: no complete text takes more tape per byte than `[]` inside an array (2 bytes, or 3
    /// with a comma, for a 13-byte header), a lone number aside (9 bytes for 1).
    static let roomPerByte = 7
    /// Room beyond `roomPerByte`: a lone number's excess, the headers of the containers still
    /// open when a text is declined part-way (13 bytes for one, at most `maximumDepth` of them),
    /// and the up to 16 bytes a string's copy writes past its end (`TextBlock.store`).
    static let extraRoom = 64 + 13 * maximumDepth + 16
    /// Longer lines go to the careful parser rather than reserve seven times their size.
    static let maximumLength = 1 << 20
    /// Deeper nesting goes to the careful parser.
    static let maximumDepth = 64

    /// An open array or object.
    fileprivate struct Container {
        /// `}` or `]`; 0 for the text itself (slot 0 of `Scratch.enclosing`).
        var closer: UInt8 = 0
        /// Where its header is on the tape.
        var header: UnsafeMutableRawPointer
        var members = 0
        /// The number of containers among its members, at any depth, so far.
        var descendants = 0
        /// A 64-bit summary of its keys' hashes: most keys need no comparisons.
        var seen: UInt64 = 0
        /// Where its keys' hashes start in `Scratch`.
        var hashBase: UnsafeMutablePointer<UInt64>
        /// In slot 0 only: where the text's last byte that is not white space is. Read from
        /// memory (comparisons take it from there) to leave the loop one more register.
        var limit = 0
    }

    /// What a scan keeps from one line to the next: the tape's room, and room for the
    /// enclosing containers and for the hashes of the keys of the open objects.
    final class Scratch {
        /// Slot 0 stands for the text itself (the open container is `enclosing[depth]`), so
        /// that opening one saves the enclosing one's state without a check, and closing the
        /// outermost finds a closer of 0.
        fileprivate let enclosing: UnsafeMutablePointer<Container>
        fileprivate private(set) var hashes: UnsafeMutablePointer<UInt64>
        private var hashCapacity = 256
        fileprivate private(set) var tape: UnsafeMutableRawPointer
        private var tapeCapacity = 8192

        init() {
            enclosing = .allocate(capacity: maximumDepth + 1)
            hashes = .allocate(capacity: hashCapacity)
            tape = .allocate(byteCount: tapeCapacity, alignment: 16)
            // Slot 0 is read when the text's own container closes.
            enclosing.initialize(repeating: Container(header: tape, hashBase: hashes), count: maximumDepth + 1)
        }

        deinit {
            enclosing.deinitialize(count: maximumDepth + 1)
            enclosing.deallocate()
            hashes.deallocate()
            tape.deallocate()
        }

        /// A text of `length` bytes has at most `length / 4` keys (`"":0,` each) and takes at
        /// most `roomPerByte * length + extraRoom` bytes of tape.
        fileprivate func makeRoom(forTextOf length: Int) {
            if length / 4 + 1 > hashCapacity {
                hashes.deallocate()
                hashCapacity = length / 4 + 1
                hashes = .allocate(capacity: hashCapacity)
            }
            let room = roomPerByte * length + extraRoom
            if room > tapeCapacity {
                tape.deallocate()
                tapeCapacity = room
                tape = .allocate(byteCount: tapeCapacity, alignment: 16)
            }
        }

        fileprivate var tapeEnd: UnsafeMutableRawPointer { tape + tapeCapacity }
    }

    /// Scans `bytes` into a tape kept in `scratch`: the value's depth and its tape (valid
    /// until the next scan), or nil to defer to the careful parser.
    static func scan(_ bytes: UnsafeRawBufferPointer, maxDepth: Int, scratch: Scratch) -> (depth: Int, tape: UnsafeRawBufferPointer)? {
        guard let start = bytes.baseAddress, bytes.count > 0, bytes.count <= maximumLength else { return nil }
        scratch.makeRoom(forTextOf: bytes.count)
        guard let (depth, end) = scan(start.assumingMemoryBound(to: UInt8.self), end: bytes.count, depthLimit: min(maxDepth, maximumDepth),
                                      tape: scratch.tape, tapeEnd: scratch.tapeEnd, enclosing: scratch.enclosing, hashes: scratch.hashes)
        else { return nil }
        return (depth, UnsafeRawBufferPointer(start: scratch.tape, count: end - scratch.tape))
    }

    /// Writes a string or key's length, and its tag before it (keys have none): where its
    /// bytes go.
    @inline(__always)
    private static func textHeader(_ out: UnsafeMutableRawPointer, tag: UInt8?, count: Int) -> UnsafeMutableRawPointer {
        var at = out
        if let tag {
            at.storeBytes(of: tag, as: UInt8.self)
            at += 1
        }
        at.storeBytes(of: UInt32(truncatingIfNeeded: count).littleEndian, as: UInt32.self)
        return at + 4
    }

    @inline(__always)
    private static func patch(_ value: Int, at target: UnsafeMutableRawPointer) {
        target.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, as: UInt32.self)
    }

    private static func scan(
        _ base: UnsafePointer<UInt8>, end: Int, depthLimit: Int, tape: UnsafeMutableRawPointer, tapeEnd: UnsafeMutableRawPointer,
        enclosing: UnsafeMutablePointer<Container>, hashes: UnsafeMutablePointer<UInt64>
    ) -> (depth: Int, end: UnsafeMutableRawPointer)? {
        // Where the next byte of tape goes; the room is made (debug builds check it).
        var out = tape
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
        // The open container, `enclosing[depth]` (one pointer for both: registers are short
        // in this loop, so its member count and key summary stay in it, not in locals); its
        // closing byte is kept here while it is open.
        enclosing.pointee = Container(header: tape, hashBase: hashes, limit: limit)
        var current = enclosing
        let deepestAllowed = enclosing + depthLimit
        var deepest = enclosing
        /// `}` or `]`, what closes it; 0 outside any.
        var closer: UInt8 = 0
        var nextHash = hashes
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
                if let (length, head) = shortText(base, start: start, end: end, to: out + 4, position: &position) {
                    out = textHeader(out, tag: nil, count: length) + length
                    let tail = length >= 8 ? UInt64(littleEndian: UnsafeRawPointer(base + (start &+ length &- 8)).loadUnaligned(as: UInt64.self)) : head
                    hash = Self.hash(count: length, head: head, tail: tail)
                } else {
                    guard let closing = restOfPlainString(base, start: start, from: position, end: end, to: out + 4) else { return nil }
                    let key = UnsafeRawBufferPointer(start: base + start, count: closing &- start)
                    position = closing &+ 1
                    out = textHeader(out, tag: nil, count: key.count) + key.count
                    hash = Self.hash(key, base: base, end: end)
                }
                assert(out <= tapeEnd, "room was not made")
                // Keys that may be the same go to the careful parser, which knows what to do.
                let bit: UInt64 = 1 &<< (hash >> 58)
                if current.pointee.seen & bit != 0 {
                    var slot = current.pointee.hashBase
                    while slot < nextHash {
                        if slot.pointee == hash { return nil }
                        slot += 1
                    }
                }
                current.pointee.seen |= bit
                nextHash.pointee = hash
                nextHash += 1
                assert(position <= limit)
                if base[position] != UInt8(ascii: ":") {
                    position = skippingWhitespace(base, from: position, end: end)
                    guard position < end, base[position] == UInt8(ascii: ":") else { return nil }
                }
                position &+= 1
                atKey = false
            }
            // A value.
            assert(position <= limit)
            let byte = base[position]
            switch byte {
            case UInt8(ascii: "\""):
                let start = position &+ 1
                if let (length, _) = shortText(base, start: start, end: end, to: out + 5, position: &position) {
                    out = textHeader(out, tag: UInt8(ascii: "s"), count: length) + length
                } else {
                    guard let closing = restOfPlainString(base, start: start, from: position, end: end, to: out + 5) else { return nil }
                    position = closing &+ 1
                    out = textHeader(out, tag: UInt8(ascii: "s"), count: closing &- start) + (closing &- start)
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard current < deepestAllowed else { return nil }
                position &+= 1
                let isObject = byte == UInt8(ascii: "{")
                let header = out
                header.storeBytes(of: isObject ? UInt8(ascii: "o") : UInt8(ascii: "a"), as: UInt8.self)
                out += 13
                if base[position] <= UInt8(ascii: " ") { position = skippingWhitespace(base, from: position, end: end) }
                assert(position <= limit)
                // `}` and `]` follow `{` and `[` by two.
                if base[position] == byte &+ 2 {
                    // Empty: closed at once, a member of the enclosing container (which cannot
                    // end after the last byte).
                    if position == enclosing.pointee.limit && current != enclosing { return nil }
                    position &+= 1
                    current.pointee.descendants &+= 1
                    deepest = max(deepest, current + 1)
                    patch(0, at: header + 1)
                    patch(0, at: header + 5)
                    patch(0, at: header + 9)
                } else {
                    closer = byte &+ 2
                    current += 1
                    current.pointee = Container(closer: closer, header: header, hashBase: nextHash)
                    deepest = max(deepest, current)
                    atKey = isObject
                    continue scanning
                }
            case UInt8(ascii: "t"):
                guard word(base, at: position, end: end, is: "true") else { return nil }
                position &+= 4
                out.storeBytes(of: UInt8(ascii: "t"), as: UInt8.self)
                out += 1
            case UInt8(ascii: "f"):
                guard word(base, at: position &+ 1, end: end, is: "alse") else { return nil }
                position &+= 5
                out.storeBytes(of: UInt8(ascii: "f"), as: UInt8.self)
                out += 1
            case UInt8(ascii: "n"):
                guard word(base, at: position, end: end, is: "null") else { return nil }
                position &+= 4
                out.storeBytes(of: UInt8(ascii: "n"), as: UInt8.self)
                out += 1
            case 0x20, 0x0A, 0x0D, 0x09:
                // White space before a value (after `[`, `,` or `:`): rare in what SDKs send.
                position = skippingWhitespace(base, from: position, end: end)
                guard position < end else { return nil }
                continue scanning
            default:
                guard let (next, tag, bits) = number(base, at: position, end: end) else { return nil }
                position = next
                out.storeBytes(of: tag, as: UInt8.self)
                out.storeBytes(of: bits.littleEndian, toByteOffset: 1, as: UInt64.self)
                out += 9
            }
            assert(out <= tapeEnd, "room was not made")
            // After a value: a comma and the next member, or the end of its container (itself
            // a value in the one enclosing it).
            while closer != 0 {
                current.pointee.members &+= 1
                assert(position <= limit)
                var next = base[position]
                if next == UInt8(ascii: ",") {
                    position &+= 1
                    atKey = closer == UInt8(ascii: "}")
                    continue scanning
                }
                if next != closer {
                    // White space first, or something wrong.
                    position = skippingWhitespace(base, from: position, end: end)
                    assert(position <= limit)
                    next = base[position]
                    if next == UInt8(ascii: ",") {
                        position &+= 1
                        atKey = closer == UInt8(ascii: "}")
                        continue scanning
                    }
                    guard next == closer else { return nil }
                }
                position &+= 1
                let closed = current.pointee
                patch(closed.members, at: closed.header + 1)
                patch(out - (closed.header + 13), at: closed.header + 5)
                patch(closed.descendants, at: closed.header + 9)
                nextHash = closed.hashBase
                current -= 1
                // The enclosing container cannot end after the last byte.
                if position > enclosing.pointee.limit && current != enclosing { return nil }
                current.pointee.descendants &+= closed.descendants &+ 1
                closer = current.pointee.closer
            }
            break
        }
        position = skippingWhitespace(base, from: position, end: end)
        return position == end ? (deepest - enclosing, out) : nil
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
    /// at `start` (after its opening quote), found in the 16 bytes there (when the text has
    /// them), loaded once and stored at `target` as they are (what follows the string there is
    /// overwritten by what comes next on the tape): its length and first 8 bytes (for shorter
    /// ones, the string and what follows it). Moves `position` past its closing quote.
    /// Otherwise nil, and `position` is where `restOfPlainString` goes on from, past the bytes
    /// found plain (and stored).
    @inline(__always)
    private static func shortText(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, to target: UnsafeMutableRawPointer, position: inout Int
    ) -> (count: Int, head: UInt64)? {
        position = start
        guard start &+ 16 <= end else { return nil }
        let block = TextBlock(base + start)
        block.store(to: target)
        let length = block.firstSpecial
        guard length < 16, base[start &+ length] == UInt8(ascii: "\"") else {
            position = start &+ length
            return nil
        }
        position = start &+ length &+ 1
        return (length, block.head)
    }

    /// The rest of a string with no escapes and no control characters (valid UTF-8 is
    /// checked), from `position` (the bytes before it, after the opening quote at `start - 1`,
    /// were found plain and stored): where its closing quote is, its bytes stored at `target`
    /// (and up to 16 past them). Nil otherwise.
    @inline(never)
    private static func restOfPlainString(
        _ base: UnsafePointer<UInt8>, start: Int, from position: Int, end: Int, to target: UnsafeMutableRawPointer
    ) -> Int? {
        var position = position
        while true {
            if position &+ 16 <= end {
                // Stored before it is checked: what is not the string's is overwritten later.
                let block = TextBlock(base + position)
                block.store(to: target + (position &- start))
                let plain = block.firstSpecial
                position &+= plain
                if plain == 16 { continue }
            } else {
                // The last few bytes of the text, one at a time.
                guard position < end else { return nil }
                let byte = base[position]
                if byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                    target.storeBytes(of: byte, toByteOffset: position &- start, as: UInt8.self)
                    position &+= 1
                    continue
                }
            }
            let byte = base[position]
            if byte == UInt8(ascii: "\"") { return position }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            guard let length = utf8SequenceLength(UnsafeRawPointer(base), at: position, end: end) else { return nil }
            // It may reach past the block stored.
            for offset in 0..<length {
                target.storeBytes(of: base[position &+ offset], toByteOffset: position &- start &+ offset, as: UInt8.self)
            }
            position &+= length
        }
    }

    /// Integers of up to 18 digits, and decimals without exponent whose digits fit in 2^53
    /// (converted with one exact division, as the careful parser's fast path does): where the
    /// number ends, and its tag and bits on the tape.
    @inline(never)
    private static func number(_ base: UnsafePointer<UInt8>, at start: Int, end: Int) -> (next: Int, tag: UInt8, bits: UInt64)? {
        if let short = shortNumber(base, at: start, end: end) { return short }
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

    /// The common case of `number`, a word at a time: up to 7 digits, and up to 7 after a
    /// point, without a leading zero, when the text has 8 bytes at each. Nil for the rest,
    /// which `number` reads a digit at a time (declining it or not).
    @inline(__always)
    private static func shortNumber(_ base: UnsafePointer<UInt8>, at start: Int, end: Int) -> (next: Int, tag: UInt8, bits: UInt64)? {
        let negative = base[start] == UInt8(ascii: "-")
        var position = negative ? start &+ 1 : start
        guard position &+ 8 <= end, base[position] != UInt8(ascii: "0") else { return nil }
        let (count, integer) = digits(base, at: position)
        guard count > 0 && count < 8 else { return nil }
        // Fewer than 8 digits in 8 bytes: the byte after them is in the text.
        position &+= count
        if base[position] != UInt8(ascii: ".") {
            guard base[position] | 0x20 != UInt8(ascii: "e") else { return nil }
            let magnitude = Int64(integer)
            return (position, UInt8(ascii: "i"), UInt64(bitPattern: negative ? 0 &- magnitude : magnitude))
        }
        position &+= 1
        guard position &+ 8 <= end else { return nil }
        let (fractionCount, fraction) = digits(base, at: position)
        guard fractionCount > 0 && fractionCount < 8 else { return nil }
        position &+= fractionCount
        guard base[position] | 0x20 != UInt8(ascii: "e") else { return nil }
        // At most 14 digits: exact in a Double, as `number` requires (15).
        let scale: UInt64
        switch fractionCount {
        case 1: scale = 10
        case 2: scale = 100
        case 3: scale = 1_000
        case 4: scale = 10_000
        case 5: scale = 100_000
        case 6: scale = 1_000_000
        default: scale = 10_000_000
        }
        let value = Double(integer &* scale &+ fraction) / Self.powersOfTen[fractionCount]
        return (position, UInt8(ascii: "d"), (negative ? -value : value).bitPattern)
    }

    /// How many of the 8 bytes at `position` are decimal digits before any other byte, and
    /// their value (when there are 1 to 8).
    @inline(__always)
    private static func digits(_ base: UnsafePointer<UInt8>, at position: Int) -> (count: Int, value: UInt64) {
        let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
        // Digits become 0 to 9; a byte above 9 sets its high bit, with 0x76 added or as it is
        // (the lowest flag is exact: carries run only upwards, out of flagged bytes).
        let values = word ^ 0x3030_3030_3030_3030
        let flags = ((values &+ 0x7676_7676_7676_7676) | values) & 0x8080_8080_8080_8080
        let count = flags.trailingZeroBitCount >> 3
        // The digits moved to the top (the first, most significant, lowest), zeros below
        // them, then pairs, fours and eights of digits combined by multiplication.
        var number = values &<< (64 &- 8 &* UInt64(truncatingIfNeeded: count))
        number = ((number & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        number = ((number & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        number = ((number & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
        return (count, number)
    }

    private static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

    /// Length, first and last 8 bytes, mixed: equal keys hash alike, and keys of one object
    /// seldom share all three (when they do, the careful parser compares them).
    @inline(__always)
    private static func hash(_ key: UnsafeRawBufferPointer, base: UnsafePointer<UInt8>, end: Int) -> UInt64 {
        guard let start = key.baseAddress else { return hash(count: 0, head: 0, tail: 0) }
        if key.count >= 8 {
            return hash(count: key.count, head: UInt64(littleEndian: start.loadUnaligned(as: UInt64.self)),
                        tail: UInt64(littleEndian: (start + key.count - 8).loadUnaligned(as: UInt64.self)))
        } else if start - UnsafeRawPointer(base) + 8 <= end {
            // The bytes after a key (its closing quote, at least) are in the text: load 8, keep
            // the key's.
            let word = UInt64(littleEndian: start.loadUnaligned(as: UInt64.self))
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
            : (head &<< 8) &<< (56 &- 8 &* UInt64(truncatingIfNeeded: count))   // the bytes past the key shifted out
        return (words ^ UInt64(truncatingIfNeeded: count)) &* multiplier
    }
}

/// Sixteen bytes of a string, loaded once.
private struct TextBlock {
    #if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
    let bytes: __m128i

    @inline(__always)
    init(_ text: UnsafePointer<UInt8>) { bytes = UnsafeRawPointer(text).loadUnaligned(as: __m128i.self) }

    /// The first 8 bytes, the first in the low byte.
    var head: UInt64 {
        @inline(__always) get { UInt64(bitPattern: bytes[0]) }
    }

    /// Where the first byte that needs attention in a JSON string is (a control character, `"`,
    /// `\` or a non-ASCII byte), 16 when there is none.
    var firstSpecial: Int {
        @inline(__always) get {
            let quotes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(0x22))
            let backslashes = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(0x5C))
            // Compared as signed bytes, those from 0x80 are negative: below 0x20 with the
            // control characters.
            let below = _mm_cmpgt_epi8(_mm_set1_epi8(0x20), bytes)
            let flags = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quotes, backslashes), below))
            return (UInt32(truncatingIfNeeded: flags) | 0x1_0000).trailingZeroBitCount
        }
    }

    @inline(__always)
    func store(to target: UnsafeMutableRawPointer) { target.storeBytes(of: bytes, as: __m128i.self) }
    #else
    /// The first 8 bytes and the next 8, the first in the low byte.
    let head: UInt64
    private let second: UInt64

    @inline(__always)
    init(_ text: UnsafePointer<UInt8>) {
        head = UInt64(littleEndian: UnsafeRawPointer(text).loadUnaligned(as: UInt64.self))
        second = UInt64(littleEndian: UnsafeRawPointer(text).loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// Where the first byte that needs attention in a JSON string is (a control character, `"`,
    /// `\` or a non-ASCII byte), 16 when there is none.
    var firstSpecial: Int {
        @inline(__always) get {
            // The lowest flag of a word is exact (see `attentionFlags`).
            let first = attentionFlags(head)
            if first != 0 { return first.trailingZeroBitCount >> 3 }
            return 8 &+ attentionFlags(second).trailingZeroBitCount >> 3
        }
    }

    @inline(__always)
    func store(to target: UnsafeMutableRawPointer) {
        target.storeBytes(of: head.littleEndian, as: UInt64.self)
        target.storeBytes(of: second.littleEndian, toByteOffset: 8, as: UInt64.self)
    }
    #endif
}
