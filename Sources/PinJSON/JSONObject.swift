/// A JSON object: unique string keys in a stable order (the order they were inserted or parsed
/// in). Equality ignores the order, as JSON does; serialisation keeps it.
///
/// Keys are the same key only when their UTF-8 bytes are, as in `JSON.parse` and Lua, not when
/// Swift's `String ==` says so (it equates canonically equivalent strings such as "\u{E9}" and
/// "e\u{301}"): lookups, updates, removal, `ordered(like:)` and equality all compare bytes, so two
/// objects whose keys differ only in Unicode normalization are different objects.
///
/// Lookups are linear, which beats hashing at the sizes events have (tens of keys); building
/// from parsed text checks duplicate keys with a hash set once an object grows large, so a
/// hostile object with many keys stays linear to parse.
public struct JSONObject: Sendable, Equatable, RandomAccessCollection {
    public typealias Element = (key: String, value: JSONValue)

    public private(set) var elements: [Element]

    public init() { elements = [] }

    /// Builds an object from pairs; a later duplicate key replaces the earlier value in place
    /// (as `JSON.parse` does).
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSONValue) {
        elements = []
        for (key, value) in pairs { self[key] = value }
    }

    /// Takes members whose keys the caller guarantees are unique, in the order given (checked
    /// in debug builds only): for decoders that already know, as `appendUnique` does.
    public init(uniqueMembers: [Element]) {
        assert(Set(uniqueMembers.map { JSONKey($0.key) }).count == uniqueMembers.count, "duplicate keys")
        elements = uniqueMembers
    }

    public var startIndex: Int { elements.startIndex }
    public var endIndex: Int { elements.endIndex }
    public subscript(position: Int) -> Element { elements[position] }

    public var keys: [String] { elements.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get {
            for element in elements where sameKey(element.key, key) { return element.value }
            return nil
        }
        set {
            if let index = elements.firstIndex(where: { sameKey($0.key, key) }) {
                if let newValue {
                    elements[index].value = newValue
                } else {
                    elements.remove(at: index)
                }
            } else if let newValue {
                elements.append((key, newValue))
            }
        }
    }

    /// Appends without looking for an existing key; the caller guarantees `key` is new.
    public mutating func appendUnique(_ key: String, _ value: JSONValue) {
        elements.append((key, value))
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let index = elements.firstIndex(where: { sameKey($0.key, key) }) else { return nil }
        return elements.remove(at: index).value
    }

    public mutating func reserveCapacity(_ capacity: Int) { elements.reserveCapacity(capacity) }

    /// Keys in `reference`'s order first, then the rest in their current order; nested values
    /// are ordered like their counterparts in `reference`.
    public func ordered(like reference: JSONObject) -> JSONObject {
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        var taken = [Bool](repeating: false, count: elements.count)
        for (key, referenceValue) in reference.elements {
            if let index = elements.firstIndex(where: { sameKey($0.key, key) }) {
                result.append((key, elements[index].value.ordered(like: referenceValue)))
                taken[index] = true
            }
        }
        for (index, element) in elements.enumerated() where !taken[index] {
            result.append(element)
        }
        return JSONObject(uniqueMembers: result)
    }

    /// The same members with keys sorted by their UTF-8 bytes, recursively: a canonical order
    /// for values whose source had none.
    public func sortedByKey() -> JSONObject {
        let sorted = elements.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return JSONObject(uniqueMembers: sorted.map { ($0.key, $0.value.sortedByKey()) })
    }

    /// Same keys (by their bytes, as lookups match them) with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count > 16 {
            var index: [JSONKey: JSONValue] = [:]
            index.reserveCapacity(rhs.count)
            for (key, value) in rhs.elements { index[JSONKey(key)] = value }
            return lhs.elements.allSatisfy { index[JSONKey($0.key)] == $0.value }
        }
        return lhs.elements.allSatisfy { rhs[$0.key] == $0.value }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}
