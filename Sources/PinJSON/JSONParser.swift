/// Why a text is not JSON, and where: `unexpected end of input at byte 8`.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, without the position.
    public var reason: String
    /// Zero-based offset of the first byte that could not be accepted.
    public var byteOffset: Int

    public init(reason: String, byteOffset: Int) {
        self.reason = reason
        self.byteOffset = byteOffset
    }

    public var description: String { "\(reason) at byte \(byteOffset)" }
}

/// A strict RFC 8259 parser for one JSON text.
///
/// - Integers without fraction or exponent that fit in 64 bits become `.integer`; other numbers
///   `.double` (an integer too large for 64 bits becomes the nearest double, as in JavaScript).
/// - Strings must be valid UTF-8; a `\u` escape of a lone surrogate becomes U+FFFD.
/// - Duplicate keys: the last one wins, in the position of the first (as `JSON.parse`). Keys
///   are duplicates only when their UTF-8 bytes are the same after unescaping, so canonically
///   equivalent spellings ("\u{E9}" and "e\u{301}") are two members.
/// - A leading UTF-8 byte order mark and surrounding white space are ignored.
/// - Nesting deeper than `maxDepth` is an error, so hostile input cannot exhaust the stack.
public struct JSONParser: Sendable {
    public static let defaultMaxDepth = 256

    public var maxDepth: Int

    public init(maxDepth: Int = JSONParser.defaultMaxDepth) {
        self.maxDepth = maxDepth
    }

    public func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        return try text.withUTF8 { buffer in parseCatching(UnsafeRawBufferPointer(buffer)) }.get()
    }

    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBytes { buffer in parseCatching(buffer) }.get()
    }

    public func parse(_ bytes: ArraySlice<UInt8>) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBytes { buffer in parseCatching(buffer) }.get()
    }

    /// `withUnsafeBytes` rethrows untyped errors; a `Result` keeps the type.
    private func parseCatching(_ buffer: UnsafeRawBufferPointer) -> Result<JSONValue, JSONParseError> {
        Result { () throws(JSONParseError) in try parse(buffer) }
    }

    public func parse(_ buffer: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var reader = Reader(buffer: buffer, maxDepth: maxDepth, observer: NoObservation())
        return try reader.parseDocument()
    }

    /// Checks a JSON text exactly as `parse` does (the same errors at the same offsets) and
    /// reports its structure to `recorder`, without building a `JSONValue`. Duplicate keys are
    /// found by hash only: `duplicateKey` means "possibly a duplicate" here. Specialised for the
    /// recorder: its methods are called directly (and inlined).
    package func scan(_ buffer: UnsafeRawBufferPointer, recorder: TapeRecorder) throws(JSONParseError) {
        var reader = Reader(buffer: buffer, maxDepth: maxDepth, observer: recorder, buildsValues: false)
        _ = try reader.parseDocument()
    }
}

/// What the reader tells as it goes, in document order: nothing (`parse`), or the tape recorder
/// (`scan`). Calls arrive as `beginContainer`, then per member `key` (objects only) and the
/// member's value, then `endContainer`; scalars as `scalar` or `string`. Byte buffers are valid
/// only during the call.
protocol ParseObservation {
    func beginContainer(isObject: Bool)
    func key(_ bytes: UnsafeRawBufferPointer)
    func string(_ bytes: UnsafeRawBufferPointer)
    func scalar(_ value: JSONValue)
    func endContainer(_ value: JSONValue, count: Int)
    func duplicateKey()
}

struct NoObservation: ParseObservation {
    @inline(__always) func beginContainer(isObject: Bool) {}
    @inline(__always) func key(_ bytes: UnsafeRawBufferPointer) {}
    @inline(__always) func string(_ bytes: UnsafeRawBufferPointer) {}
    @inline(__always) func scalar(_ value: JSONValue) {}
    @inline(__always) func endContainer(_ value: JSONValue, count: Int) {}
    @inline(__always) func duplicateKey() {}
}

