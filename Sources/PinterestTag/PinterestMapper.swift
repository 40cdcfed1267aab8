public import PinJSON

/// Turns RudderStack messages into `pintrk` calls the way RudderStack's Pinterest Tag destination
/// (web device mode) does, and does better where RudderStack throws and loses the event.
public struct PinterestMapper: Sendable {
    /// The configuration this mapper applies.
    public let config: DestinationConfig
    /// Trimmed `from` → distinct `to` values in row order, built once. Keyed by UTF-8 bytes:
    /// JavaScript compares code units, while Swift's `==` would also match canonically
    /// equivalent spellings (`é` composed or not).
    let userMapping: [JSONKey: [String]]
    /// `config.customProperties`, split into segments once.
    let customPropertyPaths: [CustomPropertyPath]
    /// Whether any custom property key is integer-like, so that adding it can change the key order.
    let customPropertiesReorder: Bool

    /// RudderStack's built-in eCommerce names, compared with the lowercased event name.
    public static let builtInEventMap: [String: String] = [
        "order completed": "Checkout",
        "product added": "AddToCart",
        "products searched": "Search",
        "product list filtered": "Search",
    ]

    /// A mapper for `config`; the user mapping is indexed once here.
    public init(config: DestinationConfig) {
        self.config = config
        var mapping: [JSONKey: [String]] = [:]
        for row in config.eventsMapping {
            // RudderStack skips rows with an empty `from` before trimming; a blank one trims to
            // "" and can never match a non-empty event name, so skipping it too is equivalent.
            guard !row.from.isEmpty else { continue }
            let key = JSONKey(row.from.trimmingJavaScriptWhitespace())
            var names = mapping[key] ?? []
            if !names.contains(row.to) { names.append(row.to) }
            mapping[key] = names
        }
        self.userMapping = mapping
        self.customPropertyPaths = config.customProperties.map(CustomPropertyPath.init)
        self.customPropertiesReorder = customPropertyPaths.contains { $0.isArrayIndex }
    }

    // MARK: init

    /// The calls that load the tag: `["load", tagId]` (with `{"em": email}` when enhanced match is
    /// on and `traits.email` is truthy), then `["page"]`. `traits` are the user traits stored
    /// from earlier identify calls.
    public func initCalls(traits: JSONValue?) throws(ConfigError) -> [PintrkCall] {
        guard let tagId = config.tagId else {
            throw ConfigError(path: "tagId", message: "required to load the tag; set it in the destination config")
        }
        if config.enhancedMatch, let email = traits?["email"], email.isTruthy {
            return [.load(tagId: tagId, options: ["em": email]), .page()]
        }
        return [.load(tagId: tagId), .page()]
    }

    /// The loader snippet: Pinterest's queueing stub, then the `initCalls` as JavaScript.
    public func initSnippet(traits: JSONValue?) throws(ConfigError) -> String {
        PintrkRenderer.loaderSnippet(try initCalls(traits: traits))
    }

    // MARK: messages

    /// Maps one message. Never throws: anything the message holds ends in a result.
    public func map(_ event: JSONValue) -> MappingResult {
        map(RudderMessage(event))
    }

    /// Maps one message. Never throws: anything the message holds ends in a result.
    public func map(_ message: RudderMessage) -> MappingResult {
        guard message.isObject else {
            return .failed(message: "a message must be a JSON object, found \(message.json.typeDescription)",
                           event: message.json, warnings: [])
        }
        guard let typeValue = message.member("type"), !typeValue.isNull else {
            return .unsupported(reason: "the message has no 'type'")
        }
        guard case .string(let type) = typeValue else {
            return .unsupported(reason: "message type must be a string, found \(typeValue.typeDescription)")
        }
        // The SDK always sends lowercase types, matched first without lowercasing a copy; other
        // spellings are accepted rather than lost.
        switch type {
        case "track": return mapTrack(message)
        case "page": return mapPage(message)
        case "identify": return mapIdentify(message)
        default: break
        }
        switch type.lowercased() {
        case "track": return mapTrack(message)
        case "page": return mapPage(message)
        case "identify": return mapIdentify(message)
        default: return .unsupported(reason: "message type \(quoted(type)) is not supported by the Pinterest Tag destination")
        }
    }

