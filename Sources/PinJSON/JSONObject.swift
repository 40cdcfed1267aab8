/// A JSON object: unique string keys in a stable order (the order they were inserted or parsed
/// in). Equality ignores the order, as JSON does; serialisation keeps it.
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

    /// Takes pairs already known to have unique keys.
    init(uniqueElements: [Element]) { elements = uniqueElements }

    /// Takes members whose keys the caller guarantees are unique, in the order given: for
    /// decoders that already know, as with `appendUnique`.
    public init(uniqueMembers: [Element]) { elements = uniqueMembers }

    public var startIndex: Int { elements.startIndex }
    public var endIndex: Int { elements.endIndex }
    public subscript(position: Int) -> Element { elements[position] }

    public var keys: [String] { elements.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get {
            for element in elements where element.key == key { return element.value }
            return nil
        }
        set {
            if let index = elements.firstIndex(where: { $0.key == key }) {
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
        guard let index = elements.firstIndex(where: { $0.key == key }) else { return nil }
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
            if let index = elements.firstIndex(where: { $0.key == key }) {
                result.append((key, elements[index].value.ordered(like: referenceValue)))
                taken[index] = true
            }
        }
        for (index, element) in elements.enumerated() where !taken[index] {
            result.append(element)
        }
        return JSONObject(uniqueElements: result)
    }

    /// The same members with keys sorted by their UTF-8 bytes, recursively: a canonical order
    /// for values whose source had none.
    public func sortedByKey() -> JSONObject {
        let sorted = elements.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return JSONObject(uniqueElements: sorted.map { ($0.key, $0.value.sortedByKey()) })
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.count > 16 {
            var index: [String: JSONValue] = [:]
            for (key, value) in rhs.elements { index[key] = value }
            return lhs.elements.allSatisfy { index[$0.key] == $0.value }
        }
        return lhs.elements.allSatisfy { rhs[$0.key] == $0.value }
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}
