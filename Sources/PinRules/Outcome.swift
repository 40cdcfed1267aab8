public import PinJSON
public import PinterestTag

/// What happened to one input line: exactly one per line, whatever the line held.
public struct Outcome: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable, CaseIterable {
        /// The calls in `calls` are to be made.
        case sent
        /// A rule dropped the event, or the event has nothing to send (`reason`).
        case dropped
        /// The message type is not one this destination handles (`reason`).
        case skipped
        /// A rule or the mapping failed; `error` says why and `event` keeps the original event.
        case error
        /// The line is not a JSON object; `raw` keeps it.
        case invalid
    }

    /// Why an event ended in `error` (or a line in `invalid`).
    public struct Failure: Error, Sendable, Equatable {
        /// `runtime`, `limit`, `forbidden`, `bad_return`, `contract` (a hook returned something
        /// the contract does not allow), `mapping`, `input`.
        public var kind: String
        public var message: String
        /// The rule's name, when a rule failed.
        public var rule: String?
        /// The line in the rule file, when known.
        public var line: Int?
        /// For `limit`: `memory`, `instructions` or `deadline`.
        public var limit: String?

        public init(kind: String, message: String, rule: String? = nil, line: Int? = nil, limit: String? = nil) {
            self.kind = kind
            self.message = message
            self.rule = rule
            self.line = line
            self.limit = limit
        }
    }

    /// 1-based input line number, when the event came from a stream.
    public var line: Int?
    /// The event's `messageId` as it came in.
    public var messageId: JSONValue? {
        get {
            switch messageIdStorage {
            case .value(let value): return value
            case .tape(let tape, let node): return tape.value(of: node)
            }
        }
        set { messageIdStorage = .value(newValue) }
    }
    /// Where `messageId` is in the event's tape, for events read from lines: written from there
    /// without being built.
    private var messageIdStorage: MessageIdStorage
    private enum MessageIdStorage: Sendable {
        case value(JSONValue?)
        case tape(JSONTape, JSONTape.Node)
    }
    public var status: Status
    /// The calls to make, for `sent`.
    public var calls: [PintrkCall] {
        get {
            switch callStorage {
            case .values(let calls): return calls
            case .encoded(let encoded): return encoded.calls
            }
        }
        set { callStorage = .values(newValue) }
    }
    /// The calls as the mapping made them (compact, written without being built), or as
    /// values once after-rules or a caller changed them.
    private var callStorage: CallStorage
    private enum CallStorage: Sendable {
        case values([PintrkCall])
        case encoded(EncodedCalls)
    }
    public var reason: String?
    /// The rule that dropped the event.
    public var rule: String?
    public var failure: Failure?
    /// The original event, for `error` outcomes.
    public var event: JSONValue?
    /// The raw line, for `invalid` outcomes (invalid UTF-8 repaired with U+FFFD).
    public var raw: String?
    public var warnings: [String]
    /// What rules wrote with `ctx.log`, each prefixed with the rule's name.
    public var logs: [String]
    /// What each rule did to the event, in order (`newsletter_as_lead.lua: renamed event
    /// "Newsletter Subscribed" → "Lead Generated"`). Not part of the output line; the test
    /// runner and `--verbose` show it.
    public var trace: [String]

    public init(
        line: Int? = nil, messageId: JSONValue? = nil, status: Status, calls: [PintrkCall] = [],
        reason: String? = nil, rule: String? = nil, failure: Failure? = nil, event: JSONValue? = nil,
        raw: String? = nil, warnings: [String] = [], logs: [String] = [], trace: [String] = []
    ) {
        self.line = line
        self.messageIdStorage = .value(messageId)
        self.status = status
        self.callStorage = .values(calls)
        self.reason = reason
        self.rule = rule
        self.failure = failure
        self.event = event
        self.raw = raw
        self.warnings = warnings
        self.logs = logs
        self.trace = trace
    }

    /// An outcome with nothing but its line and status, as the pipeline starts each one (the
    /// public initializer's defaults, made at the call, cost a copy of the whole outcome).
    init(line: Int?, status: Status) {
        self.line = line
        self.messageIdStorage = .value(nil)
        self.status = status
        self.callStorage = .values([])
        self.warnings = []
        self.logs = []
        self.trace = []
    }

    /// Takes `messageId` from the event's tape.
    mutating func setMessageId(from event: JSONTape) {
        messageIdStorage = event.member("messageId", of: event.root).map { .tape(event, $0) } ?? .value(nil)
    }

    /// Appends `more` to the warnings; the usual case, none before, takes the array as it is.
    mutating func addWarnings(_ more: [String]) {
        if warnings.isEmpty { warnings = more } else { warnings += more }
    }

    /// Sets the calls in the compact form the mapping made them in.
    mutating func setCalls(_ encoded: EncodedCalls) { callStorage = .encoded(encoded) }

    /// Outcomes are equal when what they say is: calls compare as values, however kept.
    public static func == (lhs: Outcome, rhs: Outcome) -> Bool {
        lhs.line == rhs.line && lhs.messageId == rhs.messageId && lhs.status == rhs.status
            && lhs.calls == rhs.calls && lhs.reason == rhs.reason && lhs.rule == rhs.rule
            && lhs.failure == rhs.failure && lhs.event == rhs.event && lhs.raw == rhs.raw
            && lhs.warnings == rhs.warnings && lhs.logs == rhs.logs && lhs.trace == rhs.trace
    }

    /// Writes `json` to `writer` without building it first (this runs once per event).
    public func write(to writer: inout JSONWriter) { write(to: &writer, end: "}") }

    /// `write(to:)` with `end` (the closing brace, with a newline for a stream's line) written
    /// for the brace. Keys go with the values after them where the writer takes both in one
    /// write: each write makes room and reaches the storage once, which costs more than a key.
    func write(to writer: inout JSONWriter, end: StaticString) {
        var first = true
        // A key quoted, with its colon, in two spellings: opening the object, or after a comma
        // (one write, not two: most outcomes have five keys).
        func key(_ opening: StaticString, _ following: StaticString) -> StaticString {
            defer { first = false }
            return first ? opening : following
        }
        if let line { writer.write(key("{\"line\":", ",\"line\":"), integer: Int64(line)) }
        switch messageIdStorage {
        case .value(let messageId?): writer.writeRaw(key("{\"messageId\":", ",\"messageId\":")); writer.write(messageId)
        case .tape(let tape, let node): writer.write(key("{\"messageId\":", ",\"messageId\":"), tape, at: node)
        case .value(nil): break
        }
        // The status with its key, written as one piece; the calls the mapping made with it.
        switch status {
        case .sent:
            if case .encoded(let encoded) = callStorage {
                writer.write(key("{\"status\":\"sent\",\"pintrk\":", ",\"status\":\"sent\",\"pintrk\":"), encoded.tape, at: encoded.tape.root)
            } else {
                writer.writeRaw(key("{\"status\":\"sent\",\"pintrk\":", ",\"status\":\"sent\",\"pintrk\":"))
                writeCalls(to: &writer)
            }
        case .dropped: writer.writeRaw(key("{\"status\":\"dropped\"", ",\"status\":\"dropped\""))
        case .skipped: writer.writeRaw(key("{\"status\":\"skipped\"", ",\"status\":\"skipped\""))
        case .error: writer.writeRaw(key("{\"status\":\"error\"", ",\"status\":\"error\""))
        case .invalid: writer.writeRaw(key("{\"status\":\"invalid\"", ",\"status\":\"invalid\""))
        }
        if let reason { writer.writeRaw(key("{\"reason\":", ",\"reason\":")); writer.write(string: reason) }
        if let rule { writer.writeRaw(key("{\"rule\":", ",\"rule\":")); writer.write(string: rule) }
        if let failure {
            writer.writeRaw(key("{\"error\":", ",\"error\":"))
            writer.writeRaw("{\"kind\":")
            writer.write(string: failure.kind)
            writer.writeRaw(",\"message\":")
            writer.write(string: failure.message)
            if let rule = failure.rule { writer.writeRaw(",\"rule\":"); writer.write(string: rule) }
            if let line = failure.line { writer.writeRaw(",\"line\":"); writer.writeInteger(Int64(line)) }
            if let limit = failure.limit { writer.writeRaw(",\"limit\":"); writer.write(string: limit) }
            writer.writeRaw("}")
        }
        if let event { writer.writeRaw(key("{\"event\":", ",\"event\":")); writer.write(event) }
        if let raw { writer.writeRaw(key("{\"raw\":", ",\"raw\":")); writer.write(string: raw) }
        if !warnings.isEmpty { writer.writeRaw(key("{\"warnings\":", ",\"warnings\":")); Self.write(strings: warnings, to: &writer) }
        if !logs.isEmpty { writer.writeRaw(key("{\"logs\":", ",\"logs\":")); Self.write(strings: logs, to: &writer) }
        if first { writer.writeRaw("{") }
        writer.writeRaw(end)
    }

    /// A JSON array of strings, written without making it a `JSONValue` first.
    private static func write(strings: [String], to writer: inout JSONWriter) {
        writer.writeRaw("[")
        for (index, text) in strings.enumerated() {
            if index > 0 { writer.writeRaw(",") }
            writer.write(string: text)
        }
        writer.writeRaw("]")
    }

    /// The calls held as values, in their JSON array form.
    private func writeCalls(to writer: inout JSONWriter) {
        writer.writeRaw("[")
        for (index, call) in calls.enumerated() {
            if index > 0 { writer.writeRaw(",") }
            writer.writeRaw("[")
            writer.write(string: call.function)
            if call.function == "track", let event = call.event { writer.writeRaw(","); writer.write(string: event) }
            if call.function == "load", let tagId = call.tagId { writer.writeRaw(","); writer.write(string: tagId) }
            if let data = call.data { writer.writeRaw(","); writer.write(.object(data)) }
            writer.writeRaw("]")
        }
        writer.writeRaw("]")
    }

    /// The output line's JSON object, keys in a fixed order:
    /// `line, messageId, status, pintrk | reason, rule | error, event | raw, warnings, logs`.
    public var json: JSONValue {
        var object = JSONObject()
        if let line { object.appendUnique("line", .integer(Int64(line))) }
        if let messageId { object.appendUnique("messageId", messageId) }
        object.appendUnique("status", .string(status.rawValue))
        if status == .sent {
            if case .encoded(let encoded) = callStorage {
                object.appendUnique("pintrk", encoded.tape.value)
            } else {
                object.appendUnique("pintrk", .array(calls.map(\.jsonArray)))
            }
        }
        if let reason { object.appendUnique("reason", .string(reason)) }
        if let rule { object.appendUnique("rule", .string(rule)) }
        if let failure {
            var error = JSONObject()
            error.appendUnique("kind", .string(failure.kind))
            error.appendUnique("message", .string(failure.message))
            if let rule = failure.rule { error.appendUnique("rule", .string(rule)) }
            if let line = failure.line { error.appendUnique("line", .integer(Int64(line))) }
            if let limit = failure.limit { error.appendUnique("limit", .string(limit)) }
            object.appendUnique("error", .object(error))
        }
        if let event { object.appendUnique("event", event) }
        if let raw { object.appendUnique("raw", .string(raw)) }
        if !warnings.isEmpty { object.appendUnique("warnings", .array(warnings.map { .string($0) })) }
        if !logs.isEmpty { object.appendUnique("logs", .array(logs.map { .string($0) })) }
        return .object(object)
    }
}