    // MARK: track

    func mapTrack(_ message: RudderMessage) -> MappingResult {
        var warnings: [String] = []
        guard let eventValue = message.event, eventValue.isTruthy else {
            let reason = message.event == nil || message.event == .null
                ? "the track message has no event name"
                : "the track message has an empty event name (\(message.event?.typeDescription ?? ""))"
            return .nothingToSend(reason: reason, warnings: [])
        }
        guard case .string(let eventName) = eventValue else {
            return .failed(message: "event must be a string, found \(eventValue.typeDescription)",
                           event: message.json, warnings: [])
        }
        let properties = readProperties(message, warnings: &warnings)
        let names = resolveEventNames(eventName, warnings: &warnings)
        var data: JSONObject
        switch trackData(properties, warnings: &warnings) {
        case .success(let built): data = built
        case .failure(let failure): return .failed(message: failure.message, event: message.json, warnings: warnings)
        }
        applyCustomProperties(to: &data, from: properties)
        applyEventId(to: &data, message: message, warnings: &warnings)
        let ldp = limitedDataProcessing(message, properties: properties, warnings: &warnings)
        var calls: [PintrkCall] = []
        calls.reserveCapacity(names.count * 2)
        for name in names {
            calls.append(.set(ldp))
            calls.append(.track(name, data))
        }
        return .calls(calls, warnings: warnings)
    }

    /// The Pinterest event names for a track event name: the user mapping, the built-in
    /// eCommerce map, `Custom` when `sendAsCustomEvent` is on, or the name itself.
    public func resolveEventNames(_ eventName: String) -> [String] {
        var warnings: [String] = []
        return resolveEventNames(eventName, warnings: &warnings)
    }

    func resolveEventNames(_ eventName: String, warnings: inout [String]) -> [String] {
        if !userMapping.isEmpty, let mapped = userMapping[JSONKey(eventName)], !mapped.isEmpty {
            if mapped.contains("") {
                warnings.append("eventsMapping maps \(quoted(eventName)) to \"\": sent as a track call with an empty event name, as RudderStack does")
            }
            return mapped
        }
        if let builtIn = Self.builtInEvent(eventName) { return [builtIn] }
        if config.sendAsCustomEvent { return ["Custom"] }
        warnings.append("\(quoted(eventName)) is not mapped to a Pinterest event: sent under its own name, which Pinterest treats as a user-defined event (no conversion reporting)")
        return [eventName]
    }

    /// `builtInEventMap[eventName.lowercased()]`. An ASCII name (nearly all) is compared with the
    /// built-in names byte by byte, ignoring ASCII case, without making a lowercased copy; other
    /// names take the general path, since Unicode lowercasing can turn them into ASCII (the
    /// Kelvin sign K becomes k).
    static func builtInEvent(_ eventName: String) -> String? {
        var name = eventName
        let ascii: String?? = name.withUTF8 { utf8 in
            guard utf8.allSatisfy({ $0 < 0x80 }) else { return .none }
            for (builtIn, event) in builtInEventList where builtIn.count == utf8.count {
                var same = true
                for index in 0..<utf8.count where builtIn[index] != asciiLowercased(utf8[index]) {
                    same = false
                    break
                }
                if same { return .some(event) }
            }
            return .some(nil)
        }
        return ascii ?? builtInEventMap[eventName.lowercased()]
    }

