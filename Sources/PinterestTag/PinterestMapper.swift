public import PinJSON

/// Turns RudderStack messages into `pintrk` calls the way RudderStack's Pinterest Tag destination
/// (web device mode) does, and does better where RudderStack throws and loses the event.
public struct PinterestMapper: Sendable {
    /// The configuration this mapper applies.
    public var config: DestinationConfig { tables.config }
    /// The trimmed `from` values of the user mapping, found by UTF-8 bytes: JavaScript compares
    /// code units, while Swift's `==` would also match canonically equivalent spellings (`é`
    /// composed or not).
    var userMappingNames: NameIndex { tables.userMappingNames }
    /// Per name of `userMappingNames`: its distinct `to` values in row order.
    var userMappingTargets: [[String]] { tables.userMappingTargets }
    /// `config.customProperties`, split into segments once.
    var customPropertyPaths: [CustomPropertyPath] { tables.customPropertyPaths }
    /// Whether any custom property key is integer-like, so that adding it can change the key order.
    var customPropertiesReorder: Bool { tables.customPropertiesReorder }

    /// What the mapper holds, in one immutable box: each message's mapping keeps the mapper,
    /// and copying one reference costs less than copying (retaining) each field.
    final class Tables: Sendable {
        let config: DestinationConfig
        let userMappingNames: NameIndex
        let userMappingTargets: [[String]]
        let customPropertyPaths: [CustomPropertyPath]
        let customPropertiesReorder: Bool
        /// `deduplicationKey` cut into its members once (cutting it per call cost ~2,400).
        let deduplicationSegments: [String]

        init(config: DestinationConfig, userMappingNames: NameIndex, userMappingTargets: [[String]], customPropertyPaths: [CustomPropertyPath]) {
            self.config = config
            self.deduplicationSegments = config.deduplicationKey.map(RudderMessage.dotSegments) ?? []
            self.userMappingNames = userMappingNames
            self.userMappingTargets = userMappingTargets
            self.customPropertyPaths = customPropertyPaths
            self.customPropertiesReorder = customPropertyPaths.contains { $0.isArrayIndex }
        }
    }
    let tables: Tables

    /// RudderStack's built-in eCommerce names, compared with the lowercased event name.
    public static let builtInEventMap: [String: String] = [
        "order completed": "Checkout",
        "product added": "AddToCart",
        "products searched": "Search",
        "product list filtered": "Search",
    ]

    /// A mapper for `config`; the user mapping is indexed once here.
    public init(config: DestinationConfig) {
        var positions: [JSONKey: Int] = [:]
        var names: [String] = []
        var targets: [[String]] = []
        for row in config.eventsMapping {
            // RudderStack skips rows with an empty `from` before trimming; a blank one trims to
            // "" and can never match a non-empty event name, so skipping it too is equivalent.
            guard !row.from.isEmpty else { continue }
            let name = row.from.trimmingJavaScriptWhitespace()
            let key = JSONKey(name)
            let position = positions[key] ?? names.count
            if position == names.count {
                positions[key] = position
                names.append(name)
                targets.append([])
            }
            if !targets[position].contains(row.to) { targets[position].append(row.to) }
        }
        self.tables = Tables(config: config, userMappingNames: NameIndex(names), userMappingTargets: targets,
                             customPropertyPaths: config.customProperties.map(CustomPropertyPath.init))
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
        mapEncoded(message).decoded
    }

    /// Maps one message with the calls in compact form: the event's values are copied into
    /// them as bytes, none is built as a value unless a warning or a hash needs it.
    /// `scratch`, when given, lends the mapping what it keeps between messages (one per thread).
    package func mapEncoded(_ message: RudderMessage, reusing scratch: MappingScratch? = nil) -> EncodedMappingResult {
        let tape = message.tape
        return tape.bytes.withUnsafeBytes { raw in
            var mapping = MessageMapping(mapper: self, view: TapeView(raw: raw), message: message, scratch: scratch)
            return mapping.map()
        }
    }

    /// The Pinterest event names for a track event name: the user mapping, the built-in
    /// eCommerce map, `Custom` when `sendAsCustomEvent` is on, or the name itself.
    public func resolveEventNames(_ eventName: String) -> [String] {
        var warnings: [String] = []
        return resolveEventNames(eventName, warnings: &warnings)
    }

    func resolveEventNames(_ eventName: String, warnings: inout [String]) -> [String] {
        switch eventNames(eventName, warnings: &warnings) {
        case .one(let name): return [name]
        case .mapped(let names): return names
        }
    }

