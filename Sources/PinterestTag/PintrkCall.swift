public import PinJSON

/// One `pintrk(...)` invocation. Its JSON array form (``jsonArray``) is the product's output:
/// `["load", "2612345678901", {"em": "a@b.com"}]`, `["page"]`, `["set", {...}]`,
/// `["track", "Checkout", {...}]`.
public struct PintrkCall: Sendable, Equatable {
    /// `"load"`, `"page"`, `"set"` or `"track"`.
    public var function: String
    /// The Pinterest event name of a `track` call.
    public var event: String?
    /// The tag ID of a `load` call.
    public var tagId: String?
    /// The object argument: event data, `set` values, or `load` options.
    public var data: JSONObject?

    /// The functions a call may name.
    public static let functions: [String] = ["load", "page", "set", "track"]

    /// A call from its parts; the static constructors below are easier to get right.
    public init(function: String, event: String? = nil, tagId: String? = nil, data: JSONObject? = nil) {
        self.function = function
        self.event = event
        self.tagId = tagId
        self.data = data
    }

    /// `["load", tagId]`, or `["load", tagId, options]`.
    public static func load(tagId: String, options: JSONObject? = nil) -> PintrkCall {
        PintrkCall(function: "load", tagId: tagId, data: options)
    }

    /// `["page"]`.
    public static func page(_ data: JSONObject? = nil) -> PintrkCall {
        PintrkCall(function: "page", data: data)
    }

    /// `["set", values]`.
    public static func set(_ values: JSONObject) -> PintrkCall {
        PintrkCall(function: "set", data: values)
    }

    /// `["track", event, data]`.
    public static func track(_ event: String, _ data: JSONObject? = nil) -> PintrkCall {
        PintrkCall(function: "track", event: event, data: data)
    }

    /// The call's arguments as a JSON array, in `pintrk`'s argument order.
    public var jsonArray: JSONValue {
        var elements: [JSONValue] = [.string(function)]
        switch function {
        case "track":
            if let event { elements.append(.string(event)) }
        case "load":
            if let tagId { elements.append(.string(tagId)) }
        default:
            break
        }
        if let data { elements.append(.object(data)) }
        return .array(elements)
    }

    /// Reads the JSON array form back, as Lua rules return calls, checking its shape:
    /// `load` needs a tag ID string and takes an optional options object; `page` takes an optional
    /// object; `set` needs exactly one object; `track` needs an event name string and takes an
    /// optional data object.
    public init(jsonArray: JSONValue) throws(PintrkCallError) {
        guard case .array(let elements) = jsonArray else {
            throw PintrkCallError("a pintrk call must be an array like [\"track\", \"Checkout\", {...}], found \(jsonArray.typeDescription)")
        }
        guard let first = elements.first else {
            throw PintrkCallError("a pintrk call must not be empty; expected [\"track\", \"Checkout\", {...}] or similar")
        }
        guard case .string(let function) = first else {
            throw PintrkCallError("call[0] must be the function name (load, page, set or track), found \(first.typeDescription)")
        }
        guard Self.functions.contains(function) else {
            throw PintrkCallError("call[0]: \(quoted(function)) is not a pintrk function; expected load, page, set or track")
        }

        func object(at index: Int, what: String) throws(PintrkCallError) -> JSONObject {
            guard case .object(let object) = elements[index] else {
                throw PintrkCallError("\(function) call[\(index)] must be \(what) object, found \(elements[index].typeDescription)")
            }
            return object
        }
        func string(at index: Int, what: String) throws(PintrkCallError) -> String {
            guard index < elements.count else {
                throw PintrkCallError("\(function) call needs \(what) string at call[\(index)]")
            }
            guard case .string(let text) = elements[index] else {
                throw PintrkCallError("\(function) call[\(index)] must be \(what) string, found \(elements[index].typeDescription)")
            }
            return text
        }
        func checkCount(_ allowed: ClosedRange<Int>, usage: String) throws(PintrkCallError) {
            guard allowed.contains(elements.count) else {
                throw PintrkCallError("\(function) call has \(elements.count) elements; expected \(usage)")
            }
        }

        switch function {
        case "load":
            try checkCount(2...3, usage: "[\"load\", tagId] or [\"load\", tagId, {options}]")
            let tagId = try string(at: 1, what: "the tag ID")
            guard !tagId.isEmpty else { throw PintrkCallError("load call[1]: the tag ID must not be empty") }
            let options = elements.count == 3 ? try object(at: 2, what: "an options") : nil
            self.init(function: function, tagId: tagId, data: options)
        case "page":
            try checkCount(1...2, usage: "[\"page\"] or [\"page\", {data}]")
            let data = elements.count == 2 ? try object(at: 1, what: "a data") : nil
            self.init(function: function, data: data)
        case "set":
            try checkCount(2...2, usage: "[\"set\", {values}]")
            self.init(function: function, data: try object(at: 1, what: "a values"))
        default:
            try checkCount(2...3, usage: "[\"track\", eventName] or [\"track\", eventName, {data}]")
            let event = try string(at: 1, what: "an event name")
            let data = elements.count == 3 ? try object(at: 2, what: "a data") : nil
            self.init(function: function, event: event, data: data)
        }
    }
}

/// Why a JSON value is not a valid `pintrk` call.
public struct PintrkCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the call.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

extension PintrkCall: CustomStringConvertible {
    /// The compact JSON array form.
    public var description: String { JSONWriter.string(jsonArray) }
}
