public import PinJSON

/// The Pinterest events a user may map to in "Map Your Events To Pinterest Events".
public enum PinterestEvent {
    /// The standard tag events, in the order RudderStack's UI lists them.
    public static let standard: [String] = [
        "Checkout", "AddToCart", "PageVisit", "Signup", "WatchVideo", "Lead", "Search", "ViewCategory", "Custom",
    ]
}

/// One row of `eventsMapping`: RudderStack event name `from` → Pinterest event `to`.
public struct EventMapping: Sendable, Equatable {
    /// The RudderStack event name; compared after trimming white space, case-sensitively.
    public var from: String
    /// A Pinterest standard event name, or `""`.
    public var to: String

    /// A row mapping `from` to `to`.
    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// RudderStack's Pinterest Tag destination settings (its `Config` object).
public struct DestinationConfig: Sendable, Equatable {
    /// The Pinterest Tag ID (digits); needed only to load the tag.
    public var tagId: String?
    /// "Enable Enhanced Match on Page Load": `load` carries the stored email.
    public var enhancedMatch: Bool
    /// User event mapping rows, in order.
    public var eventsMapping: [EventMapping]
    /// Dot paths into `properties` sent as extra string-valued keys.
    public var customProperties: [String]
    /// Unmapped track events go out as `Custom` instead of under their own name.
    public var sendAsCustomEvent: Bool
    /// Dot path into the whole message that `event_id` comes from.
    public var deduplicationKey: String?

    /// A config with RudderStack's defaults for whatever is not given.
    public init(
        tagId: String? = nil,
        enhancedMatch: Bool = true,
        eventsMapping: [EventMapping] = [],
        customProperties: [String] = [],
        sendAsCustomEvent: Bool = false,
        deduplicationKey: String? = nil
    ) {
        self.tagId = tagId
        self.enhancedMatch = enhancedMatch
        self.eventsMapping = eventsMapping
        self.customProperties = customProperties
        self.sendAsCustomEvent = sendAsCustomEvent
        self.deduplicationKey = deduplicationKey
    }
}

/// A configuration that loaded, with what the user should know about it.
public struct ParsedConfig: Sendable, Equatable {
    /// The configuration to map with.
    public var config: DestinationConfig
    /// Unknown keys, a tag ID of unusual length, rows that can never apply.
    public var warnings: [String]

    /// A loaded config and its warnings.
    public init(config: DestinationConfig, warnings: [String]) {
        self.config = config
        self.warnings = warnings
    }
}

/// Why a configuration cannot be used, naming the key and row at fault:
/// `eventsMapping[2].to: "Chekout" is not a Pinterest event; expected one of Checkout, ...`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is (`tagId`, `eventsMapping[2].to`); `nil` for the document as a whole.
    public var path: String?
    /// What is wrong.
    public var message: String

    /// An error at `path` (`nil` for the whole document).
    public init(path: String?, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, or the message alone.
    public var description: String {
        guard let path else { return message }
        return "\(path): \(message)"
    }

    /// The top-level config key at fault (`eventsMapping` for `eventsMapping[2].to`).
    public var key: String? {
        guard let path else { return nil }
        return String(path.prefix { $0 != "[" && $0 != "." })
    }

    /// The row of a list key at fault (`2` for `eventsMapping[2].to`).
    public var row: Int? {
        guard let path, let open = path.firstIndex(of: "["), let close = path.firstIndex(of: "]"), open < close else {
            return nil
        }
        return Int(path[path.index(after: open)..<close])
    }
}

extension DestinationConfig {
    /// The keys RudderStack's Pinterest Tag destination reads.
    public static let knownKeys: [String] = [
        "tagId", "enhancedMatch", "eventsMapping", "customProperties", "sendAsCustomEvent", "deduplicationKey",
    ]

    /// Settings every RudderStack destination has; they steer delivery, not the mapping, so they
    /// get a gentler warning than a misspelt key.
    static let rudderStackDeliveryKeys: Set<String> = [
        "useNativeSDK", "connectionMode", "blacklistedEvents", "whitelistedEvents", "eventFilteringOption",
        "oneTrustCookieCategories", "ketchConsentPurposes", "consentManagement", "useNativeSDKToSend",
    ]

    /// Parses JSON text (bytes) holding the config, bare or as `{"Config": {...}}`.
    public static func parse(bytes: [UInt8]) throws(ConfigError) -> ParsedConfig {
        let json: JSONValue
        do {
            json = try JSONParser().parse(bytes)
        } catch {
            throw ConfigError(path: nil, message: "the configuration is not valid JSON: \(error)")
        }
        return try parse(json)
    }

    /// Parses JSON text holding the config, bare or as `{"Config": {...}}`.
    public static func parse(text: String) throws(ConfigError) -> ParsedConfig {
        try parse(bytes: Array(text.utf8))
    }

    /// Reads RudderStack's stored config, bare or wrapped as `{"Config": {...}}`. A `null` value
    /// counts as the key being absent. Unknown keys are kept out of the config and reported.
    public static func parse(_ json: JSONValue) throws(ConfigError) -> ParsedConfig {
        guard case .object(var object) = json else {
            throw ConfigError(path: nil, message: "expected a JSON object, found \(json.typeDescription)")
        }
        if case .object(let inner)? = object["Config"] {
            object = inner
        } else if let wrapped = object["Config"], !wrapped.isNull {
            throw ConfigError(path: "Config", message: "expected an object, found \(wrapped.typeDescription)")
        }

        var config = DestinationConfig()
        var warnings: [String] = []

        for key in object.keys where !knownKeys.contains(key) {
            if rudderStackDeliveryKeys.contains(key) {
                warnings.append("'\(key)' is a RudderStack delivery setting that PinRules does not apply; ignored")
            } else {
                warnings.append("unknown key '\(key)' ignored")
            }
        }

        if let value = present(object["tagId"]) {
            guard case .string(let tagId) = value else {
                throw ConfigError(path: "tagId", message: "expected a string of digits, found \(value.typeDescription)")
            }
            if !tagId.isEmpty {
                guard tagId.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                    throw ConfigError(path: "tagId", message: "\(quoted(tagId)) is not a Pinterest Tag ID; expected digits only")
                }
                if !(10...15).contains(tagId.utf8.count) {
                    warnings.append("tagId: \(quoted(tagId)) has \(tagId.utf8.count) digits; Pinterest Tag IDs have 10-15")
                }
                config.tagId = tagId
            }
        }