    /// The names of `resolveEventNames`: nearly always one, which needs no array.
    enum EventNames {
        case one(String)
        case mapped([String])
    }

    func eventNames(_ eventName: String, warnings: inout [String]) -> EventNames {
        if !userMappingNames.isEmpty, let position = userMappingNames.position(of: eventName), !userMappingTargets[position].isEmpty {
            let mapped = userMappingTargets[position]
            if mapped.contains("") {
                warnings.append("eventsMapping maps \(quoted(eventName)) to \"\": sent as a track call with an empty event name, as RudderStack does")
            }
            return .mapped(mapped)
        }
        if let builtIn = Self.builtInEvent(eventName) { return .one(builtIn) }
        if config.sendAsCustomEvent { return .one("Custom") }
        warnings.append(Self.unmappedWarning(eventName))
        return .one(eventName)
    }

    /// The warning for a custom event name (a session resolves each name once: see
    /// `EventNameCache`).
    static func unmappedWarning(_ eventName: String) -> String {
        "\(quoted(eventName)) is not mapped to a Pinterest event: sent under its own name, which Pinterest treats as a user-defined event (no conversion reporting)"
    }

    /// `builtInEventMap[eventName.lowercased()]`. An ASCII name (nearly all) is compared with the
    /// built-in names byte by byte, ignoring ASCII case, without making a lowercased copy; other
    /// names take the general path, since Unicode lowercasing can turn them into ASCII (the
    /// Kelvin sign K becomes k).
    static func builtInEvent(_ eventName: String) -> String? {
        var name = eventName
        let ascii: String?? = name.withUTF8 { utf8 in
            for byte in utf8 where byte >= 0x80 { return .none }
            return .some(builtInEventNames.position(of: UnsafeRawBufferPointer(utf8)).map { builtInEventTargets[$0] })
        }
        return ascii ?? builtInEventMap[eventName.lowercased()]
    }

    /// `builtInEventMap` indexed for the ASCII comparison: its names, and their events.
    private static let builtInEventNames = NameIndex(builtInEventList.map(\.key), asciiCaseInsensitive: true)
    private static let builtInEventTargets = builtInEventList.map(\.value)
    private static let builtInEventList = Array(builtInEventMap)

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

    /// Whether `allowedPropertyKeys` holds `key`, by its bytes: by length first, then the bytes
    /// of the few names of that length (searching a list compared up to seventeen lengths per
    /// key; `EventNameLookupTests` checks the two agree).
    @inline(__always)
    static func isAllowedPropertyKey(_ key: UnsafeRawBufferPointer) -> Bool {
        switch key.count {
        case 5: return sameBytes(key, "value")
        case 6: return sameBytes(key, "coupon")
        case 8: return sameBytes(key, "currency") || sameBytes(key, "order_id") || sameBytes(key, "property")
        case 9: return sameBytes(key, "lead_type")
        case 10: return sameBytes(key, "product_id") || sameBytes(key, "promo_code")
        case 11: return sameBytes(key, "video_title")
        case 12: return sameBytes(key, "product_name")
        case 13: return sameBytes(key, "product_price") || sameBytes(key, "product_brand")
        case 14: return sameBytes(key, "order_quantity")
        case 15: return sameBytes(key, "product_variant")
        case 16: return sameBytes(key, "product_category") || sameBytes(key, "product_quantity")
        case 18: return sameBytes(key, "product_variant_id")
        default: return false
        }
    }

