public import PinJSON

/// A RudderStack message. Keeps the whole original JSON, since dedup keys and rules read arbitrary
/// paths, with typed accessors for what the mapping needs. Accessors never fail: a member of the
/// wrong type reads as absent.
public struct RudderMessage: Sendable, Equatable {
    /// The message exactly as received.
    public let json: JSONValue

    /// Wraps a message as received; any JSON value is accepted.
    public init(_ json: JSONValue) { self.json = json }

    /// `type` when it is a string (`track`, `page`, `identify`, ...).
    public var type: String? { json["type"]?.stringValue }
    /// `event`, the track event name, with whatever JSON type it has.
    public var event: JSONValue? { json["event"] }
    /// `messageId`, with whatever JSON type it has.
    public var messageId: JSONValue? { json["messageId"] }
    /// `properties` when it is an object.
    public var properties: JSONObject? { json["properties"]?.objectValue }
    /// `context.traits` when it is an object.
    public var contextTraits: JSONObject? { json["context"]?["traits"]?.objectValue }
    /// `name` of a page call.
    public var name: JSONValue? { json["name"] }
    /// `category` of a page call.
    public var category: JSONValue? { json["category"] }

    /// The value at a dot path, read the way RudderStack's `get-value` reads it: the whole path as
    /// one key first, then member by member (array elements by index), where a member name may
    /// itself contain dots (`properties.a.b` finds `{"properties": {"a.b": 1}}`).
    public func value(atPath path: String) -> JSONValue? {
        Self.lookup(path, in: json)
    }

    static func lookup(_ path: String, in root: JSONValue) -> JSONValue? {
        if case .object(let object) = root, let whole = object[path] { return whole }
        let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var target = root
        var index = 0
        while index < segments.count {
            switch target {
            case .object, .array: break
            default: return nil  // get-value stops at anything that is not an object
            }
            var key = segments[index]
            if let next = member(key, of: target) {
                target = next
            } else {
                var found = false
                var joined = index + 1
                while joined < segments.count {
                    key += "." + segments[joined]
                    joined += 1
                    if let next = member(key, of: target) {
                        target = next
                        index = joined - 1
                        found = true
                        break
                    }
                }
                if !found { return nil }
            }
            index += 1
        }
        return target
    }

    private static func member(_ key: String, of value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let object):
            return object[key]
        case .array(let elements):
            guard let position = Int(key), position >= 0, position < elements.count, String(position) == key else {
                return nil
            }
            return elements[position]
        default:
            return nil
        }
    }
}
