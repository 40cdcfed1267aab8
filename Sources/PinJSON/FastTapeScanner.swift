/// The common case of `JSONTapeParser`, written for speed: one pass over the bytes through a raw
/// pointer, writing the tape as it goes, with no per-token calls or thrown errors. It takes only
/// what is plain — strings without escapes, numbers without exponents that convert exactly on
/// the fast path, moderate nesting, keys that differ in hash — and gives up (`nil`) on anything
/// else, valid or not, so that the careful parser decides: its errors and its handling of the
/// rare cases stay the only ones. When it succeeds its tape is byte for byte the careful one's
/// (`FastTapeScannerTests` and the JSON fuzz suites check both).
struct FastTapeScanner {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var position = 0
    private let depthLimit: Int
    private var deepest = 0
    private var containers = 0

    /// The room made for a line's tape once, before scanning it, so that no write checks for
    /// room: no text takes more tape per byte than `[]` inside an array (2 bytes, or 3 with a
    /// comma, for a 13-byte header); the 64 more cover a lone number (9 bytes for 1) and the
    /// up to 8 bytes a short string's copy writes past its end (`appendShortText`).
    static let roomPerByte = 7
    /// Longer lines go to the careful parser rather than reserve seven times their size.
    static let maximumLength = 1 << 20

    /// Scans `bytes` into `tape` (emptied first); the value's depth, or nil to defer to the
    /// careful parser.
    static func scan(_ bytes: UnsafeRawBufferPointer, maxDepth: Int, into tape: inout TapeBuffer, keyHashes: KeyHashStack) -> Int? {
        guard let start = bytes.baseAddress, bytes.count > 0, bytes.count <= Self.maximumLength else { return nil }
        var scanner = FastTapeScanner(base: start.assumingMemoryBound(to: UInt8.self), end: bytes.count, depthLimit: min(maxDepth, 64))
        tape.removeAll()
        tape.reserve(Self.roomPerByte * bytes.count + 64)
        keyHashes.truncate(to: 0)
        scanner.skipWhitespace()
        guard scanner.value(depth: 0, tape: &tape, keyHashes: keyHashes) else { return nil }
        scanner.skipWhitespace()
        return scanner.position == scanner.end ? scanner.deepest : nil
    }

