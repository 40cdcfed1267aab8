/// Compact JSON text, keys in each object's own order, so equal inputs give equal bytes.
///
/// Floats keep a fraction or exponent (`25.0`, `1e+21`) so they read back as floats; strings
/// escape `"`, `\` and control characters and keep all other characters as UTF-8.
public struct JSONWriter: Sendable {
    /// The text is `storage[0..<count]`. The bytes after it are room already made (zeroes, or
    /// text since removed), so that writes through a pointer need no appending first: making
    /// room by appending zeroes and taking back what was not used cost a copy of the whole
    /// room per value (six bytes per byte of an outcome's calls).
    private var storage: [UInt8] = []
    /// The length of the text.
    public private(set) var count = 0

    /// The text written so far.
    public var bytes: [UInt8] { count == storage.count ? storage : Array(storage[0..<count]) }

    public init(reservingCapacity capacity: Int = 256) {
        storage.reserveCapacity(capacity)
    }

    public static func string(_ value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.write(value)
        return writer.withBytes { String(decoding: $0, as: UTF8.self) }
    }

    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(value)
        return writer.bytes
    }

    /// Calls `body` with the text written so far, without copying it.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    /// The text written, taken out with the storage that holds it (no copy); the writer starts
    /// again empty, without room.
    package mutating func takeBytes() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &storage)
        taken.removeSubrange(count...)
        count = 0
        return taken
    }

    /// Empties the text; its storage stays, as room for what comes next.
    public mutating func removeAll() { count = 0 }

    /// Appends raw bytes that are already JSON (or a separator).
    public mutating func writeRaw(_ text: StaticString) {
        // Most are punctuation: one byte, where the general append costs ~90 instructions.
        let start = text.utf8Start
        switch text.utf8CodeUnitCount {
        case 1:
            append(start[0])
        case 2:
            append(start[0])
            append(start[1])
        default:
            append(UnsafeRawBufferPointer(start: start, count: text.utf8CodeUnitCount))
        }
    }

    public mutating func writeRaw(_ raw: [UInt8]) { raw.withUnsafeBytes { append($0) } }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        if count < storage.count { storage[count] = byte } else { storage.append(byte) }
        count += 1
    }

    private mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress else { return }
        makeRoom(raw.count)
        let start = count
        storage.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { copyBytes(from: source, to: base + start, count: raw.count) }
        }
        count += raw.count
    }

    /// Writes through a raw pointer into room made beforehand: no capacity or uniqueness
    /// check per byte. Containers first get a guess of room, and only when it runs short are
    /// they written again into room for their worst case.
    public mutating func write(_ value: JSONValue) {
        let guess: Int
        switch value {
        case .array, .object: guess = 4096
        default: guess = Self.maximumLength(of: value)
        }
        if write(value, room: guess) { return }
        let written = write(value, room: Self.maximumLength(of: value))
        precondition(written, "JSONWriter.maximumLength(of:) is not an upper bound")
    }

    private mutating func write(_ value: borrowing JSONValue, room: Int) -> Bool {
        makeRoom(room)
        let start = count
        let end: Int? = storage.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            var output = Output(pointer: base + start, end: base + start + room)
            output.write(value)
            return output.outOfRoom ? nil : output.pointer - base
        }
        guard let end else { return false }
        count = end
        return true
    }

    /// Zeroes to make room with: appending a slice of them is a copy, where appending
    /// `repeatElement(0, count:)` went element by element (thousands of instructions for the
    /// 4 KB a container gets). Room beyond them takes that slow path.
    private static let zeroes = [UInt8](repeating: 0, count: 16384)

    /// Makes sure `room` bytes follow the text in `storage`. A writer that is emptied and
    /// filled again (the stream's) soon has all the room it needs.
    @inline(__always)
    private mutating func makeRoom(_ room: Int) {
        let missing = count + room - storage.count
        if missing > 0 { appendZeroes(missing) }
    }

    private mutating func appendZeroes(_ count: Int) {
        if count <= Self.zeroes.count {
            storage.append(contentsOf: Self.zeroes[0..<count])
        } else {
            storage.append(contentsOf: repeatElement(0, count: count))
        }
    }

    /// Writes the value at `node` of `tape`, byte for byte as `write(tape.value(of: node))`
    /// would, without building it.
    public mutating func write(_ tape: JSONTape, at node: JSONTape.Node) {
        tape.bytes.withUnsafeBytes { raw in write(tape: raw, at: node.offset) }
    }

    /// `prefix` (raw text: a key, say), then the value at `node` of `tape`, in one write (each
    /// write makes room and reaches the storage once, which costs more than a short key's copy).
    package mutating func write(_ prefix: StaticString, _ tape: JSONTape, at node: JSONTape.Node) {
        tape.bytes.withUnsafeBytes { raw in write(tape: raw, at: node.offset, prefix: prefix) }
    }

    /// Makes `room` bytes of room after the text and lets `body` write into it through a raw
    /// pointer; the text then ends where `body` left the output.
    @inline(__always)
    private mutating func writeInRoom(_ room: Int, _ body: (inout Output) -> Void) {
        makeRoom(room)
        let start = count
        count = storage.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return start }
            var output = Output(pointer: base + start, end: base + start + room)
            body(&output)
            return output.pointer - base
        }
    }

    /// `prefix` (raw text), then `number`, in one write.
    package mutating func write(_ prefix: StaticString, integer number: Int64) {
        writeInRoom(prefix.utf8CodeUnitCount + 20) { output in
            output.put(prefix)
            output.writeInteger(number)
        }
    }

    /// The value at `offset` of the tape `raw`, after `prefix` (raw text). No value writes more
    /// than six bytes per byte of its tape (a `false` or a comma-separated `null` is the worst
    /// case), so that is the room.
    package mutating func write(tape raw: UnsafeRawBufferPointer, at offset: Int, prefix: StaticString = "") {
        writeInRoom(prefix.utf8CodeUnitCount + 6 * TapeReader(raw, at: offset).size(at: offset) + 8) { output in
            output.put(prefix)
            var position = offset
            output.write(tape: raw, at: &position)
            precondition(!output.outOfRoom, "a tape wrote more than its room")
        }
    }

    /// An upper bound of the bytes `write` appends for `value`.
    static func maximumLength(of value: borrowing JSONValue) -> Int {
        switch value {
        case .null: return 4
        case .bool: return 5
        case .integer: return 20
        case .double: return 32  // the longest description is 24 bytes
        case .string(let text): return 2 + 6 * text.utf8.count
        case .array(let elements):
            var total = 2 + elements.count
            for index in elements.indices { total += maximumLength(of: elements[index]) }
            return total
        case .object(let object):
            var total = 2 + 2 * object.count
            let elements = object.elements
            for index in elements.indices {
                total += 2 + 6 * elements[index].key.utf8.count + maximumLength(of: elements[index].value)
            }
            return total
        }
    }

    public mutating func writeInteger(_ number: Int64) {
        if number >= 0 && number < 10 {
            append(UInt8(ascii: "0") + UInt8(number))
            return
        }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of room for 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var end = buffer.count
            repeat {
                end -= 1
                buffer[end] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if number < 0 {
                end -= 1
                buffer[end] = UInt8(ascii: "-")
            }
            append(UnsafeRawBufferPointer(rebasing: buffer[end...]))
        }
    }

    public mutating func writeDouble(_ number: Double) {
        // Non-finite numbers cannot come from JSON; a caller that makes one gets null, as
        // JSON.stringify does.
        guard number.isFinite else {
            writeRaw("null")
            return
        }
        writeInRoom(32) { $0.writeDouble(number) }
    }

    /// Writes `number` (finite) at `target` exactly as `number.description` spells it, when its
    /// digits are found by a few multiplications: a magnitude from 0.001 to 2^50 with at most 15
    /// decimals, zero, or an integer (prices and amounts, nearly every double of an event).
    /// Returns the bytes written, or nil (nothing written) for the others: the caller then
    /// takes `description`. Needs 24 bytes of room.
    ///
    /// Why it matches: `description` gives the shortest decimal that reads back as `number`
    /// (the closest to it among the shortest) and, for magnitudes from 1e-4 to below 1e16,
    /// lays it out without an exponent, with at least one decimal (`25.0`). With `d` decimals,
    /// the decimals that read back as `number` are the integers `m` with `m / 10^d` in its
    /// rounding interval, which is at most an ulp wide; while `number * 10^d < 2^50`, that is
    /// under a quarter unit of `m`, so at most one integer is in it, and it is the product
    /// rounded (the product's own rounding error is under 1/16). Whether it reads back is then
    /// exactly `m / 10^d == number`: 10^d (d <= 15) and `m` (< 2^53) are exact, and the division
    /// rounds the quotient as reading the decimal would. So the first `d` that reads back gives
    /// the shortest decimal, and it is the only one of its length. (No decimal of this range
    /// lies on a rounding boundary: that needs more than 53 - exponent decimals.)
    static func writeShortDouble(_ number: Double, to target: UnsafeMutablePointer<UInt8>) -> Int? {
        if number == 0 {
            // `description` keeps the sign of zero.
            if number.sign == .minus {
                target.update(from: ("-0.0" as StaticString).utf8Start, count: 4)
                return 4
            }
            target.update(from: ("0.0" as StaticString).utf8Start, count: 3)
            return 3
        }
        let magnitude = number.magnitude
        guard magnitude >= 0.001 && magnitude < 0x1p50 else { return nil }
        // Rounded to an integer by adding and taking away 2^52 (exact below 2^52, and no call
        // to `round`, which `rounded()` makes on this target).
        let shift = 0x1p52
        var decimals = 0
        var scale = 1.0
        var rounded = (magnitude + shift) - shift
        while rounded / scale != magnitude {
            decimals &+= 1
            scale *= 10  // exact: powers of ten up to 1e22 are doubles
            let scaled = magnitude * scale
            guard decimals <= 15 && scaled < 0x1p50 else { return nil }
            rounded = (scaled + shift) - shift
        }
        // The digits of `rounded` with a point before its last `decimals` (zeros before them for
        // a magnitude below 1), or followed by ".0" for an integer; written from the end.
        var digits = UInt64(Int64(rounded))
        var length = 1
        var rest = digits
        while rest >= 10 {
            rest /= 10
            length &+= 1
        }
        let integerDigits = max(length &- decimals, 1)
        let sign = number.sign == .minus ? 1 : 0
        let total = sign &+ integerDigits &+ 1 &+ max(decimals, 1)
        var cursor = target + total
        if decimals == 0 {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0")
        } else {
            for _ in 0..<decimals {
                cursor -= 1
                cursor.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digits % 10)
                digits /= 10
            }
        }
        cursor -= 1
        cursor.pointee = UInt8(ascii: ".")
        repeat {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digits % 10)
            digits /= 10
        } while digits > 0
        if sign == 1 { target.pointee = UInt8(ascii: "-") }
        return total
    }

    /// Writes `string` quoted and escaped, through the same raw-pointer output as values.
    public mutating func write(string: String) {
        writeInRoom(2 + 6 * string.utf8.count) { $0.write(string: string) }
    }

    /// Whether any of the 8 bytes is below 0x20, `"` or `\\` (no false negatives or positives).
    @inline(__always)
    static func wordNeedsEscape(_ word: UInt64) -> Bool {
        escapeFlags(word) & 0x8080_8080_8080_8080 != 0
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}

