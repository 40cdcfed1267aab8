/// A JSON value that keeps what a lossless pipeline needs: integers apart from floats
/// (`1` vs `1.0`, 64-bit integers exactly), arrays apart from objects (empty ones too), `null` as
/// a value of its own, and the order of an object's keys.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number. Always finite: JSON has no NaN or infinity.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    /// Strings (and keys) are equal when their UTF-8 bytes are, as in JSON and JavaScript, not
    /// by Unicode canonical equivalence as Swift's `String ==`: a rule that changes "é" from
    /// precomposed to decomposed changed the value.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.string(let a), .string(let b)): return sameKey(a, b)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The member `key` when this is an object; `nil` otherwise or when absent.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The value at a dot path (`properties.products.0.name`): object members by name, array
    /// elements by decimal index. `nil` when any step is missing.
    public func value(atPath path: String) -> JSONValue? {
        var current = self
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            switch current {
            case .object(let object):
                guard let next = object[String(component)] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(component), index >= 0, index < array.count,
                      String(index) == component else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }

    /// JavaScript truthiness: `false`, `0`, `-0`, `NaN`, `""` and `null` are falsy; everything
    /// else, empty arrays and objects included, is truthy.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let value): return value
        case .integer(let value): return value != 0
        case .double(let value): return value != 0 && !value.isNaN
        case .string(let value): return !value.isEmpty
        case .array, .object: return true
        }
    }

    /// This value with every object's keys, at any depth, sorted by their UTF-8 bytes.
    public func sortedByKey() -> JSONValue {
        switch self {
        case .object(let object): return .object(object.sortedByKey())
        case .array(let array): return .array(array.map { $0.sortedByKey() })
        default: return self
        }
    }

    /// This value with every object's keys in the order `original` has them; keys that
    /// `original` lacks follow, in their own order. Used to give a value that went through a
    /// store without key order (a Lua table) back the order it came in with.
    public func ordered(like original: JSONValue) -> JSONValue {
        switch (self, original) {
        case (.object(let object), .object(let reference)):
            return .object(object.ordered(like: reference))
        case (.array(let array), .array(let reference)):
            var result = array
            for index in 0..<min(array.count, reference.count) {
                result[index] = array[index].ordered(like: reference[index])
            }
            return .array(result)
        default:
            return self
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text.
    public var description: String { JSONWriter.string(self) }
}