    /// `builtInEventMap` as a list of UTF-8 names, for the ASCII comparison.
    private static let builtInEventList: [(name: [UInt8], event: String)] = builtInEventMap.map { (Array($0.key.utf8), $0.value) }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 0x20 : byte
    }

    struct Failure: Error { var message: String }

    /// `properties` as an object; absent or null is empty, anything else is empty with a warning.
    func readProperties(_ message: RudderMessage, warnings: inout [String]) -> JSONObject {
        guard let value = message.member("properties"), !value.isNull else { return JSONObject() }
        guard case .object(let object) = value else {
            warnings.append("properties is \(value.typeDescription), not an object: ignored")
            return JSONObject()
        }
        return object
    }

    /// Keys Pinterest accepts that RudderStack copies from `properties` unchanged.
    public static let allowedPropertyKeys: Set<String> = [
        "value", "order_quantity", "currency", "order_id", "product_name", "product_id", "product_category",
        "product_variant", "product_variant_id", "product_price", "product_quantity", "product_brand",
        "promo_code", "property", "video_title", "lead_type", "coupon",
    ]

    /// Product fields → line item keys, after `product_id` (which falls back to `sku`), in the
    /// order RudderStack's worked example lists them.
    static let lineItemFields: [(source: String, key: String)] = [
        ("name", "product_name"), ("price", "product_price"), ("quantity", "product_quantity"),
        ("category", "product_category"), ("brand", "product_brand"), ("variant", "product_variant"),
    ]

    /// DATA before custom properties and `event_id`: value, allow-listed properties,
    /// search_query, line_items.
    func trackData(_ properties: JSONObject, warnings: inout [String]) -> Result<JSONObject, Failure> {
        var data = JSONObject()
        // Room for every key DATA can get (value, allow-listed properties, search_query,
        // line_items, custom properties, event_id), so that appending never regrows it.
        data.reserveCapacity(min(properties.count, Self.allowedPropertyKeys.count) + customPropertyPaths.count + 4)
        // `{value: revenue, ...properties}`: a raw `value` (even null) replaces revenue in place.
        if let revenue = properties["revenue"], revenue.isTruthy { data.appendUnique("value", revenue) }
        for (key, value) in properties.elements where Self.allowedPropertyNames.position(of: key) != nil {
            data[key] = value
        }
        if let query = properties["query"], !query.isNull { data["search_query"] = query }

        var items: [JSONValue] = []
        let products = properties["products"]
        switch products {
        case .array(let entries)?:
            items.reserveCapacity(entries.count)
            for (index, entry) in entries.enumerated() {
                guard case .object(let product) = entry else {
                    warnings.append("properties.products[\(index)] is \(entry.typeDescription), not a product object: skipped")
                    continue
                }
                items.append(.object(lineItem(product)))
            }
        case .object(let product)?:
            warnings.append("properties.products is an object, not an array: sent as one line item")
            items = [.object(lineItem(product))]
        case let value? where value.isTruthy:
            return .failure(Failure(message: "properties.products must be an array of product objects, found \(value.typeDescription)"))
        default:
            if let value = products, !value.isNull, value != .bool(false) {
                warnings.append("properties.products is \(value.typeDescription): treated as absent, as RudderStack does")
            }
            items = [.object(lineItem(properties))]
        }
        data["line_items"] = .array(items)
        return .success(data)
    }

    /// One line item; falsy source values leave their key out. One pass over the product's
    /// members (keys are unique, so this finds what lookups by name would).
    func lineItem(_ product: JSONObject) -> JSONObject {
        // Slot 0 product_id, 1 sku, then the `lineItemFields` in order.
        var found: (JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?, JSONValue?)
        for (key, value) in product.elements {
            switch Self.lineItemSourceNames.position(of: key) {
            case 0?: found.0 = value
            case 1?: found.1 = value
            case 2?: found.2 = value
            case 3?: found.3 = value
            case 4?: found.4 = value
            case 5?: found.5 = value
            case 6?: found.6 = value
            case 7?: found.7 = value
            default: break
            }
        }
        var item = JSONObject()
        item.reserveCapacity(7)
        if let id = found.0, id.isTruthy {
            item.appendUnique("product_id", id)
        } else if let sku = found.1, sku.isTruthy {
            item.appendUnique("product_id", sku)
        }
        let keys = Self.lineItemFields
        if let value = found.2, value.isTruthy { item.appendUnique(keys[0].key, value) }
        if let value = found.3, value.isTruthy { item.appendUnique(keys[1].key, value) }
        if let value = found.4, value.isTruthy { item.appendUnique(keys[2].key, value) }
        if let value = found.5, value.isTruthy { item.appendUnique(keys[3].key, value) }
        if let value = found.6, value.isTruthy { item.appendUnique(keys[4].key, value) }
        if let value = found.7, value.isTruthy { item.appendUnique(keys[5].key, value) }
        return item
    }

    /// `allowedPropertyKeys`, for lookups by bytes without hashing.
    static let allowedPropertyNames = NameList(allowedPropertyKeys)
    /// `product_id`, `sku`, then the sources of `lineItemFields`.
    static let lineItemSourceNames = NameList(["product_id", "sku"] + lineItemFields.map(\.source))

    // MARK: custom properties and event_id

    /// Section 5: configured dot paths of the flattened `properties`, as JavaScript strings.
    func applyCustomProperties(to data: inout JSONObject, from properties: JSONObject) {
        guard !customPropertyPaths.isEmpty, !properties.isEmpty else { return }
        // Flattening the whole tree is the reference behaviour but costs a dictionary entry per
        // leaf; it is built only for a path that the direct walk cannot answer alone.
        var flat: [[UInt8]: JSONValue]?
        var addedArrayIndex = false
        for path in customPropertyPaths {
            let found: JSONValue?
            if let segments = path.segments, case .resolved(let value) = Self.flattenedValue(at: segments, in: properties) {
                found = value
            } else {
                if flat == nil { flat = Self.flatten(properties) }
                found = flat?[path.utf8]
            }
            guard let value = found, !value.isNull else { continue }
            data[path.key] = .string(value.javaScriptString)
            if path.isArrayIndex { addedArrayIndex = true }
        }
        // Only an integer-like key can move (see `inJavaScriptKeyOrder`), and only a custom
        // property can bring one.
        if addedArrayIndex { data = Self.inJavaScriptKeyOrder(data) }
    }

    /// A configured custom property path, prepared once per mapper.
    struct CustomPropertyPath: Sendable {
        /// The path as configured: the key it is sent under.
        let key: String
        /// Its UTF-8 bytes, the key of `flatten`'s result.
        let utf8: [UInt8]
        /// The path split at dots, or `nil` when a segment is empty (`a..b`, `.a`, `a.`): such a
        /// path involves empty keys, which `flatten` joins in ways only it should decide.
        let segments: [String]?
        /// An array index (`"10"`), which a JavaScript object lists before other keys.
        let isArrayIndex: Bool

        init(_ path: String) {
            key = path
            utf8 = Array(path.utf8)
            let split = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            segments = split.contains("") ? nil : split
            isArrayIndex = PinterestMapper.javaScriptArrayIndex(path) != nil
        }
    }

    /// What walking a path directly found.
    enum DirectLookup {
        /// Exactly what `flatten(properties)[path]` holds (`nil`: no such leaf).
        case resolved(JSONValue?)
        /// A key on the way is empty or contains a dot (or is duplicated), so several members
        /// could spell the same path and only `flatten`'s visiting order says which one wins.
        case ambiguous
    }

    /// `flatten(properties)[segments joined by "."]` without flattening: follows the segments
    /// member by member (array elements by canonical index). The answer is only that simple when
    /// each flattened key spells exactly one path: every object met on the way has only non-empty
    /// keys without dots (then a member's key must equal the next segment), otherwise the caller
    /// flattens. Keys compare by UTF-8 bytes, as `flatten`'s keys do.
    static func flattenedValue(at segments: [String], in properties: JSONObject) -> DirectLookup {
        var node = JSONValue.object(properties)
        for segment in segments {
            switch node {
            case .object(let object):
                var next: JSONValue?
                for (key, value) in object.elements {
                    if key.isEmpty || key.utf8.contains(UInt8(ascii: ".")) { return .ambiguous }
                    if key.utf8.elementsEqual(segment.utf8) {
                        if next != nil { return .ambiguous }
                        next = value
                    }
                }
                guard let next else { return .resolved(nil) }
                node = next
            case .array(let elements):
                // `flatten` names elements `String(index)`: "01" or "+1" name nothing.
                guard let index = canonicalIndex(segment), index < elements.count else { return .resolved(nil) }
                node = elements[index]
            default:
                return .resolved(nil)  // a leaf before the path ends
            }
        }
        // Only leaves are flattened: a non-empty object or array has no entry of its own.
        switch node {
        case .object(let object) where !object.isEmpty: return .resolved(nil)
        case .array(let elements) where !elements.isEmpty: return .resolved(nil)
        default: return .resolved(node)
        }
    }

    /// The value of a decimal index written as `String(index)` writes it, without allocating.
    private static func canonicalIndex(_ text: String) -> Int? {
        var value = 0
        var count = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            if count == 1 && value == 0 { return nil }  // a leading zero
            count += 1
            guard count <= 18 else { return nil }  // beyond any array's count
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return count == 0 ? nil : value
    }

    /// RudderStack's `flattenJsonPayload`: leaves by dot path, array elements by index, empty
    /// objects and arrays as leaves; a later path that collides replaces the earlier one. Keyed
    /// by UTF-8 bytes, so only identical spellings collide, as in JavaScript.
    static func flatten(_ properties: JSONObject) -> [[UInt8]: JSONValue] {
        var result: [[UInt8]: JSONValue] = [:]
        func visit(_ value: JSONValue, _ prefix: String) {
            // JavaScript tests the prefix for truthiness, so an empty key adds no segment.
            func join(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }
            switch value {
            case .object(let object):
                if object.isEmpty { result[Array(prefix.utf8)] = value }
                for (key, member) in object.elements { visit(member, join(key)) }
            case .array(let elements):
                if elements.isEmpty { result[Array(prefix.utf8)] = value }
                for (index, element) in elements.enumerated() { visit(element, join(String(index))) }
            default:
                result[Array(prefix.utf8)] = value
            }
        }
        visit(.object(properties), "")
        return result
    }

    /// JavaScript objects list integer-like keys (array indexes) first, ascending; only a custom
    /// property can add one, so this runs only then.
    static func inJavaScriptKeyOrder(_ object: JSONObject) -> JSONObject {
        let arrayIndex = javaScriptArrayIndex
        let indexed = object.elements.compactMap { element in arrayIndex(element.key).map { ($0, element) } }
        guard !indexed.isEmpty else { return object }
        var ordered = JSONObject()
        for (_, element) in indexed.sorted(by: { $0.0 < $1.0 }) { ordered.appendUnique(element.key, element.value) }
        for element in object.elements where arrayIndex(element.key) == nil {
            ordered.appendUnique(element.key, element.value)
        }
        return ordered
    }

    /// `key` as a JavaScript array index (a canonical decimal below 2^32 - 1), or `nil`.
    static func javaScriptArrayIndex(_ key: String) -> UInt32? {
        guard let number = UInt32(key), number != UInt32.max, String(number) == key else { return nil }
        return number
    }

    /// The value at `deduplicationKey` when present and not null (`0` and `""` count), else
    /// `messageId`.
    public func eventId(for message: RudderMessage) -> JSONValue? {
        if let key = config.deduplicationKey, let value = message.value(atPath: key), !value.isNull {
            return value
        }
        if let messageId = message.messageId, !messageId.isNull { return messageId }
        return nil
    }

    /// Sets `event_id` last; a custom property of that name keeps its position but not its value.
    func applyEventId(to data: inout JSONObject, message: RudderMessage, warnings: inout [String]) {
        if let id = eventId(for: message) {
            data["event_id"] = id
        } else {
            data.removeValue(forKey: "event_id")
            warnings.append("no event_id: the message has no messageId"
                + (config.deduplicationKey.map { " and nothing at \(quoted($0))" } ?? ""))
        }
    }

    // MARK: limited data processing

    /// The `set` values sent before every track and page call.
    public func limitedDataProcessing(for message: RudderMessage) -> JSONObject {
        var warnings: [String] = []
        return limitedDataProcessing(message, properties: message.properties, warnings: &warnings)
    }

    /// `properties` is the message's `properties` object as the caller already read it (a
    /// non-object reads as empty or `nil`, which holds no `optOutType` either way).
    func limitedDataProcessing(_ message: RudderMessage, properties: JSONObject?, warnings: inout [String]) -> JSONObject {
        let traits = message.contextTraits
        // Evaluated lazily, in RudderStack's order: the first truthy candidate wins.
        guard let optOut = truthy(traits?["optOutType"]) ?? truthy(properties?["optOutType"]) else {
            return Self.notOptedOut
        }
        let address = traits?["address"]
        let state = truthy(traits?["state"]) ?? truthy(traits?["State"])
            ?? truthy(address?["state"]) ?? truthy(address?["State"])
        let country = truthy(traits?["country"]) ?? truthy(traits?["Country"])
            ?? truthy(address?["country"]) ?? truthy(address?["Country"])
        return [
            "opt_out_type": optOut,
            "st": .string(hashed(state, field: "state", warnings: &warnings)),
            "country": .string(hashed(country, field: "country", warnings: &warnings)),
        ]
    }

    /// The `set` values when nothing opts out (no hashing then), built once and shared.
    static let notOptedOut: JSONObject = ["opt_out_type": "", "st": "", "country": ""]

    private func truthy(_ value: JSONValue?) -> JSONValue? {
        guard let value, value.isTruthy else { return nil }
        return value
    }

    /// Lowercase hex SHA-256 of the raw string (not trimmed or lowercased), `""` when absent.
    private func hashed(_ value: JSONValue?, field: String, warnings: inout [String]) -> String {
        guard let value else { return SHA256Hex.emptyDigest }
        guard case .string(let text) = value else {
            warnings.append("context.traits \(field) is \(value.typeDescription), not a string: hashed as \(quoted(value.javaScriptString))")
            return SHA256Hex.digest(value.javaScriptString)
        }
        return SHA256Hex.digest(text)
    }

    // MARK: page

    func mapPage(_ message: RudderMessage) -> MappingResult {
        var warnings: [String] = []
        var data = JSONObject()
        if let name = message.name, name.isTruthy {
            data.appendUnique("name", name)
        } else {
            data.appendUnique("name", "")
        }
        var event = "PageVisit"
        if let category = message.category, category.isTruthy {
            data.appendUnique("category", category)
            event = "ViewCategory"
        }
        // The user's document wins over RudderStack's code: configured custom properties go too.
        let properties = readProperties(message, warnings: &warnings)
        applyCustomProperties(to: &data, from: properties)
        applyEventId(to: &data, message: message, warnings: &warnings)
        let ldp = limitedDataProcessing(message, properties: properties, warnings: &warnings)
        return .calls([.set(ldp), .track(event, data)], warnings: warnings)
    }

    // MARK: identify

    func mapIdentify(_ message: RudderMessage) -> MappingResult {
        var warnings: [String] = []
        guard let email = message.contextTraits?["email"], email.isTruthy else {
            var reason = "identify has no email in context.traits.email, so there is nothing to set"
            if let topLevel = message.traits?["email"], topLevel.isTruthy {
                reason += " (traits.email is ignored, as in RudderStack)"
            }
            return .nothingToSend(reason: reason, warnings: [])
        }
        if email.stringValue == nil {
            warnings.append("context.traits.email is \(email.typeDescription), not a string: sent as it is")
        }
        var data: JSONObject = ["em": email, "opt_out_type": "", "st": "", "country": ""]
        applyEventId(to: &data, message: message, warnings: &warnings)
        return .calls([.set(data)], warnings: warnings)
    }
}

/// A short fixed list of names, searched by UTF-8 bytes (lengths first): for the handful of
/// keys the mapping looks for in every event, cheaper than hashing each key.
struct NameList: Sendable {
    private let names: [[UInt8]]

    init<S: Sequence>(_ names: S) where S.Element == String {
        self.names = names.map { Array($0.utf8) }
    }

    /// The position of `key` in the list, or nil.
    func position(of key: String) -> Int? {
        var key = key
        return key.withUTF8 { bytes in
            for (index, name) in names.enumerated() where name.count == bytes.count {
                if name.withUnsafeBufferPointer({ $0.elementsEqual(bytes) }) { return index }
            }
            return nil
        }
    }
}