        config.enhancedMatch = try bool(object, "enhancedMatch") ?? true
        config.sendAsCustomEvent = try bool(object, "sendAsCustomEvent") ?? false

        if let value = present(object["eventsMapping"]) {
            guard case .array(let rows) = value else {
                throw ConfigError(path: "eventsMapping", message: "expected an array of {\"from\", \"to\"} rows, found \(value.typeDescription)")
            }
            for (index, row) in rows.enumerated() {
                let rowPath = "eventsMapping[\(index)]"
                guard case .object(let fields) = row else {
                    throw ConfigError(path: rowPath, message: "expected an object {\"from\", \"to\"}, found \(row.typeDescription)")
                }
                let from = try string(fields, "from", rowPath: rowPath)
                let to = try string(fields, "to", rowPath: rowPath)
                guard to.isEmpty || PinterestEvent.standard.contains(to) else {
                    var message = "\(quoted(to)) is not a Pinterest event; expected one of "
                        + PinterestEvent.standard.joined(separator: ", ") + " or \"\""
                    if let suggestion = PinterestEvent.standard.first(where: { $0.lowercased() == to.lowercased() }) {
                        message += " (did you mean \(suggestion)?)"
                    }
                    throw ConfigError(path: rowPath + ".to", message: message)
                }
                for key in fields.keys where key != "from" && key != "to" {
                    warnings.append("\(rowPath): unknown key '\(key)' ignored")
                }
                let trimmedFrom = from.trimmingJavaScriptWhitespace()
                if trimmedFrom.isEmpty {
                    // RudderStack's UI stores an empty row by default; only a half-filled one is news.
                    if !to.isEmpty { warnings.append("\(rowPath): 'from' is empty, so the row never applies") }
                } else if to.isEmpty {
                    warnings.append("\(rowPath): \(quoted(trimmedFrom)) maps to \"\", so it is sent as a track call with an empty event name, as RudderStack does")
                }
                config.eventsMapping.append(EventMapping(from: from, to: to))
            }
        }

        if let value = present(object["customProperties"]) {
            guard case .array(let rows) = value else {
                throw ConfigError(path: "customProperties", message: "expected an array of {\"properties\": path} rows, found \(value.typeDescription)")
            }
            for (index, row) in rows.enumerated() {
                let rowPath = "customProperties[\(index)]"
                guard case .object(let fields) = row else {
                    throw ConfigError(path: rowPath, message: "expected an object {\"properties\": path}, found \(row.typeDescription)")
                }
                let path = try string(fields, "properties", rowPath: rowPath)
                for key in fields.keys where key != "properties" {
                    warnings.append("\(rowPath): unknown key '\(key)' ignored")
                }
                // An empty row is what RudderStack's UI stores when nothing was entered.
                if !path.isEmpty { config.customProperties.append(path) }
            }
        }

        if let value = present(object["deduplicationKey"]) {
            guard case .string(let key) = value else {
                throw ConfigError(path: "deduplicationKey", message: "expected a dot path string, found \(value.typeDescription)")
            }
            if !key.isEmpty { config.deduplicationKey = key }
        }

        return ParsedConfig(config: config, warnings: warnings)
    }

    private static func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    private static func bool(_ object: JSONObject, _ key: String) throws(ConfigError) -> Bool? {
        guard let value = present(object[key]) else { return nil }
        guard case .bool(let flag) = value else {
            throw ConfigError(path: key, message: "expected true or false, found \(value.typeDescription)")
        }
        return flag
    }

    /// A row's string field; absent or null reads as `""`, as RudderStack's UI leaves blank cells.
    private static func string(_ fields: JSONObject, _ key: String, rowPath: String) throws(ConfigError) -> String {
        guard let value = present(fields[key]) else { return "" }
        guard case .string(let text) = value else {
            throw ConfigError(path: "\(rowPath).\(key)", message: "expected a string, found \(value.typeDescription)")
        }
        return text
    }
}

/// `text` as a JSON string literal, for messages. Text without `"`, `\\` or control characters
/// (nearly all) is quoted as it is, without running the JSON writer.
func quoted(_ text: String) -> String {
    var text = text
    let plain = text.withUTF8 { utf8 in
        !utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }
    return plain ? "\"" + text + "\"" : JSONWriter.string(.string(text))
}

extension JSONValue {
    /// A short description for messages: `string "abc"`, `number 5`, `an object`.
    var typeDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return "boolean \(flag)"
        case .integer, .double: return "number \(javaScriptString)"
        case .string(let text):
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            return "string \(quoted(shown))"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

extension String {
    /// `String.prototype.trim()`: JavaScript's white space and line terminators, both ends.
    func trimmingJavaScriptWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isJavaScriptWhitespace }) else { return "" }
        guard let last = scalars.lastIndex(where: { !$0.isJavaScriptWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}

extension Unicode.Scalar {
    var isJavaScriptWhitespace: Bool {
        switch value {
        case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
             0x3000, 0xFEFF:
            return true
        default:
            return false
        }
    }
}