/// Writes into room sized beforehand by `JSONWriter.maximumLength(of:)`.
private struct Output {
    var pointer: UnsafeMutablePointer<UInt8>
    let end: UnsafeMutablePointer<UInt8>
    /// Set when a write found less room than it needs; the output is then to be discarded.
    var outOfRoom = false

    init(pointer: UnsafeMutablePointer<UInt8>, end: UnsafeMutablePointer<UInt8>) {
        self.pointer = pointer
        self.end = end
    }

    /// Whether `count` more bytes fit. Each request matches `maximumLength(of:)`'s own count,
    /// so room of that size never runs short.
    @inline(__always)
    mutating func room(_ count: Int) -> Bool {
        if end - pointer >= count { return true }
        outOfRoom = true
        return false
    }

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        pointer.pointee = byte
        pointer += 1
    }

    @inline(__always)
    mutating func put(_ text: StaticString) {
        let count = text.utf8CodeUnitCount
        copyBytes(from: UnsafeRawPointer(text.utf8Start), to: UnsafeMutableRawPointer(pointer), count: count)
        pointer += count
    }

    @inline(__always)
    mutating func put(_ source: UnsafePointer<UInt8>, count: Int) {
        copyBytes(from: UnsafeRawPointer(source), to: UnsafeMutableRawPointer(pointer), count: count)
        pointer += count
    }

    mutating func write(_ value: borrowing JSONValue) {
        switch value {
        case .null:
            guard room(4) else { return }
            put("null")
        case .bool(let flag):
            guard room(5) else { return }
            flag ? put("true") : put("false")
        case .integer(let number):
            guard room(20) else { return }
            writeInteger(number)
        case .double(let number):
            guard room(32) else { return }
            writeDouble(number)
        case .string(let text):
            guard room(2 + 6 * text.utf8.count) else { return }
            write(string: text)
        case .array(let elements):
            guard room(1) else { return }
            put(UInt8(ascii: "["))
            for index in elements.indices {
                if index > 0 {
                    guard room(1) else { return }
                    put(UInt8(ascii: ","))
                }
                write(elements[index])
                if outOfRoom { return }
            }
            guard room(1) else { return }
            put(UInt8(ascii: "]"))
        case .object(let object):
            guard room(1) else { return }
            put(UInt8(ascii: "{"))
            let elements = object.elements
            for index in elements.indices {
                if index > 0 {
                    guard room(1) else { return }
                    put(UInt8(ascii: ","))
                }
                guard room(3 + 6 * elements[index].key.utf8.count) else { return }
                write(string: elements[index].key)
                put(UInt8(ascii: ":"))
                write(elements[index].value)
                if outOfRoom { return }
            }
            guard room(1) else { return }
            put(UInt8(ascii: "}"))
        }
    }

    /// The value at `position` of a tape; moves past it. The caller made room for it.
    mutating func write(tape raw: UnsafeRawBufferPointer, at position: inout Int) {
        let reader = TapeReader(raw, at: position)
        let tag = raw[position]
        position += 1
        switch tag {
        case UInt8(ascii: "n"): put("null")
        case UInt8(ascii: "t"): put("true")
        case UInt8(ascii: "f"): put("false")
        case UInt8(ascii: "i"):
            writeInteger(Int64(bitPattern: reader.u64(at: position)))
            position += 8
        case UInt8(ascii: "d"):
            writeDouble(Double(bitPattern: reader.u64(at: position)))
            position += 8
        case UInt8(ascii: "s"):
            writeTapeText(raw, at: &position)
        default:
            let isObject = tag == UInt8(ascii: "o")
            let count = reader.u32(at: position)
            position += 12
            put(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
            for index in 0..<count {
                if index > 0 { put(UInt8(ascii: ",")) }
                if isObject {
                    writeTapeText(raw, at: &position)
                    put(UInt8(ascii: ":"))
                }
                // Most members are strings: written here, without the recursive call.
                if raw[position] == UInt8(ascii: "s") {
                    position += 1
                    writeTapeText(raw, at: &position)
                } else {
                    write(tape: raw, at: &position)
                }
            }
            put(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        }
    }

    /// A tape string or key (length, bytes) at `position`, quoted and escaped.
    ///
    /// Most are keys and short values: up to 16 bytes, checked as one or two words and stored
    /// as they are, with the quotes, in a few instructions (the general path below cost about a
    /// hundred per string). The words are read whole when the tape goes on past them, and
    /// stored whole: the room of a tape value (six bytes per byte of its tape) leaves more than
    /// the 18 bytes this writes past the pointer, and what comes next writes over the rest.
    @inline(__always)
    mutating func writeTapeText(_ raw: UnsafeRawBufferPointer, at position: inout Int) {
        let length = Int(raw.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian)
        let start = position &+ 4
        if length <= 16 && start &+ 16 <= raw.count, let base = raw.baseAddress {
            // Bytes past the text are checked as a plain letter. (Swift's SIMD comparisons were
            // tried for this: they compile to a loop per lane here, and cost 40% more overall.)
            let plain: UInt64 = 0x6161_6161_6161_6161
            let first = base.loadUnaligned(fromByteOffset: start, as: UInt64.self)
            let firstKeep: UInt64 = length >= 8 ? ~0 : (1 &<< (8 &* UInt64(length))) &- 1
            let second = base.loadUnaligned(fromByteOffset: start &+ 8, as: UInt64.self)
            let secondKeep: UInt64 = length <= 8 ? 0 : length == 16 ? ~0 : (1 &<< (8 &* UInt64(length &- 8))) &- 1
            let flagged = escapeFlags((first.littleEndian & firstKeep) | (plain & ~firstKeep))
                | escapeFlags((second.littleEndian & secondKeep) | (plain & ~secondKeep))
            if flagged & 0x8080_8080_8080_8080 == 0 {
                assert(end - pointer >= 18, "room for two words and the quotes")
                let target = UnsafeMutableRawPointer(pointer)
                target.storeBytes(of: UInt8(ascii: "\""), as: UInt8.self)
                target.storeBytes(of: first, toByteOffset: 1, as: UInt64.self)
                target.storeBytes(of: second, toByteOffset: 9, as: UInt64.self)
                target.storeBytes(of: UInt8(ascii: "\""), toByteOffset: 1 &+ length, as: UInt8.self)
                pointer += length &+ 2
                position = start &+ length
                return
            }
        }
        writeTapeTextInGeneral(raw, at: &position)
    }

    /// `writeTapeText` for any length, and for text that needs escapes.
    @inline(never)
    mutating func writeTapeTextInGeneral(_ raw: UnsafeRawBufferPointer, at position: inout Int) {
        let length = Int(raw.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian)
        put(UInt8(ascii: "\""))
        if let base = raw.baseAddress {
            let text = base + position + 4
            // Nearly every string needs no escape: checked a word at a time, the last word
            // read whole when the tape goes on past it, then copied as it is.
            if (length >= 8 || position + 4 + length + 8 <= raw.count) && putPlain(text, length) {
                // copied while checked
            } else {
                writeEscaped(UnsafeBufferPointer(start: text.assumingMemoryBound(to: UInt8.self), count: length))
            }
        }
        put(UInt8(ascii: "\""))
        position += 4 + length
    }

    /// Copies `count` bytes at `text` that need no escape, checking a word at a time as it
    /// copies; false at the first that needs one (the pointer unmoved). Below 8 bytes, the 8
    /// bytes from `text` must be readable; and 8 bytes past the copy writable: the room of a tape
    /// value is six bytes per byte of its tape, far more than a string's text needs.
    @inline(__always)
    mutating func putPlain(_ text: UnsafeRawPointer, _ count: Int) -> Bool {
        assert(end - pointer >= count + 8, "room for a word past the text")
        let target = UnsafeMutableRawPointer(pointer)
        var offset = 0
        while offset + 8 <= count {
            let word = text.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            if JSONWriter.wordNeedsEscape(word) { return false }
            target.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        let rest = count - offset
        if rest > 0 && count >= 8 {
            // The text's last eight bytes, overlapping the word before: nothing past the text
            // is read (a string that ends the tape has nothing after it).
            let word = text.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            if JSONWriter.wordNeedsEscape(word) { return false }
            target.storeBytes(of: word, toByteOffset: count - 8, as: UInt64.self)
        } else if rest > 0 {
            // The bytes past the string are replaced by a plain letter before the check; the
            // whole word is stored, and what lies past the text is written over next.
            let keep: UInt64 = (1 << (8 * UInt64(rest))) &- 1
            let word = text.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            if JSONWriter.wordNeedsEscape((word.littleEndian & keep) | (0x6161_6161_6161_6161 & ~keep)) { return false }
            target.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
        }
        pointer += count
        return true
    }


    mutating func writeInteger(_ number: Int64) {
        if number < 0 { put(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var cursor = pointer + digits
        pointer = cursor
        repeat {
            cursor -= 1
            cursor.pointee = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    mutating func writeDouble(_ number: Double) {
        guard number.isFinite else {
            put("null")
            return
        }
        // Most doubles are written without making their `description` (a string per number).
        if let written = JSONWriter.writeShortDouble(number, to: pointer) {
            pointer += written
            return
        }
        let text = number.description
        if text.utf8.withContiguousStorageIfAvailable({ put($0.baseAddress!, count: $0.count) }) == nil {
            for byte in text.utf8 { put(byte) }
        }
    }

    mutating func write(string: borrowing String) {
        put(UInt8(ascii: "\""))
        if string.utf8.withContiguousStorageIfAvailable({ writeEscaped($0) }) == nil {
            var text = copy string
            text.withUTF8 { writeEscaped($0) }
        }
        put(UInt8(ascii: "\""))
    }

    @inline(__always)
    mutating func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let base = utf8.baseAddress else { return }
        let count = utf8.count
        var runStart = 0
        var index = 0
        while true {
            while index + 8 <= count,
                  !JSONWriter.wordNeedsEscape(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
            {
                index += 8
            }
            let stop = min(index + 8, count)
            while index < stop {
                let byte = base[index]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    put(base + runStart, count: index - runStart)
                    runStart = index + 1
                    writeEscape(byte)
                }
                index += 1
            }
            if index >= count { break }
        }
        put(base + runStart, count: count - runStart)
    }

    mutating func writeEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): put("\\\"")
        case UInt8(ascii: "\\"): put("\\\\")
        case 0x0A: put("\\n")
        case 0x0D: put("\\r")
        case 0x09: put("\\t")
        case 0x08: put("\\b")
        case 0x0C: put("\\f")
        default:
            put("\\u00")
            put(JSONWriter.hexDigit(byte >> 4))
            put(JSONWriter.hexDigit(byte & 0xF))
        }
    }
}
