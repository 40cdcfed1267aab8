import PinJSON

/// Encodes call arguments into the tape the C bridge reads (format in `bridge.c`), and decodes
/// the result tape it writes. One encoder per sandbox, reused, so a call allocates little.
struct TapeEncoder {
    private(set) var bytes: [UInt8] = []
    let maxDepth: Int

    init(maxDepth: Int) {
        self.maxDepth = maxDepth
        bytes.reserveCapacity(4096)
    }

    mutating func encode(_ arguments: [LuaArgument]) throws(SandboxError) {
        bytes.removeAll(keepingCapacity: true)
        appendU32(UInt32(arguments.count))
        for argument in arguments {
            switch argument {
            case .json(let value): try append(value, depth: 0)
            case .reference(let reference):
                bytes.append(UInt8(ascii: "r"))
                appendU32(UInt32(bitPattern: reference.id))
            }
        }
    }

    private mutating func appendU32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendString(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            appendU32(UInt32(truncatingIfNeeded: utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    private mutating func append(_ value: JSONValue, depth: Int) throws(SandboxError) {
        switch value {
        case .null: bytes.append(UInt8(ascii: "n"))
        case .bool(let flag): bytes.append(flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .integer(let number):
            bytes.append(UInt8(ascii: "i"))
            withUnsafeBytes(of: number.littleEndian) { bytes.append(contentsOf: $0) }
        case .double(let number):
            bytes.append(UInt8(ascii: "d"))
            withUnsafeBytes(of: number.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        case .string(let text):
            bytes.append(UInt8(ascii: "s"))
            appendString(text)
        case .array(let elements):
            guard depth < maxDepth else { throw .badArgument(reason: "nesting deeper than \(maxDepth)") }
            bytes.append(UInt8(ascii: "a"))
            appendU32(UInt32(elements.count))
            for element in elements { try append(element, depth: depth + 1) }
        case .object(let object):
            guard depth < maxDepth else { throw .badArgument(reason: "nesting deeper than \(maxDepth)") }
            bytes.append(UInt8(ascii: "o"))
            appendU32(UInt32(object.count))
            for (key, member) in object.elements {
                appendString(key)
                try append(member, depth: depth + 1)
            }
        }
    }
}

/// Reads the result tape. The C side wrote it, so a malformed tape is a bug: it ends decoding
/// with a host error rather than trapping.
struct TapeDecoder {
    private let base: UnsafePointer<UInt8>
    private let end: Int
    private var position = 0

    init(_ base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.end = count
    }

    mutating func decodeAll(count: Int) throws(SandboxError) -> [JSONValue] {
        var values: [JSONValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try decode()) }
        return values
    }

    private mutating func readU32() throws(SandboxError) -> Int {
        guard end - position >= 4 else { throw .host(message: "truncated result tape") }
        var value: UInt32 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + position, count: 4)) }
        position += 4
        return Int(UInt32(littleEndian: value))
    }

    private mutating func readU64() throws(SandboxError) -> UInt64 {
        guard end - position >= 8 else { throw .host(message: "truncated result tape") }
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + position, count: 8)) }
        position += 8
        return UInt64(littleEndian: value)
    }

    /// Invalid UTF-8 becomes U+FFFD here; the C side reported where.
    private mutating func readString() throws(SandboxError) -> String {
        let length = try readU32()
        guard end - position >= length else { throw .host(message: "truncated result tape") }
        let text = String(decoding: UnsafeBufferPointer(start: base + position, count: length), as: UTF8.self)
        position += length
        return text
    }

    private mutating func decode() throws(SandboxError) -> JSONValue {
        guard position < end else { throw .host(message: "truncated result tape") }
        let tag = base[position]
        position += 1
        switch tag {
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "t"): return .bool(true)
        case UInt8(ascii: "f"): return .bool(false)
        case UInt8(ascii: "i"): return .integer(Int64(bitPattern: try readU64()))
        case UInt8(ascii: "d"): return .double(Double(bitPattern: try readU64()))
        case UInt8(ascii: "s"): return .string(try readString())
        case UInt8(ascii: "a"):
            let count = try readU32()
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try decode()) }
            return .array(elements)
        case UInt8(ascii: "o"):
            let count = try readU32()
            var members: [(key: String, value: JSONValue)] = []
            members.reserveCapacity(count)
            for _ in 0..<count {
                let key = try readString()
                members.append((key, try decode()))
            }
            // Lua tables have no key order (and Lua seeds its string hash per state): sort this
            // level (the members were sorted as they were decoded) so output does not change
            // from run to run.
            members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            var object = JSONObject()
            object.reserveCapacity(count)
            for member in members { object.appendUnique(member.key, member.value) }
            return .object(object)
        default:
            throw .host(message: "malformed result tape")
        }
    }
}
