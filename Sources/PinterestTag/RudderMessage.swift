public import PinJSON

/// A RudderStack message. Keeps the whole original JSON, since dedup keys and rules read arbitrary
/// paths, with typed accessors for what the mapping needs. Accessors never fail: a member of the
/// wrong type reads as absent.
///
/// A message made from a `JSONTape` is read in place: only the members the mapping asks for are
/// built as values (a 1 KB event's `context`, say, never is).
public struct RudderMessage: Sendable, Equatable {
    private enum Storage: Sendable {
        case value(JSONValue)
        case tape(JSONTape)
    }

    private let storage: Storage

    /// Wraps a message as received; any JSON value is accepted.
    public init(_ json: JSONValue) { storage = .value(json) }

    /// Wraps a message in tape form, read on demand.
    public init(tape: JSONTape) { storage = .tape(tape) }

    /// The message exactly as received (built, for a message made from a tape).
    public var json: JSONValue {
        switch storage {
        case .value(let value): return value
        case .tape(let tape): return tape.value
        }
    }

    public static func == (lhs: RudderMessage, rhs: RudderMessage) -> Bool { lhs.json == rhs.json }

    /// The message as a tape (encoded, for a message made from a value).
    package var tape: JSONTape {
        switch storage {
        case .value(let value): return JSONTape(value)
        case .tape(let tape): return tape
        }
    }

    /// Whether the message is a JSON object (anything else is no message).
    public var isObject: Bool {
        switch storage {
        case .value(let value): return value.objectValue != nil
        case .tape(let tape): return tape.kind(of: tape.root) == .object
        }
    }

    /// The top-level member `key`, with whatever JSON type it has.
    public func member(_ key: String) -> JSONValue? {
        switch storage {
        case .value(let value): return value[key]
        case .tape(let tape): return tape.member(key, of: tape.root).map { tape.value(of: $0) }
        }
    }

    /// `type` when it is a string (`track`, `page`, `identify`, ...).
    public var type: String? {
        switch storage {
        case .value(let value): return value["type"]?.stringValue
        case .tape(let tape): return tape.member("type", of: tape.root).flatMap { tape.string(at: $0) }
        }
    }
    /// `event`, the track event name, with whatever JSON type it has.
    public var event: JSONValue? { member("event") }
    /// `messageId`, with whatever JSON type it has.
    public var messageId: JSONValue? { member("messageId") }
    /// `properties` when it is an object.
    public var properties: JSONObject? { member("properties")?.objectValue }
    /// `context.traits` when it is an object.
    public var contextTraits: JSONObject? {
        switch storage {
        case .value(let value): return value["context"]?["traits"]?.objectValue
        case .tape(let tape):
            guard let context = tape.member("context", of: tape.root), let traits = tape.member("traits", of: context),
                  tape.kind(of: traits) == .object else { return nil }
            return tape.value(of: traits).objectValue
        }
    }
    /// Top-level `traits` when it is an object (RudderStack's mapping does not read it).
    public var traits: JSONObject? { member("traits")?.objectValue }
    /// `name` of a page call.
    public var name: JSONValue? { member("name") }
    /// `category` of a page call.
    public var category: JSONValue? { member("category") }

    /// The value at a dot path, read the way RudderStack's `get-value` reads it: the whole path as
    /// one key first, then member by member (array elements by index), where a member name may
    /// itself contain dots (`properties.a.b` finds `{"properties": {"a.b": 1}}`).
    public func value(atPath path: String) -> JSONValue? {
        switch storage {
        case .value(let value):
            return Self.lookup(path, in: value, isContainer: { $0.objectValue != nil || $0.arrayValue != nil }, member: Self.member)
        case .tape(let tape):
            let found = Self.lookup(path, in: tape.root, isContainer: {
                let kind = tape.kind(of: $0)
                return kind == .object || kind == .array
            }, member: { key, node in
                switch tape.kind(of: node) {
                case .object: return tape.member(key, of: node)
                case .array: return Self.arrayIndex(key).flatMap { tape.element($0, of: node) }
                default: return nil
                }
            })
            return found.map { tape.value(of: $0) }
        }
    }

    /// The walk of `value(atPath:)` over any tree of nodes.
    static func lookup<Node>(_ path: String, in root: Node, isContainer: (Node) -> Bool, member: (String, Node) -> Node?) -> Node? {
        lookup(path, segments: nil, in: root, isContainer: isContainer, member: member)
    }

    /// The same, with `path`'s `dotSegments` made beforehand (nil: made here when needed).
    static func lookup<Node>(_ path: String, segments: [String]?, in root: Node, isContainer: (Node) -> Bool, member: (String, Node) -> Node?) -> Node? {
        if isContainer(root), let whole = member(path, root) { return whole }
        let segments = segments ?? dotSegments(path)
        var target = root
        var index = 0
        while index < segments.count {
            guard isContainer(target) else { return nil }  // get-value stops at anything that is not an object
            var key = segments[index]
            if let next = member(key, target) {
                target = next
            } else {
                var found = false
                var joined = index + 1
                while joined < segments.count {
                    key += "." + segments[joined]
                    joined += 1
                    if let next = member(key, target) {
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

    /// `path` cut at every `.`, empty pieces kept: JavaScript's `path.split(".")`. Cut on the
    /// UTF-8 bytes, as JavaScript cuts on code units (`split` on `Character`s would keep a `.`
    /// followed by a combining mark, and cost about 8,000 instructions per path).
    static func dotSegments(_ path: String) -> [String] {
        var segments: [String] = []
        let utf8 = path.utf8
        var start = utf8.startIndex
        for index in utf8.indices where utf8[index] == UInt8(ascii: ".") {
            segments.append(String(decoding: utf8[start..<index], as: UTF8.self))
            start = utf8.index(after: index)
        }
        segments.append(String(decoding: utf8[start...], as: UTF8.self))
        return segments
    }

    /// `key` as an array position: a canonical decimal.
    static func arrayIndex(_ key: String) -> Int? {
        guard let position = Int(key), position >= 0, String(position) == key else { return nil }
        return position
    }

    private static func member(_ key: String, of value: JSONValue) -> JSONValue? {
        switch value {
        case .object(let object):
            return object[key]
        case .array(let elements):
            guard let position = arrayIndex(key), position < elements.count else { return nil }
            return elements[position]
        default:
            return nil
        }
    }
}