extension TapeRecorder: ParseObservation {}

private let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

/// The position of the first byte at or after `position` that needs attention in a JSON string
/// (a control character, `"`, `\` or a non-ASCII byte), looking at 8 bytes at a time; stops
/// near `end` (fewer than 8 bytes left) without looking at the rest.
@inline(__always)
func skippingPlainWords(_ base: UnsafeRawPointer, from position: Int, end: Int) -> Int {
    var position = position
    while position + 8 <= end {
        let special = attentionFlags((base + position).loadUnaligned(as: UInt64.self))
        if special != 0 {
            #if _endian(little)
            // The lowest flag is exact (borrows only run upwards, to later bytes): go
            // straight to the first byte that needs attention.
            position += special.trailingZeroBitCount >> 3
            #endif
            return position
        }
        position += 8
    }
    return position
}

/// Per byte of `word`, the high bit set where a JSON string must escape it (a control
/// character, `"` or `\`), and maybe in bytes after the first such one (borrows run upwards;
/// the first flag is exact). Other bits are noise: mask with the high bits before testing. The
/// flags of several words can be or'ed first.
@inline(__always)
func escapeFlags(_ word: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let control = (word &- ones &* 0x20) & ~word
    let quotes = word ^ (ones &* 0x22)
    let backslashes = word ^ (ones &* 0x5C)
    return control | ((quotes &- ones) & ~quotes) | ((backslashes &- ones) & ~backslashes)
}

/// The high bit of each byte of `word` that needs attention in a JSON string (a control
/// character, `"`, `\` or a non-ASCII byte); bytes after the first flagged one may be flagged
/// wrongly (borrows run upwards), the first flag is exact.
@inline(__always)
func attentionFlags(_ word: UInt64) -> UInt64 {
    (escapeFlags(word) | word) & 0x8080_8080_8080_8080
}

/// The length of the well-formed UTF-8 sequence starting at `position` (no overlongs, no
/// surrogates, at most U+10FFFF), or nil when it is not one.
@inline(__always)
func utf8SequenceLength(_ base: UnsafeRawPointer, at position: Int, end: Int) -> Int? {
    let lead = base.load(fromByteOffset: position, as: UInt8.self)
    let length: Int
    var lower: UInt8 = 0x80
    var upper: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0: length = 3; lower = 0xA0
    case 0xE1...0xEC, 0xEE, 0xEF: length = 3
    case 0xED: length = 3; upper = 0x9F
    case 0xF0: length = 4; lower = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4: length = 4; upper = 0x8F
    default: return nil
    }
    guard position + length <= end else { return nil }
    let second = base.load(fromByteOffset: position + 1, as: UInt8.self)
    guard second >= lower && second <= upper else { return nil }
    for offset in 2..<max(2, length) where base.load(fromByteOffset: position + offset, as: UInt8.self) & 0xC0 != 0x80 {
        return nil
    }
    return length
}

/// The hashes of the keys of the objects being parsed, innermost last: storage that only
/// grows, with a count of its own, read and written through a pointer (an array checked its
/// uniqueness and bounds on every key, which cost more than the hashing).
final class KeyHashStack {
    private var storage: UnsafeMutablePointer<UInt64>
    private var capacity = 64
    private(set) var count = 0

    init() { storage = .allocate(capacity: capacity) }

    deinit { storage.deallocate() }

    @inline(__always)
    subscript(index: Int) -> UInt64 {
        assert(index >= 0 && index < count)
        return storage[index]
    }

    @inline(__always)
    func append(_ hash: UInt64) {
        if count == capacity { grow() }
        storage[count] = hash
        count += 1
    }

    private func grow() {
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity * 2)
        grown.update(from: storage, count: count)
        storage.deallocate()
        storage = grown
        capacity *= 2
    }

    @inline(__always)
    func truncate(to newCount: Int) { count = newCount }
}