    // MARK: custom properties

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
            let split = RudderMessage.dotSegments(path)
            segments = split.contains("") ? nil : split
            isArrayIndex = PinterestMapper.javaScriptArrayIndex(path) != nil
        }
    }

    /// What walking a path directly found.
    enum DirectLookup<Found> {
        /// Exactly what `flatten(properties)[path]` holds (`nil`: no such leaf).
        case resolved(Found?)
        /// A key on the way is empty or contains a dot, so several members could spell the same
        /// path and only `flatten`'s visiting order says which one wins.
        case ambiguous
    }

    /// `flatten(properties)[segments joined by "."]` without flattening: follows the segments
    /// member by member (array elements by canonical index). The answer is only that simple when
    /// each flattened key spells exactly one path: every object met on the way has only non-empty
    /// keys without dots (then a member's key must equal the next segment), otherwise the caller
    /// flattens. Keys compare by UTF-8 bytes, as `flatten`'s keys do.
    static func flattenedValue(at segments: [String], in properties: TapeView.Node, of view: TapeView) -> DirectLookup<TapeView.Node> {
        var node = properties
        for segment in segments {
            if view.isObject(node) {
                var next: TapeView.Node?
                var ambiguous = false
                var segment = segment
                segment.withUTF8 { utf8 in
                    let wanted = UnsafeRawBufferPointer(utf8)
                    view.forEachMember(of: node) { key, value in
                        if key.isEmpty || containsDot(key) { ambiguous = true }
                        if sameBytes(key, wanted) { next = value }
                    }
                }
                if ambiguous { return .ambiguous }
                guard let next else { return .resolved(nil) }
                node = next
            } else if view.isArray(node) {
                // `flatten` names elements `String(index)`: "01" or "+1" name nothing.
                guard let index = canonicalIndex(segment), let element = view.element(index, of: node) else { return .resolved(nil) }
                node = element
            } else {
                return .resolved(nil)  // a leaf before the path ends
            }
        }
        // Only leaves are flattened: a non-empty object or array has no entry of its own.
        if (view.isObject(node) || view.isArray(node)) && view.count(node) > 0 { return .resolved(nil) }
        return .resolved(node)
    }

    /// The walk above over a built object (for tests, which compare it with `flatten`).
    static func flattenedValue(at segments: [String], in properties: JSONObject) -> DirectLookup<JSONValue> {
        let tape = JSONTape(.object(properties))
        return tape.bytes.withUnsafeBytes { raw in
            let view = TapeView(raw: raw)
            switch flattenedValue(at: segments, in: 0, of: view) {
            case .ambiguous: return .ambiguous
            case .resolved(let node): return .resolved(node.map(view.value))
            }
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

    /// `key` as a JavaScript array index (a canonical decimal below 2^32 - 1), or `nil`.
    static func javaScriptArrayIndex(_ key: String) -> UInt32? {
        guard let number = UInt32(key), number != UInt32.max, String(number) == key else { return nil }
        return number
    }

    // MARK: event_id and limited data processing

    /// The value at `deduplicationKey` when present and not null (`0` and `""` count), else
    /// `messageId`.
    public func eventId(for message: RudderMessage) -> JSONValue? {
        if let key = config.deduplicationKey, let value = message.value(atPath: key), !value.isNull {
            return value
        }
        if let messageId = message.messageId, !messageId.isNull { return messageId }
        return nil
    }

    /// The `set` values sent before every track and page call.
    public func limitedDataProcessing(for message: RudderMessage) -> JSONObject {
        let tape = message.tape
        return tape.bytes.withUnsafeBytes { raw in
            var mapping = MessageMapping(mapper: self, view: TapeView(raw: raw), message: message)
            let properties = mapping.view.member("properties", of: mapping.root).flatMap { mapping.view.isObject($0) ? $0 : nil }
            var builder = TapeBuilder(capacity: 256)
            mapping.limitedDataProcessing(properties: properties).write(to: &builder, from: mapping.view)
            return builder.finish().value.objectValue ?? JSONObject()
        }
    }
}

/// Mapping one message: reads its tape in place and writes the calls as a tape.
struct MessageMapping {
    let mapper: PinterestMapper
    let view: TapeView
    let message: RudderMessage
    let root: TapeView.Node = 0
    /// The top-level members read, found in one pass.
    let top: TopLevelMembers
    var warnings: [String] = []
    let scratch: MappingScratch?
    var builderStorage: TapeBuilderStorage? { scratch?.builder }
    /// The properties' `optOutType` member, once `trackData`'s walk over them found it or not:
    /// limited data processing then needs no walk of its own.
    var propertiesOptOut: PropertiesOptOut = .notLookedFor
    enum PropertiesOptOut {
        case notLookedFor
        case found(TapeView.Node?)
    }

    init(mapper: PinterestMapper, view: TapeView, message: RudderMessage, scratch: MappingScratch? = nil) {
        self.mapper = mapper
        self.view = view
        self.message = message
        self.top = TopLevelMembers(of: root, in: view)
        self.scratch = scratch
    }

    mutating func map() -> EncodedMappingResult {
        guard view.isObject(root) else {
            let json = message.json
            return .noCalls(.failed(message: "a message must be a JSON object, found \(json.typeDescription)", event: json, warnings: []))
        }
        guard let typeNode = top.type, !view.isNull(typeNode) else {
            return .noCalls(.unsupported(reason: "the message has no 'type'"))
        }
        // The SDK always sends lowercase types, matched first by their bytes (no string made);
        // other spellings are accepted rather than lost.
        if let bytes = view.stringBytes(typeNode) {
            if sameBytes(bytes, "track") { return mapTrack() }
            if sameBytes(bytes, "page") { return mapPage() }
            if sameBytes(bytes, "identify") { return mapIdentify() }
        }
        guard let type = view.string(typeNode) else {
            return .noCalls(.unsupported(reason: "message type must be a string, found \(view.value(typeNode).typeDescription)"))
        }
        switch type.lowercased() {
        case "track": return mapTrack()
        case "page": return mapPage()
        case "identify": return mapIdentify()
        default: return .noCalls(.unsupported(reason: "message type \(quoted(type)) is not supported by the Pinterest Tag destination"))
        }
    }

    /// An empty call data object, in the scratch's storage when there is a scratch.
    func makeDataMembers() -> DataMembers {
        guard let scratch else { return DataMembers(view: view) }
        var storage: [DataMembers.Member] = []
        swap(&storage, &scratch.members)
        return DataMembers(view: view, storage: storage)
    }

    private func failed(_ reason: String) -> EncodedMappingResult {
        .noCalls(.failed(message: reason, event: message.json, warnings: warnings))
    }

    // MARK: track

    mutating func mapTrack() -> EncodedMappingResult {
        guard let eventNode = top.event, view.isTruthy(eventNode) else {
            let reason: String
            if let present = top.event, !view.isNull(present) {
                reason = "the track message has an empty event name (\(view.value(present).typeDescription))"
            } else {
                reason = "the track message has no event name"
            }
            return .noCalls(.nothingToSend(reason: reason, warnings: []))
        }
        guard let eventName = view.stringBytes(eventNode) else {
            return .noCalls(.failed(message: "event must be a string, found \(view.value(eventNode).typeDescription)",
                                    event: message.json, warnings: []))
        }
        let properties = readProperties()
        let names: PinterestMapper.EventNames
        if let scratch {
            names = scratch.eventNames.names(for: eventName, mapper: mapper, warnings: &warnings)
        } else {
            names = mapper.eventNames(String(decoding: eventName, as: UTF8.self), warnings: &warnings)
        }
        var data = makeDataMembers()
        defer { scratch?.members = data.takeStorage() }
        if let failure = trackData(properties, into: &data) { return failed(failure) }
        applyCustomProperties(to: &data, from: properties)
        applyEventId(to: &data)
        let ldp = limitedDataProcessing(properties: properties)
        var builder = TapeBuilder(reusing: builderStorage, capacity: 1024)
        builder.beginArray()
        switch names {
        case .one(let name): writeTrackCalls(name, ldp: ldp, data: data, to: &builder)
        case .mapped(let mapped): for name in mapped { writeTrackCalls(name, ldp: ldp, data: data, to: &builder) }
        }
        builder.end()
        return .calls(EncodedCalls(tape: builder.finish()), warnings: warnings)
    }

    /// `["set", ldp]`, then `["track", name, data]`.
    private func writeTrackCalls(_ name: String, ldp: LimitedDataProcessing, data: DataMembers, to builder: inout TapeBuilder) {
        builder.beginArray()
        builder.string(fixed: "set")
        ldp.write(to: &builder, from: view)
        builder.end()
        builder.beginArray()
        builder.string(fixed: "track")
        builder.string(name)
        data.write(to: &builder)
        builder.end()
    }

    /// `properties` when it is an object; absent or null reads as none, anything else as none
    /// with a warning.
    mutating func readProperties() -> TapeView.Node? {
        guard let node = top.properties, !view.isNull(node) else { return nil }
        guard view.isObject(node) else {
            warnings.append("properties is \(view.value(node).typeDescription), not an object: ignored")
            return nil
        }
        return node
    }

    /// DATA before custom properties and `event_id`: value, allow-listed properties,
    /// search_query, line_items. Returns why the message cannot be mapped, if it cannot.
    mutating func trackData(_ properties: TapeView.Node?, into data: inout DataMembers) -> String? {
        var revenue: TapeView.Node?
        var query: TapeView.Node?
        var products: TapeView.Node?
        var optOut: TapeView.Node?
        if let properties {
            // One pass: the keys DATA reads, and the allow-listed ones in their order.
            // `{value: revenue, ...properties}`: a raw `value` (even null) replaces revenue in
            // place, so revenue goes first when it is there.
            if let found = view.truthyMember("revenue", of: properties) {
                revenue = found
                data.append(.fixed("value"), .node(found))
            }
            view.forEachMember(of: properties) { key, value in
                if PinterestMapper.isAllowedPropertyKey(key) {
                    // A key's bytes end where its value starts.
                    let name = DataMembers.Key.source(start: value - key.count, count: key.count)
                    if revenue != nil {
                        data.set(name, .node(value))
                    } else {
                        data.append(name, .node(value))
                    }
                } else if sameBytes(key, "query") {
                    query = value
                } else if sameBytes(key, "products") {
                    products = value
                } else if sameBytes(key, "optOutType") {
                    optOut = value
                }
            }
        }
        propertiesOptOut = .found(optOut)
        if let query, !view.isNull(query) { data.append(.fixed("search_query"), .node(query)) }

        let items: DataMembers.Source
        if let products, view.isArray(products) {
            view.forEachElement(of: products) { index, entry in
                if !view.isObject(entry) {
                    warnings.append("properties.products[\(index)] is \(view.value(entry).typeDescription), not a product object: skipped")
                }
            }
            items = .productArray(products)
        } else if let products, view.isObject(products) {
            warnings.append("properties.products is an object, not an array: sent as one line item")
            items = .lineItem(products)
        } else if let products, view.isTruthy(products) {
            return "properties.products must be an array of product objects, found \(view.value(products).typeDescription)"
        } else {
            if let products, !view.isNull(products), view.tag(products) != UInt8(ascii: "f") {
                warnings.append("properties.products is \(view.value(products).typeDescription): treated as absent, as RudderStack does")
            }
            items = .lineItem(properties)  // the properties themselves (none: an empty line item)
        }
        data.append(.fixed("line_items"), items)
        return nil
    }

    /// Section 5: configured dot paths of the flattened `properties`, as JavaScript strings.
    func applyCustomProperties(to data: inout DataMembers, from properties: TapeView.Node?) {
        guard !mapper.customPropertyPaths.isEmpty, let properties, view.count(properties) > 0 else { return }
        // Flattening the whole tree is the reference behaviour but costs a dictionary entry per
        // leaf; it is built only for a path that the direct walk cannot answer alone.
        var flat: [[UInt8]: JSONValue]?
        var addedArrayIndex = false
        for path in mapper.customPropertyPaths {
            let text: String
            if let segments = path.segments,
               case .resolved(let found) = PinterestMapper.flattenedValue(at: segments, in: properties, of: view) {
                guard let found, !view.isNull(found) else { continue }
                text = view.string(found) ?? view.value(found).javaScriptString
            } else {
                if flat == nil, case .object(let object) = view.value(properties) { flat = PinterestMapper.flatten(object) }
                guard let value = flat?[path.utf8], !value.isNull else { continue }
                text = value.javaScriptString
            }
            data.set(.text(path.key), .string(text))
            if path.isArrayIndex { addedArrayIndex = true }
        }
        // Only an integer-like key can move (see `inJavaScriptKeyOrder`), and only a custom
        // property can bring one.
        if addedArrayIndex { data.putInJavaScriptKeyOrder() }
    }

    /// Sets `event_id` last; a custom property of that name keeps its position but not its value.
    mutating func applyEventId(to data: inout DataMembers) {
        if let id = eventId() {
            data.setEventId(.node(id))
        } else {
            data.remove(.fixed("event_id"))
            warnings.append("no event_id: the message has no messageId"
                + (mapper.config.deduplicationKey.map { " and nothing at \(quoted($0))" } ?? ""))
        }
    }

    /// `PinterestMapper.eventId(for:)` on the tape.
    func eventId() -> TapeView.Node? {
        let view = view
        if let key = mapper.config.deduplicationKey, key == "messageId" {
            // The usual key, a top-level member: what the general lookup finds, found already.
            if let found = top.messageId, !view.isNull(found) { return found }
        } else if let key = mapper.config.deduplicationKey,
           let found = RudderMessage.lookup(key, segments: mapper.tables.deduplicationSegments, in: root,
                                            isContainer: { view.isObject($0) || view.isArray($0) }, member: { key, node in
               if view.isObject(node) { return view.member(key, of: node) }
               return RudderMessage.arrayIndex(key).flatMap { view.element($0, of: node) }
           }), !view.isNull(found) {
            return found
        }
        if let messageId = top.messageId, !view.isNull(messageId) { return messageId }
        return nil
    }

    // MARK: limited data processing

    /// The `set` values of a track or page call.
    enum LimitedDataProcessing {
        /// Nothing opts out: all three empty (and nothing hashed).
        case notOptedOut
        case optedOut(TapeView.Node, state: String, country: String)

        func write(to builder: inout TapeBuilder, from view: TapeView) {
            if case .notOptedOut = self {
                // Nearly every event: the same object each time, copied whole.
                Self.notOptedOutObject.bytes.withUnsafeBytes { builder.copy(0, of: $0) }
                return
            }
            builder.beginObject()
            builder.key("opt_out_type")
            switch self {
            case .notOptedOut:
                break
            case .optedOut(let optOut, let state, let country):
                builder.copy(optOut, of: view.raw)
                builder.key("st")
                builder.string(state)
                builder.key("country")
                builder.string(country)
            }
            builder.end()
        }

        /// `{"opt_out_type":"","st":"","country":""}`.
        private static let notOptedOutObject: JSONTape = {
            var builder = TapeBuilder(capacity: 64)
            builder.beginObject()
            for key in ["opt_out_type", "st", "country"] {
                builder.key(key)
                builder.string("")
            }
            builder.end()
            return builder.finish()
        }()
    }

    /// `properties` is the message's `properties` object as the caller already read it (a
    /// non-object reads as none, which holds no `optOutType` either way).
    mutating func limitedDataProcessing(properties: TapeView.Node?) -> LimitedDataProcessing {
        let traits = view.member("traits", of: top.context).flatMap { view.isObject($0) ? $0 : nil }
        // Evaluated lazily, in RudderStack's order: the first truthy candidate wins.
        guard let optOut = view.truthyMember("optOutType", of: traits) ?? truthyOptOut(of: properties) else {
            return .notOptedOut
        }
        let address = view.member("address", of: traits)
        let state = view.truthyMember("state", of: traits) ?? view.truthyMember("State", of: traits)
            ?? view.truthyMember("state", of: address) ?? view.truthyMember("State", of: address)
        let country = view.truthyMember("country", of: traits) ?? view.truthyMember("Country", of: traits)
            ?? view.truthyMember("country", of: address) ?? view.truthyMember("Country", of: address)
        return .optedOut(optOut, state: hashed(state, field: "state"), country: hashed(country, field: "country"))
    }

    /// `view.truthyMember("optOutType", of: properties)`, from what `trackData` found when it
    /// walked them.
    private func truthyOptOut(of properties: TapeView.Node?) -> TapeView.Node? {
        switch propertiesOptOut {
        case .found(let node): return node.flatMap { view.isTruthy($0) ? $0 : nil }
        case .notLookedFor: return view.truthyMember("optOutType", of: properties)
        }
    }

    /// Lowercase hex SHA-256 of the raw string (not trimmed or lowercased), `""` when absent.
    private mutating func hashed(_ node: TapeView.Node?, field: String) -> String {
        guard let node else { return SHA256Hex.emptyDigest }
        guard let text = view.string(node) else {
            let value = view.value(node)
            warnings.append("context.traits \(field) is \(value.typeDescription), not a string: hashed as \(quoted(value.javaScriptString))")
            return SHA256Hex.digest(value.javaScriptString)
        }
        return SHA256Hex.digest(text)
    }

    // MARK: page

    mutating func mapPage() -> EncodedMappingResult {
        var data = makeDataMembers()
        defer { scratch?.members = data.takeStorage() }
        if let name = top.name, view.isTruthy(name) {
            data.append(.fixed("name"), .node(name))
        } else {
            data.append(.fixed("name"), .string(""))
        }
        var event = "PageVisit"
        if let category = top.category, view.isTruthy(category) {
            data.append(.fixed("category"), .node(category))
            event = "ViewCategory"
        }
        // The user's document wins over RudderStack's code: configured custom properties go too.
        let properties = readProperties()
        applyCustomProperties(to: &data, from: properties)
        applyEventId(to: &data)
        let ldp = limitedDataProcessing(properties: properties)
        var builder = TapeBuilder(reusing: builderStorage, capacity: 512)
        builder.beginArray()
        writeTrackCalls(event, ldp: ldp, data: data, to: &builder)
        builder.end()
        return .calls(EncodedCalls(tape: builder.finish()), warnings: warnings)
    }

    // MARK: identify

    mutating func mapIdentify() -> EncodedMappingResult {
        let traits = view.member("traits", of: top.context).flatMap { view.isObject($0) ? $0 : nil }
        guard let email = view.truthyMember("email", of: traits) else {
            var reason = "identify has no email in context.traits.email, so there is nothing to set"
            if view.truthyMember("email", of: top.traits.flatMap { view.isObject($0) ? $0 : nil }) != nil {
                reason += " (traits.email is ignored, as in RudderStack)"
            }
            return .noCalls(.nothingToSend(reason: reason, warnings: []))
        }
        if view.string(email) == nil {
            warnings.append("context.traits.email is \(view.value(email).typeDescription), not a string: sent as it is")
        }
        var data = makeDataMembers()
        defer { scratch?.members = data.takeStorage() }
        data.append(.fixed("em"), .node(email))
        data.append(.fixed("opt_out_type"), .string(""))
        data.append(.fixed("st"), .string(""))
        data.append(.fixed("country"), .string(""))
        applyEventId(to: &data)
        var builder = TapeBuilder(reusing: builderStorage, capacity: 256)
        builder.beginArray()
        builder.beginArray()
        builder.string(fixed: "set")
        data.write(to: &builder)
        builder.end()
        builder.end()
        return .calls(EncodedCalls(tape: builder.finish()), warnings: warnings)
    }
}

/// The top-level members of a message the mapping reads, found in one pass over its members
/// (looking each up walked them again: a third of the mapping's reads).
struct TopLevelMembers {
    var type, event, properties, context, messageId, name, category, traits: TapeView.Node?

    init(of root: TapeView.Node, in view: TapeView) {
        guard view.isObject(root) else { return }
        view.forEachMember(of: root) { key, value in
            func `is`(_ name: StaticString) -> Bool {
                sameBytes(key, UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            }
            switch key.count {
            case 4: if `is`("type") { type = value } else if `is`("name") { name = value }
            case 5: if `is`("event") { event = value }
            case 6: if `is`("traits") { traits = value }
            case 7: if `is`("context") { context = value }
            case 8: if `is`("category") { category = value }
            case 9: if `is`("messageId") { messageId = value }
            case 10: if `is`("properties") { properties = value }
            default: break
            }
        }
    }
}

/// A call's data object while it is assembled: keys in order, each with where its value comes
/// from. Setting a key that is there replaces its value in place, as assigning to a JavaScript
/// object does; keys compare by their UTF-8 bytes. Keys and values are mostly the message's own
/// bytes or constants, so assembling makes no strings.
struct DataMembers {
    enum Key {
        case fixed(StaticString)
        /// A key of the message: where its bytes are in the tape, and how many.
        case source(start: Int, count: Int)
        /// A configured custom property path.
        case text(String)
    }

    enum Source {
        /// A value of the message, copied as it is.
        case node(TapeView.Node)
        case string(String)
        /// `line_items`: one per object of this array (other elements are skipped).
        case productArray(TapeView.Node)
        /// `line_items` with one item, from this object (none: an empty item).
        case lineItem(TapeView.Node?)
    }

    typealias Member = (key: Key, source: Source)

    let view: TapeView
    /// One array, not two: each is an allocation per message.
    private var members: [Member] = []

    /// `storage`, empty, is an array to fill again (a scratch's, which keeps its capacity
    /// from one message to the next: making it and freeing it cost ~500 instructions).
    init(view: TapeView, storage: [Member] = []) {
        self.view = view
        members = storage
        if members.capacity < 16 { members.reserveCapacity(16) }
    }

    /// The members' storage, emptied, to be given to the next message's `init`.
    mutating func takeStorage() -> [Member] {
        var taken: [Member] = []
        swap(&taken, &members)
        // One at a time: `removeAll(keepingCapacity:)` takes a general path that cost several
        // times as much.
        while !taken.isEmpty { taken.removeLast() }
        return taken
    }

    /// Calls `body` with the key's UTF-8 bytes.
    private func withBytes<Result>(of key: Key, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch key {
        case .fixed(let name): return body(UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        case .source(let start, let count): return body(UnsafeRawBufferPointer(start: view.raw.baseAddress.map { $0 + start }, count: count))
        case .text(var text): return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }

    private func index(of key: Key) -> Int? {
        withBytes(of: key) { wanted in
            members.indices.first { index in withBytes(of: members[index].key) { sameBytes($0, wanted) } }
        }
    }

    /// How many keys are configured texts (custom property paths): the only keys that can be
    /// `event_id` (allow-listed and fixed keys never are).
    private var textKeys = 0

    /// Adds a key known not to be there yet.
    mutating func append(_ key: Key, _ source: Source) {
        if case .text = key { textKeys += 1 }
        members.append((key, source))
    }

    /// `set(.fixed("event_id"), source)`, without a search when no key can be `event_id`.
    mutating func setEventId(_ source: Source) {
        if textKeys == 0 {
            members.append((.fixed("event_id"), source))
        } else {
            set(.fixed("event_id"), source)
        }
    }

    mutating func set(_ key: Key, _ source: Source) {
        if let index = index(of: key) {
            members[index].source = source
        } else {
            append(key, source)
        }
    }

    mutating func remove(_ key: Key) {
        guard let index = index(of: key) else { return }
        if case .text = members[index].key { textKeys -= 1 }
        members.remove(at: index)
    }

    /// JavaScript objects list integer-like keys (array indexes) first, ascending.
    mutating func putInJavaScriptKeyOrder() {
        let arrayIndexes = members.map { member in
            withBytes(of: member.key) { PinterestMapper.javaScriptArrayIndex(String(decoding: $0, as: UTF8.self)) }
        }
        let indexed = members.indices.compactMap { index in arrayIndexes[index].map { (index, $0) } }
        guard !indexed.isEmpty else { return }
        let positions = indexed.sorted { $0.1 < $1.1 }.map(\.0) + members.indices.filter { arrayIndexes[$0] == nil }
        members = positions.map { members[$0] }
    }

    func write(to builder: inout TapeBuilder) {
        builder.beginObject()
        for member in members {
            if case .node(let node) = member.source {
                // Most members: a key and a value of the message, in one call.
                withBytes(of: member.key) { builder.member(key: $0, copying: node, of: view.raw) }
                continue
            }
            switch member.key {
            case .text(let text): builder.key(text)
            case let key: withBytes(of: key) { builder.key(bytes: $0) }
            }
            switch member.source {
            case .node(let node): builder.copy(node, of: view.raw)
            case .string(let text): builder.string(text)
            case .productArray(let products):
                builder.beginArray()
                let view = view
                view.forEachElement(of: products) { _, entry in
                    if view.isObject(entry) { writeLineItem(entry, to: &builder) }
                }
                builder.end()
            case .lineItem(let product):
                builder.beginArray()
                writeLineItem(product, to: &builder)
                builder.end()
            }
        }
        builder.end()
    }

    /// One line item; falsy source values leave their key out. One pass over the product's
    /// members (keys are unique, so this finds what lookups by name would).
    private func writeLineItem(_ product: TapeView.Node?, to builder: inout TapeBuilder) {
        // Slot 0 product_id, 1 sku, then the `lineItemFields` in order.
        var found: (Int, Int, Int, Int, Int, Int, Int, Int) = (-1, -1, -1, -1, -1, -1, -1, -1)
        let view = view
        if let product {
            withUnsafeMutableBytes(of: &found) { slots in
                let slots = slots.bindMemory(to: Int.self)
                view.forEachMember(of: product) { key, value in
                    if let position = Self.lineItemSlot(of: key), view.isTruthy(value) {
                        slots[position] = value
                    }
                }
            }
        }
        builder.beginObject()
        let id = found.0 >= 0 ? found.0 : found.1
        if id >= 0 { write("product_id", id, to: &builder) }
        if found.2 >= 0 { write("product_name", found.2, to: &builder) }
        if found.3 >= 0 { write("product_price", found.3, to: &builder) }
        if found.4 >= 0 { write("product_quantity", found.4, to: &builder) }
        if found.5 >= 0 { write("product_category", found.5, to: &builder) }
        if found.6 >= 0 { write("product_brand", found.6, to: &builder) }
        if found.7 >= 0 { write("product_variant", found.7, to: &builder) }
        builder.end()
    }

    /// The slot of `key` among `product_id`, `sku`, then the sources of `lineItemFields`: by
    /// length first, then the bytes of the one or two names of that length (searching the list
    /// compared each name's length, then its bytes, one at a time: half of a line item's time).
    @inline(__always)
    static func lineItemSlot(of key: UnsafeRawBufferPointer) -> Int? {
        switch key.count {
        case 3: return sameBytes(key, "sku") ? 1 : nil
        case 4: return sameBytes(key, "name") ? 2 : nil
        case 5: return sameBytes(key, "price") ? 3 : sameBytes(key, "brand") ? 6 : nil
        case 7: return sameBytes(key, "variant") ? 7 : nil
        case 8: return sameBytes(key, "quantity") ? 4 : sameBytes(key, "category") ? 5 : nil
        case 10: return sameBytes(key, "product_id") ? 0 : nil
        default: return nil
        }
    }

    @inline(__always)
    private func write(_ key: StaticString, _ value: TapeView.Node, to builder: inout TapeBuilder) {
        builder.member(key: UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount), copying: value, of: view.raw)
    }
}

extension TapeBuilder {
    /// A string known when compiling (a function name), without making a `String`.
    mutating func string(fixed text: StaticString) {
        string(bytes: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