    private init(base: UnsafePointer<UInt8>, end: Int, depthLimit: Int) {
        self.base = base
        self.end = end
        self.depthLimit = depthLimit
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < end {
            switch base[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int, tape: inout TapeBuffer, keyHashes: KeyHashStack) -> Bool {
        guard position < end else { return false }
        switch base[position] {
        case UInt8(ascii: "{"): return object(depth: depth, tape: &tape, keyHashes: keyHashes)
        case UInt8(ascii: "["): return array(depth: depth, tape: &tape, keyHashes: keyHashes)
        case UInt8(ascii: "\""): return string(tape: &tape)
        case UInt8(ascii: "t"): return literal("true", tag: UInt8(ascii: "t"), tape: &tape)
        case UInt8(ascii: "f"): return literal("false", tag: UInt8(ascii: "f"), tape: &tape)
        case UInt8(ascii: "n"): return literal("null", tag: UInt8(ascii: "n"), tape: &tape)
        default: return number(tape: &tape)
        }
    }

    /// A value inside a container: strings (most values) here, without the call.
    @inline(__always)
    private mutating func member(depth: Int, tape: inout TapeBuffer, keyHashes: KeyHashStack) -> Bool {
        guard position < end, base[position] == UInt8(ascii: "\"") else { return value(depth: depth, tape: &tape, keyHashes: keyHashes) }
        return string(tape: &tape)
    }

    @inline(__always)
    private mutating func literal(_ word: StaticString, tag: UInt8, tape: inout TapeBuffer) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - position >= count else { return false }
        for offset in 0..<count where base[position + offset] != word.utf8Start[offset] { return false }
        position += count
        tape.append(tag: tag, roomMade: true)
        return true
    }

    private mutating func object(depth: Int, tape: inout TapeBuffer, keyHashes: KeyHashStack) -> Bool {
        guard let (header, first, empty) = open(UInt8(ascii: "o"), closing: UInt8(ascii: "}"), depth: depth, tape: &tape) else { return false }
        if empty { return true }
        let hashBase = keyHashes.count
        defer { keyHashes.truncate(to: hashBase) }
        var seen: UInt64 = 0
        var count = 0
        while true {
            // Compact text (what SDKs send) has no whitespace: look for the expected byte first.
            if position < end && base[position] != UInt8(ascii: "\"") { skipWhitespace() }
            guard position < end, base[position] == UInt8(ascii: "\""), let hash = key(tape: &tape) else { return false }
            // Keys that may be the same go to the careful parser, which knows what to do. A
            // 64-bit summary of the hashes seen spares the comparisons for most keys.
            let bit: UInt64 = 1 << (hash >> 58)
            if seen & bit != 0 {
                var slot = hashBase
                while slot < keyHashes.count {
                    if keyHashes[slot] == hash { return false }
                    slot += 1
                }
            }
            seen |= bit
            keyHashes.append(hash)
            if position < end && base[position] != UInt8(ascii: ":") { skipWhitespace() }
            guard position < end, base[position] == UInt8(ascii: ":") else { return false }
            position += 1
            if position < end && base[position] <= UInt8(ascii: " ") { skipWhitespace() }
            guard member(depth: depth + 1, tape: &tape, keyHashes: keyHashes) else { return false }
            count += 1
            guard let closed = closes(UInt8(ascii: "}")) else { return false }
            if closed {
                tape.finishContainer(at: header, members: count, descendants: containers - first)
                return true
            }
        }
    }

    private mutating func array(depth: Int, tape: inout TapeBuffer, keyHashes: KeyHashStack) -> Bool {
        guard let (header, first, empty) = open(UInt8(ascii: "a"), closing: UInt8(ascii: "]"), depth: depth, tape: &tape) else { return false }
        if empty { return true }
        var count = 0
        while true {
            if position < end && base[position] <= UInt8(ascii: " ") { skipWhitespace() }
            guard member(depth: depth + 1, tape: &tape, keyHashes: keyHashes) else { return false }
            count += 1
            guard let closed = closes(UInt8(ascii: "]")) else { return false }
            if closed {
                tape.finishContainer(at: header, members: count, descendants: containers - first)
                return true
            }
        }
    }

    /// Opens the array or object at `position`: where its header is, the container count once
    /// it is counted, and whether it closed at once (empty, and finished). Nil past the depth
    /// limit.
    @inline(__always)
    private mutating func open(_ tag: UInt8, closing: UInt8, depth: Int, tape: inout TapeBuffer) -> (header: Int, first: Int, empty: Bool)? {
        guard depth < depthLimit else { return nil }
        position += 1
        let header = tape.beginContainer(tag: tag, count: 0, roomMade: true)
        containers += 1
        deepest = max(deepest, depth + 1)
        skipWhitespace()
        guard position < end && base[position] == closing else { return (header, containers, false) }
        position += 1
        tape.finishContainer(at: header, members: 0, descendants: 0)
        return (header, containers, true)
    }

    /// After a member: true when `closing` ends the container here, false after a comma, nil
    /// for anything else.
    @inline(__always)
    private mutating func closes(_ closing: UInt8) -> Bool? {
        if position < end && base[position] <= UInt8(ascii: " ") { skipWhitespace() }
        guard position < end else { return nil }
        let byte = base[position]
        guard byte == UInt8(ascii: ",") || byte == closing else { return nil }
        position += 1
        return byte == closing
    }

    /// A key, from its opening quote, written to the tape; its hash (see
    /// `hash`).
    @inline(__always)
    private mutating func key(tape: inout TapeBuffer) -> UInt64? {
        let start = position &+ 1
        if let (length, head, tail) = shortText(start: start) {
            tape.appendShortText(tag: nil, count: length, head: head, tail: tail)
            return Self.hash(count: length, head: head, tail: tail)
        }
        return longKey(start: start, tape: &tape)
    }

    /// `key` for the rest: longer keys, escapes, non-ASCII bytes, the end of the text.
    @inline(never)
    private mutating func longKey(start: Int, tape: inout TapeBuffer) -> UInt64? {
        guard let key = restOfPlainString(start: start) else { return nil }
        tape.append(tag: nil, text: key, roomMade: true)
        return hash(key)
    }

    /// A string value, from its opening quote, written to the tape.
    @inline(__always)
    private mutating func string(tape: inout TapeBuffer) -> Bool {
        let start = position &+ 1
        if let (length, head, tail) = shortText(start: start) {
            tape.appendShortText(tag: UInt8(ascii: "s"), count: length, head: head, tail: tail)
            return true
        }
        return longString(start: start, tape: &tape)
    }

    /// `string` for the rest.
    @inline(never)
    private mutating func longString(start: Int, tape: inout TapeBuffer) -> Bool {
        guard let text = restOfPlainString(start: start) else { return false }
        tape.append(tag: UInt8(ascii: "s"), text: text, roomMade: true)
        return true
    }

    /// Most keys and many values are short and ASCII: a string of up to 15 such bytes starting
    /// at `start` (after its opening quote), found in the two words there (when the text has
    /// them), loaded once: its length, first 8 bytes and last 8 (for shorter ones, `head`
    /// holds the string and what follows it, and `tail` is `head`). Moves past its closing
    /// quote. Otherwise nil, and `restOfPlainString` goes on from `position`, past the bytes
    /// found plain.
    @inline(__always)
    private mutating func shortText(start: Int) -> (count: Int, head: UInt64, tail: UInt64)? {
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

    /// The bytes of a string with no escapes and no control characters (valid UTF-8 is
    /// checked) starting at `start`, after its opening quote, read from `position` (the bytes
    /// before it were found plain); moves past the closing quote. Nil otherwise.
    private mutating func restOfPlainString(start: Int) -> UnsafeRawBufferPointer? {
        while true {
            position = skippingPlainWords(UnsafeRawPointer(base), from: position, end: end)
            guard position < end else { return nil }
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                defer { position += 1 }
                return UnsafeRawBufferPointer(start: base + start, count: position - start)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            if byte >= 0x80 {
                guard let length = utf8SequenceLength(UnsafeRawPointer(base), at: position, end: end) else { return nil }
                position += length
            } else {
                position += 1
            }
        }
    }

    /// Integers of up to 18 digits, and decimals without exponent whose digits fit in 2^53
    /// (converted with one exact division, as the careful parser's fast path does).
    private mutating func number(tape: inout TapeBuffer) -> Bool {
        var negative = false
        if base[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard position < end else { return false }
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
            guard digits > 0, digits <= 18 else { return false }
        }
        var fractionDigits = 0
        if position < end && base[position] == UInt8(ascii: ".") {
            position += 1
            while position < end, base[position] &- UInt8(ascii: "0") < 10 {
                significand = significand &* 10 &+ UInt64(base[position] &- UInt8(ascii: "0"))
                fractionDigits += 1
                position += 1
            }
            guard fractionDigits > 0, digits + fractionDigits <= 15 else { return false }
        }
        if position < end && (base[position] == UInt8(ascii: "e") || base[position] == UInt8(ascii: "E")) { return false }
        if fractionDigits == 0 {
            let magnitude = Int64(significand)
            tape.append(tag: UInt8(ascii: "i"), UInt64(bitPattern: negative ? -magnitude : magnitude), roomMade: true)
        } else {
            let value = Double(significand) / Self.powersOfTen[fractionDigits]
            tape.append(tag: UInt8(ascii: "d"), (negative ? -value : value).bitPattern, roomMade: true)
        }
        return true
    }

    private static let powersOfTen: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

    /// Length, first and last 8 bytes, mixed: equal keys hash alike, and keys of one object
    /// seldom share all three (when they do, the careful parser compares them).
    @inline(__always)
    private func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        let start = UnsafeRawPointer(key.baseAddress!)
        if key.count >= 8 {
            return Self.hash(count: key.count, head: start.loadUnaligned(as: UInt64.self),
                             tail: (start + key.count - 8).loadUnaligned(as: UInt64.self))
        } else if start - UnsafeRawPointer(base) + 8 <= end {
            // The bytes after a key (its closing quote, at least) are in the text: load 8, keep
            // the key's.
            let word = start.loadUnaligned(as: UInt64.self)
            return Self.hash(count: key.count, head: word, tail: word)
        } else {
            var word: UInt64 = 0
            for offset in 0..<key.count { word |= UInt64(key[offset]) << (8 * UInt64(offset)) }
            return Self.hash(count: key.count, head: word, tail: word)
        }
    }

    /// The hash of a key of `count` bytes from its first 8 bytes and its last 8; a key shorter
    /// than 8 bytes is `head` alone, of which the bytes past the key are left out.
    @inline(__always)
    private static func hash(count: Int, head: UInt64, tail: UInt64) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var hash = UInt64(truncatingIfNeeded: count) &* multiplier
        if count >= 8 {
            hash = (hash ^ head) &* multiplier
            hash = (hash ^ tail) &* multiplier
        } else {
            hash = (hash ^ (head & ((1 &<< (8 * UInt64(count))) &- 1))) &* multiplier
        }
        return hash ^ (hash >> 29)
    }
}