private struct Reader<Observer: ParseObservation> {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var position = 0
    var depth = 0
    /// Reused for strings with escapes.
    var scratch: [UInt8] = []
    /// Hashes of the keys of the objects being parsed, innermost last: each object looks for
    /// a duplicate among its own keys' hashes and compares strings only when two hashes match.
    let keyHashes = KeyHashStack()

    let observer: Observer
    /// False for `scan`: check and report, build nothing.
    let buildsValues: Bool

    init(buffer: UnsafeRawBufferPointer, maxDepth: Int, observer: Observer, buildsValues: Bool = true) {
        self.bytes = buffer
        self.maxDepth = maxDepth
        self.observer = observer
        self.buildsValues = buildsValues
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
        skipWhitespace()
        let value: JSONValue
        if buildsValues {
            value = try parseValue()
        } else {
            try scanValue()
            value = .null
        }
        skipWhitespace()
        if position < bytes.count {
            throw fail("unexpected \(describe(bytes[position])) after the JSON value")
        }
        return value
    }

    func fail(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason: reason, byteOffset: offset ?? position)
    }

    func describe(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    func unexpected() -> JSONParseError {
        position < bytes.count ? fail("unexpected \(describe(bytes[position]))") : fail("unexpected end of input")
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return observed(.bool(true))
        case UInt8(ascii: "f"): try expectLiteral("false"); return observed(.bool(false))
        case UInt8(ascii: "n"): try expectLiteral("null"); return observed(.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return observed(try parseNumber())
        default: throw unexpected()
        }
    }

    @inline(__always)
    func observed(_ scalar: JSONValue) -> JSONValue {
        observer.scalar(scalar)
        return scalar
    }

    @inline(__always)
    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for offset in 0..<count {
            guard position + offset < bytes.count else {
                throw fail("unexpected end of input", at: position + offset)
            }
            guard bytes[position + offset] == start[offset] else {
                throw fail("invalid literal", at: position + offset)
            }
        }
        position += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth)") }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        if try open(object: true) {
            let empty = JSONValue.object(JSONObject())
            observer.endContainer(empty, count: 0)
            return empty
        }
        var elements: [JSONObject.Element] = []
        elements.reserveCapacity(8)
        var index: [JSONKey: Int]? = nil
        let hashBase = keyHashes.count
        repeat {
            try expectKey()
            let (key, hash) = try parseKey()
            try expectColon()
            let value = try parseValue()
            insert(key, hash, value, into: &elements, index: &index, hashBase: hashBase)
        } while try !closes(object: true)
        keyHashes.truncate(to: hashBase)
        let object = JSONValue.object(JSONObject(uniqueMembers: elements))
        observer.endContainer(object, count: elements.count)
        return object
    }

    /// Duplicate keys (the same UTF-8 bytes: see `sameKey`) replace in place. Small objects look
    /// back linearly through their keys' hashes (comparing bytes only when hashes match); large
    /// ones keep an index, so a hostile object with many keys stays linear to parse.
    @inline(__always)
    mutating func insert(
        _ key: String, _ hash: UInt64, _ value: JSONValue, into elements: inout [JSONObject.Element],
        index: inout [JSONKey: Int]?, hashBase: Int
    ) {
        if index != nil || elements.count >= 32 {
            if Self.insertIndexed(key, value, into: &elements, index: &index) { observer.duplicateKey() }
            return
        }
        var slot = hashBase
        let end = keyHashes.count
        while slot < end {
            if keyHashes[slot] == hash && sameBytes(elements[slot - hashBase].key, key) {
                observer.duplicateKey()
                elements[slot - hashBase].value = value
                return
            }
            slot += 1
        }
        keyHashes.append(hash)
        elements.append((key, value))
    }

    /// The large-object path of `insert`, kept out of line (as `sameBytes` is) so the common
    /// small-object path stays small enough for the optimiser to inline into `parseObject`.
    /// Returns whether the key was a duplicate (its value replaced the earlier one).
    @inline(never)
    static func insertIndexed(
        _ key: String, _ value: consuming JSONValue, into elements: inout [JSONObject.Element],
        index: inout [JSONKey: Int]?
    ) -> Bool {
        if index == nil {
            var built: [JSONKey: Int] = [:]
            built.reserveCapacity(elements.count * 2)
            for (offset, element) in elements.enumerated() { built[JSONKey(element.key)] = offset }
            index = built
        }
        if let existing = index?[JSONKey(key)] {
            elements[existing].value = value
            return true
        }
        index?[JSONKey(key)] = elements.count
        elements.append((key, value))
        return false
    }

    /// `parseValue` for `scan`: the same checks, nothing built or returned.
    mutating func scanValue() throws(JSONParseError) {
        guard position < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): try scanObject()
        case UInt8(ascii: "["): try scanArray()
        case UInt8(ascii: "\""): _ = try parseString()
        case UInt8(ascii: "t"): try expectLiteral("true"); observer.scalar(.bool(true))
        case UInt8(ascii: "f"): try expectLiteral("false"); observer.scalar(.bool(false))
        case UInt8(ascii: "n"): try expectLiteral("null"); observer.scalar(.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): observer.scalar(try parseNumber())
        default: throw unexpected()
        }
    }

    /// Opens an array or object at its bracket; true when it is empty (and so closed already).
    @inline(__always)
    mutating func open(object: Bool) throws(JSONParseError) -> Bool {
        try enter()
        observer.beginContainer(isObject: object)
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == (object ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
            position += 1
            depth -= 1
            return true
        }
        return false
    }

    /// At a member of an object: its key must start here.
    @inline(__always)
    func expectKey() throws(JSONParseError) {
        guard position < bytes.count else { throw fail("unexpected end of input") }
        guard bytes[position] == UInt8(ascii: "\"") else {
            throw fail("expected a string key, found \(describe(bytes[position]))")
        }
    }

    /// After a key: the colon, and the white space around it.
    @inline(__always)
    mutating func expectColon() throws(JSONParseError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
            throw position < bytes.count ? fail("expected ':' after an object key, found \(describe(bytes[position]))") : unexpected()
        }
        position += 1
        skipWhitespace()
    }

    /// After a member: true when the container closes here; after a comma, false (the next
    /// member follows).
    @inline(__always)
    mutating func closes(object: Bool) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: ","):
            position += 1
            skipWhitespace()
            return false
        case object ? UInt8(ascii: "}") : UInt8(ascii: "]"):
            position += 1
            depth -= 1
            return true
        default:
            throw fail(object ? "expected ',' or '}' in an object, found \(describe(bytes[position]))"
                              : "expected ',' or ']' in an array, found \(describe(bytes[position]))")
        }
    }

    /// `parseObject` for `scan`: the same checks, no value. Keys are told apart by hash alone
    /// (a shared hash is reported as a possible duplicate).
    mutating func scanObject() throws(JSONParseError) {
        if try open(object: true) {
            observer.endContainer(.null, count: 0)
            return
        }
        var count = 0
        var large: Set<UInt64>? = nil
        let hashBase = keyHashes.count
        repeat {
            try expectKey()
            let hash = try scanKey()
            try expectColon()
            try scanValue()
            if large == nil && count >= 32 { large = Set((hashBase..<keyHashes.count).map { keyHashes[$0] }) }
            if large != nil {
                if large?.insert(hash).inserted == false { observer.duplicateKey() }
            } else {
                var slot = hashBase
                while slot < keyHashes.count {
                    if keyHashes[slot] == hash {
                        observer.duplicateKey()
                        break
                    }
                    slot += 1
                }
                keyHashes.append(hash)
            }
            count += 1
        } while try !closes(object: true)
        keyHashes.truncate(to: hashBase)
        observer.endContainer(.null, count: count)
    }

    /// `parseArray` for `scan`.
    mutating func scanArray() throws(JSONParseError) {
        if try open(object: false) {
            observer.endContainer(.null, count: 0)
            return
        }
        var count = 0
        repeat {
            try scanValue()
            count += 1
        } while try !closes(object: false)
        observer.endContainer(.null, count: count)
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        if try open(object: false) {
            let empty = JSONValue.array([])
            observer.endContainer(empty, count: 0)
            return empty
        }
        var elements: [JSONValue] = []
        elements.reserveCapacity(4)
        repeat {
            elements.append(try parseValue())
        } while try !closes(object: false)
        let array = JSONValue.array(elements)
        observer.endContainer(array, count: elements.count)
        return array
    }

    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    @inline(__always)
    func digit(at offset: Int) -> UInt64? {
        guard offset < bytes.count else { return nil }
        let value = bytes[offset] &- UInt8(ascii: "0")
        return value < 10 ? UInt64(value) : nil
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        guard position < bytes.count else { throw fail("unexpected end of input") }
        // The significant digits, up to 19 of them, for the fast paths.
        var significand: UInt64 = 0
        var significantDigits = 0
        var exponent10 = 0  // value = significand * 10^exponent10 when exact
        var exact = true  // false when digits were dropped
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if isDigit(bytes[position]) {
            while let digit = digit(at: position) {
                if significantDigits < 19 {
                    significand = significand &* 10 &+ digit
                    significantDigits += 1
                } else {
                    exact = false
                }
                position += 1
            }
        } else {
            throw fail("expected a digit in a number")
        }
        let integerEnd = position
        var isInteger = true
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw position < bytes.count ? fail("expected a digit after '.'") : fail("unexpected end of input")
            }
            while let digit = digit(at: position) {
                if significantDigits < 19 {
                    if significand != 0 || digit != 0 {
                        significand = significand &* 10 &+ digit
                        significantDigits += 1
                    }
                    exponent10 -= 1
                } else {
                    exact = false
                }
                position += 1
            }
        }
        if position < bytes.count && (bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")) {
            isInteger = false
            position += 1
            var exponentNegative = false
            if position < bytes.count && (bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")) {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw position < bytes.count ? fail("expected a digit in an exponent") : fail("unexpected end of input")
            }
            var exponent = 0
            while let digit = digit(at: position) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(digit) } else { exact = false }
                position += 1
            }
            exponent10 += exponentNegative ? -exponent : exponent
        }
        if isInteger {
            if significantDigits <= 18 && exact {
                let magnitude = Int64(significand)
                return .integer(negative ? -magnitude : magnitude)
            }
            if let value = parseInt64(start, integerEnd) { return .integer(value) }
        } else if exact && significand <= 1 << 53 && exponent10 >= -22 && exponent10 <= 22 {
            // Clinger's fast path: both operands are exact doubles, so one correctly rounded
            // operation gives the correctly rounded value, the same as a full conversion.
            var value = Double(significand)
            if exponent10 < 0 {
                value /= powersOfTen[-exponent10]
            } else {
                value *= powersOfTen[exponent10]
            }
            return .double(negative ? -value : value)
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw fail("number out of range", at: start)
        }
        return .double(value)
    }


    /// Exact 64-bit integer, or nil on overflow.
    func parseInt64(_ start: Int, _ end: Int) -> Int64? {
        var index = start
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var magnitude: UInt64 = 0
        while index < end {
            let digit = UInt64(bytes[index] &- UInt8(ascii: "0"))
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            if magnitude <= UInt64(Int64.max) { return -Int64(magnitude) }
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            return nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// Skips bytes that need no attention in a string (see `skippingPlainWords`).
    @inline(__always)
    mutating func skipPlainWords() {
        guard let base = bytes.baseAddress else { return }
        position = skippingPlainWords(base, from: position, end: bytes.count)
    }


    /// Reads a string from its opening quote to past its closing one. Its bytes, escapes
    /// resolved, are the returned slice of the text, or `scratch` when it had escapes (nil).
    @inline(__always)
    mutating func readString() throws(JSONParseError) -> Range<Int>? {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes.
        while true {
            skipPlainWords()
            guard position < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                defer { position += 1 }
                return start..<position
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("unescaped control character in a string") }
            if byte >= 0x80 { try skipUTF8Sequence() } else { position += 1 }
        }
        try parseEscapedRest(from: start)
        return nil
    }

    /// The bytes `readString` found.
    @inline(__always)
    func withStringBytes<Result>(_ range: Range<Int>?, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if let range { return body(UnsafeRawBufferPointer(rebasing: bytes[range])) }
        return scratch.withUnsafeBytes(body)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        let range = try readString()
        return withStringBytes(range) { text in
            observer.string(text)
            return buildsValues ? String(decoding: text, as: UTF8.self) : ""
        }
    }

    /// A key and the hash of its UTF-8 bytes (after unescaping). Keys are equal exactly when
    /// their bytes are, so keys with different hashes are different keys, ASCII or not.
    mutating func parseKey() throws(JSONParseError) -> (String, UInt64) {
        let range = try readString()
        return withStringBytes(range) { text in
            observer.key(text)
            return (String(decoding: text, as: UTF8.self), Self.hash(text))
        }
    }

    /// `parseKey` for `scan`: the hash only.
    mutating func scanKey() throws(JSONParseError) -> UInt64 {
        let range = try readString()
        return withStringBytes(range) { text in
            observer.key(text)
            return Self.hash(text)
        }
    }

    /// Length, first and last 8 bytes: cheap, and keys of one object seldom share all three.
    @inline(__always)
    static func hash(_ text: UnsafeRawBufferPointer) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        let count = text.count
        var hash = UInt64(truncatingIfNeeded: count) &* multiplier
        guard let start = text.baseAddress else { return hash ^ (hash >> 29) }
        if count >= 8 {
            hash = (hash ^ start.loadUnaligned(as: UInt64.self)) &* multiplier
            hash = (hash ^ (start + count - 8).loadUnaligned(as: UInt64.self)) &* multiplier
        } else {
            var word: UInt64 = 0
            for offset in 0..<count {
                word |= UInt64(start.load(fromByteOffset: offset, as: UInt8.self)) << (8 * UInt64(offset))
            }
            hash = (hash ^ word) &* multiplier
        }
        return hash ^ (hash >> 29)
    }

    /// The rest of a string from its first backslash (at `position`), unescaped into `scratch`.
    mutating func parseEscapedRest(from start: Int) throws(JSONParseError) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
        while true {
            let runStart = position
            skipPlainWords()
            if position > runStart {
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
            }
            guard position < bytes.count else { break }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw fail("unescaped control character in a string")
            case 0x80...:
                let sequenceStart = position
                try skipUTF8Sequence()
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[sequenceStart..<position]))
            default:
                scratch.append(byte)
                position += 1
            }
        }
        throw fail("unterminated string")
    }

    mutating func parseEscape() throws(JSONParseError) {
        position += 1
        guard position < bytes.count else { throw fail("unterminated string") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800..<0xDC00).contains(scalar),
               position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
            {
                let save = position
                position += 2
                let low = try parseHex4()
                if (0xDC00..<0xE000).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    position = save  // not a pair: the high half alone is replaced
                }
            }
            let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            UTF8.encode(character) { scratch.append($0) }
        default:
            throw fail("invalid escape: \(describe(byte)) after '\\'", at: position - 1)
        }
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid hex digit in a \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    /// Accepts one well-formed UTF-8 sequence (see `utf8SequenceLength`).
    mutating func skipUTF8Sequence() throws(JSONParseError) {
        guard let base = bytes.baseAddress, let length = utf8SequenceLength(base, at: position, end: bytes.count) else {
            throw fail("invalid UTF-8")
        }
        position += length
    }
}
