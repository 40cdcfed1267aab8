import Foundation
import PinJSON

/// The two kinds of suite `pinrules test` runs.
public enum TestSuiteKind: String, Sendable, Equatable {
    /// `*.cases.json`: declarative cases (an event and what should come out).
    case cases
    /// `*_test.lua`: Lua tests with `test`, `run` and assertions.
    case lua
}

/// A suite file found by discovery.
public struct TestSuiteFile: Sendable, Equatable {
    public var path: String
    public var kind: TestSuiteKind

    public init(path: String, kind: TestSuiteKind) {
        self.path = path
        self.kind = kind
    }
}

/// Why a suite cannot be loaded (a missing file, a syntax error, a malformed case, a broken
/// rule or config): `file:line:column: message`. Such a suite runs none of its cases and makes
/// the exit status 2.
public struct TestLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        "\(sourcePosition(file: file, line: line, column: column)): \(message)"
    }
}

/// Finds suites under the paths given to `pinrules test`.
public enum TestDiscovery {
    /// The kind of suite a file name denotes, if any.
    public static func kind(ofFileName name: String) -> TestSuiteKind? {
        if name.hasPrefix(".") { return nil }
        if name.hasSuffix(".cases.json") { return .cases }
        if name.hasSuffix("_test.lua") { return .lua }
        return nil
    }

    /// Suites under `paths`, recursively, in path order; a file path is taken as a suite
    /// whatever its name ends with, if it is one. Hidden files and folders (`.build`, `.git`)
    /// are skipped. Paths that do not exist, and files that are not suites, are errors.
    public static func discover(paths: [String]) -> (suites: [TestSuiteFile], errors: [TestLoadError]) {
        var suites: [TestSuiteFile] = []
        var errors: [TestLoadError] = []
        let files = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard files.fileExists(atPath: path, isDirectory: &isDirectory) else {
                errors.append(TestLoadError(file: path, message: "no such file or directory"))
                continue
            }
            if !isDirectory.boolValue {
                let name = (path as NSString).lastPathComponent
                if let kind = kind(ofFileName: name) {
                    suites.append(TestSuiteFile(path: TestPaths.normalize(path), kind: kind))
                } else {
                    errors.append(TestLoadError(file: path, message: "not a test suite (suites are *.cases.json and *_test.lua files)"))
                }
                continue
            }
            var found: [TestSuiteFile] = []
            walk(TestPaths.normalize(path), into: &found, depth: 0)
            suites += found.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        }
        var seen = Set<String>()
        return (suites.filter { seen.insert($0.path).inserted }, errors)
    }

    private static func walk(_ directory: String, into found: inout [TestSuiteFile], depth: Int) {
        // Deep enough for any real tree; stops symlink loops.
        guard depth < 32, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where !name.hasPrefix(".") {
            let path = TestPaths.join(directory, name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                walk(path, into: &found, depth: depth + 1)
            } else if let kind = kind(ofFileName: name) {
                found.append(TestSuiteFile(path: path, kind: kind))
            }
        }
    }
}

/// Path arithmetic on plain strings, so that reports show the paths users typed
/// (`rules/x.lua`, not `/home/.../rules/./x.lua`).
enum TestPaths {
    /// Drops `.` components and resolves `..` against earlier components.
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            if part == "..", absolute { continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    static func join(_ directory: String, _ relative: String) -> String {
        if relative.hasPrefix("/") { return normalize(relative) }
        return normalize(directory == "." ? relative : directory + "/" + relative)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

/// Line numbers inside a suite's text, for messages and reports.
struct SourceText {
    let text: String
    let bytes: [UInt8]

    init(_ text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    /// 1-based line and column of a byte offset.
    func position(ofByte offset: Int) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(max(0, offset), bytes.count) where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        let column = String(decoding: bytes[lineStart..<min(max(lineStart, offset), bytes.count)], as: UTF8.self).count + 1
        return (line, column)
    }

    /// The byte offset of `needle` at or after `start`, if any.
    func find(_ needle: String, from start: Int) -> Int? {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, pattern.count <= bytes.count else { return nil }
        var index = max(0, start)
        while index + pattern.count <= bytes.count {
            if bytes[index] == pattern[0], Array(bytes[index..<index + pattern.count]) == pattern { return index }
            index += 1
        }
        return nil
    }
}

/// How the destination config of a suite is chosen: declared, else `destination.json` next to
/// the suite, else `TestSuiteSetup.defaultConfig`.
struct ConfigChoice {
    var json: JSONValue
    /// Where it came from, for messages: a path, or nil for an inline or default config.
    var file: String?
    /// The line of an inline config in its suite file.
    var line: Int? = nil
}

/// What a suite maps with: a config and the rule files, resolved against the suite's folder.
struct TestSuiteSetup {
    var config: ConfigChoice
    var rulePaths: [String]

    /// The config suites use when they declare none and no `destination.json` sits next to
    /// them: a tag ID and nothing else, so that the mapping is the plain default one.
    static let defaultConfig: JSONValue = .object(["tagId": .string("2612345678901")])

    /// Reads a config file (bare or `{"Config": {...}}`).
    static func readConfig(_ path: String, referencedFrom suite: String, line: Int?) throws(TestLoadError) -> ConfigChoice {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestLoadError(file: suite, line: line, message: "cannot read the config file \(path)")
        }
        do {
            return ConfigChoice(json: try JSONParser().parse(Array(data)), file: path)
        } catch {
            let position = SourceText(String(decoding: data, as: UTF8.self)).position(ofByte: error.byteOffset)
            throw TestLoadError(file: path, line: position.line, column: position.column, message: "not valid JSON: \(error.reason)")
        }
    }

    /// The conventional config of a suite in `directory`.
    static func conventionalConfig(in directory: String, suite: String) throws(TestLoadError) -> ConfigChoice {
        let candidate = TestPaths.join(directory, "destination.json")
        if FileManager.default.fileExists(atPath: candidate) {
            return try readConfig(candidate, referencedFrom: suite, line: nil)
        }
        return ConfigChoice(json: defaultConfig, file: nil)
    }

    /// The conventional rule of a suite: `foo.lua` for `foo_test.lua` and `foo.cases.json`.
    static func conventionalRule(for suite: TestSuiteFile) throws(TestLoadError) -> [String] {
        let name = TestPaths.fileName(of: suite.path)
        let stem = suite.kind == .lua ? String(name.dropLast("_test.lua".count)) : String(name.dropLast(".cases.json".count))
        let rule = TestPaths.join(TestPaths.directory(of: suite.path), stem + ".lua")
        guard FileManager.default.fileExists(atPath: rule) else {
            let how = suite.kind == .lua ? "declare them with a leading '--! rules: a.lua, b.lua' line (or '--! rules: none')"
                                         : "list them in \"rules\" (or \"rules\": [] for none)"
            throw TestLoadError(file: suite.path, line: 1, message: "no rules to test: \(stem + ".lua") does not exist next to the suite; \(how)")
        }
        return [rule]
    }
}

// MARK: - Declarative suites

/// What a declarative case expects. Every field is optional; `status` defaults to `sent` when
/// a call expectation (`pintrk`, `track`, `calls`) is given.
struct CaseExpectation {
    var status: Outcome.Status?
    /// The exact calls, as the output line shows them.
    var pintrk: JSONValue?
    /// A substring of the reason (dropped, skipped).
    var reason: String?
    /// The rule that dropped the event.
    var rule: String?
    /// A substring of `kind: message` of the error.
    var error: String?
    /// The first track call (of `track.event` when given), matched as a subset: `{"event":
    /// "Lead", "data": {"lead_type": "newsletter"}}`.
    var track: JSONValue?
    /// Every call, in order, each matched as a subset (`{"fn": "track", "event": "Lead",
    /// "data": {...}}` or `["track", "Lead", {...}]`).
    var calls: JSONValue?
    /// Substrings that must each appear in some log line.
    var logs: [String]?
    var maxInstructions: Int64?

    var effectiveStatus: Outcome.Status? {
        status ?? (pintrk != nil || track != nil || calls != nil ? .sent : nil)
    }
}

struct DeclarativeCase {
    var name: String
    var line: Int?
    var event: JSONValue
    var expect: CaseExpectation
    /// A config for this case only.
    var config: JSONValue?
}

struct DeclarativeSuite {
    var setup: TestSuiteSetup
    var cases: [DeclarativeCase]

    static let suiteKeys: Set<String> = ["config", "rules", "cases", "description"]
    static let caseKeys: Set<String> = ["name", "event", "expect", "max_instructions", "config", "description"]
    static let expectKeys: Set<String> = ["status", "pintrk", "reason", "rule", "error", "track", "calls", "logs", "max_instructions"]

    /// Parses a `*.cases.json` file; every problem is a `TestLoadError` with the line.
    static func load(_ path: String) throws(TestLoadError) -> DeclarativeSuite {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestLoadError(file: path, message: "cannot read the file")
        }
        let source = SourceText(String(decoding: data, as: UTF8.self))
        let document: JSONValue
        do {
            document = try JSONParser().parse(Array(data))
        } catch {
            let position = source.position(ofByte: error.byteOffset)
            throw TestLoadError(file: path, line: position.line, column: position.column, message: "not valid JSON: \(error.reason)")
        }
        func fail(_ message: String, near key: String? = nil, from offset: Int = 0) -> TestLoadError {
            let at = key.flatMap { source.find(JSONWriter.string(.string($0)), from: offset) }
            return TestLoadError(file: path, line: at.map { source.position(ofByte: $0).line } ?? 1, message: message)
        }
        guard case .object(let root) = document else {
            throw fail("a cases file is an object: {\"config\": ..., \"rules\": [...], \"cases\": [...]}")
        }
        for key in root.keys where !suiteKeys.contains(key) {
            throw fail("unknown key '\(key)' (a cases file has config, rules, cases)", near: key)
        }
        let directory = TestPaths.directory(of: path)
        let config: ConfigChoice
        switch root["config"] {
        case nil, .null?:
            config = try TestSuiteSetup.conventionalConfig(in: directory, suite: path)
        case .string(let relative)?:
            let line = source.find("\"config\"", from: 0).map { source.position(ofByte: $0).line }
            config = try TestSuiteSetup.readConfig(TestPaths.join(directory, relative), referencedFrom: path, line: line)
        case .object?:
            let line = source.find("\"config\"", from: 0).map { source.position(ofByte: $0).line }
            config = ConfigChoice(json: root["config"] ?? .null, file: nil, line: line)
        default:
            throw fail("\"config\" must be a config object or the path of a config file", near: "config")
        }
        var rules: [String] = []
        switch root["rules"] {
        case nil, .null?:
            rules = try TestSuiteSetup.conventionalRule(for: TestSuiteFile(path: path, kind: .cases))
        case .array(let list)?:
            for item in list {
                guard case .string(let relative) = item else { throw fail("\"rules\" must be a list of paths (strings)", near: "rules") }
                rules.append(TestPaths.join(directory, relative))
            }
        case .string(let relative)?:
            rules = [TestPaths.join(directory, relative)]
        default:
            throw fail("\"rules\" must be a list of rule paths, relative to the cases file", near: "rules")
        }
        guard case .array(let items)? = root["cases"] else {
            throw fail("a cases file needs \"cases\": a list of {\"name\", \"event\", \"expect\"}", near: "cases")
        }
        guard !items.isEmpty else {
            throw fail("\"cases\" is empty: a suite without cases tests nothing", near: "cases")
        }
        var cases: [DeclarativeCase] = []
        var cursor = source.find("\"cases\"", from: 0) ?? 0
        for (index, item) in items.enumerated() {
            let label = "cases[\(index)]"
            guard case .object(let object) = item else { throw fail("\(label) must be an object", near: "cases") }
            guard case .string(let name)? = object["name"], !name.isEmpty else {
                throw fail("\(label) needs a \"name\" (a non-empty string)", near: "name", from: cursor)
            }
            let nameOffset = source.find(JSONWriter.string(.string(name)), from: cursor)
            if let nameOffset { cursor = nameOffset + 1 }
            let line = nameOffset.map { source.position(ofByte: $0).line }
            func caseError(_ message: String) -> TestLoadError {
                TestLoadError(file: path, line: line, message: "case \(JSONWriter.string(.string(name))): \(message)")
            }
            for key in object.keys where !caseKeys.contains(key) {
                throw caseError("unknown key '\(key)' (a case has name, event, expect, max_instructions, config)")
            }
            guard case .object? = object["event"] else { throw caseError("needs an \"event\" object") }
            guard case .object(let expectObject)? = object["expect"] else {
                throw caseError("needs an \"expect\" object, e.g. {\"status\": \"sent\"}")
            }
            var expect = try parseExpect(expectObject, caseError: caseError)
            if let value = object["max_instructions"] {
                guard case .integer(let limit) = value, limit > 0 else { throw caseError("max_instructions must be a positive integer") }
                expect.maxInstructions = limit
            }
            var caseConfig: JSONValue? = nil
            if let value = object["config"], !value.isNull {
                guard case .object = value else { throw caseError("\"config\" must be a config object") }
                caseConfig = value
            }
            cases.append(DeclarativeCase(name: name, line: line, event: object["event"] ?? .null, expect: expect, config: caseConfig))
        }
        return DeclarativeSuite(setup: TestSuiteSetup(config: config, rulePaths: rules), cases: cases)
    }

    private static func parseExpect(_ object: JSONObject, caseError: (String) -> TestLoadError) throws(TestLoadError) -> CaseExpectation {
        var expect = CaseExpectation()
        for key in object.keys where !expectKeys.contains(key) {
            throw caseError("unknown key '\(key)' in expect (expect has \(expectKeys.sorted().joined(separator: ", ")))")
        }
        if let value = object["status"] {
            guard case .string(let text) = value, let status = Outcome.Status(rawValue: text) else {
                throw caseError("expect.status must be one of \(Outcome.Status.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            expect.status = status
        }
        if let value = object["pintrk"] {
            guard case .array(let calls) = value, calls.allSatisfy({ $0.arrayValue != nil }) else {
                throw caseError("expect.pintrk must be the list of calls as arrays: [[\"set\", {...}], [\"track\", \"Lead\", {...}]]")
            }
            expect.pintrk = value
        }
        func string(_ key: String) throws(TestLoadError) -> String? {
            guard let value = object[key] else { return nil }
            guard case .string(let text) = value else { throw caseError("expect.\(key) must be a string") }
            return text
        }
        expect.reason = try string("reason")
        expect.rule = try string("rule")
        expect.error = try string("error")
        if let value = object["track"] {
            guard case .object(let track) = value else {
                throw caseError("expect.track must be an object: {\"event\": \"Lead\", \"data\": {...}}")
            }
            for key in track.keys where key != "event" && key != "data" {
                throw caseError("unknown key '\(key)' in expect.track (it has event and data)")
            }
            if let event = track["event"], event.stringValue == nil { throw caseError("expect.track.event must be a string") }
            if let data = track["data"], data.objectValue == nil { throw caseError("expect.track.data must be an object") }
            expect.track = value
        }
        if let value = object["calls"] {
            guard case .array(let calls) = value else { throw caseError("expect.calls must be a list of calls") }
            var normalized: [JSONValue] = []
            for (index, call) in calls.enumerated() {
                switch call {
                case .object(let table):
                    for key in table.keys where !["fn", "event", "data", "tagId"].contains(key) {
                        throw caseError("unknown key '\(key)' in expect.calls[\(index)] (a call has fn, event, data)")
                    }
                    normalized.append(call)
                case .array(let parts):
                    guard case .string(let function)? = parts.first else {
                        throw caseError("expect.calls[\(index)] must start with the function name")
                    }
                    var table = JSONObject()
                    table.appendUnique("fn", .string(function))
                    var rest = parts.dropFirst()
                    if function == "track", case .string(let event)? = rest.first {
                        table.appendUnique("event", .string(event))
                        rest = rest.dropFirst()
                    }
                    if let data = rest.first { table.appendUnique("data", data) }
                    normalized.append(.object(table))
                default:
                    throw caseError("expect.calls[\(index)] must be a call object or array")
                }
            }
            expect.calls = .array(normalized)
        }
        if let value = object["logs"] {
            guard case .array(let lines) = value, lines.allSatisfy({ $0.stringValue != nil }) else {
                throw caseError("expect.logs must be a list of strings")
            }
            expect.logs = lines.compactMap(\.stringValue)
        }
        if let value = object["max_instructions"] {
            guard case .integer(let limit) = value, limit > 0 else { throw caseError("expect.max_instructions must be a positive integer") }
            expect.maxInstructions = limit
        }
        return expect
    }
}

// MARK: - Lua test files

/// The leading `--!` declarations of a `*_test.lua` file:
///
/// ```lua
/// --! rules: 10_internal.lua, newsletter_as_lead.lua
/// --! config: ../examples/destination.json
/// ```
///
/// Only the comment block at the top counts (blank lines and `--` comments); paths are relative
/// to the test file; `rules: none` tests the plain mapping; a directory means its rules.
struct LuaTestHeader {
    var rules: [String]?
    var config: String?
    var configLine: Int?

    static func parse(_ source: String, path: String) throws(TestLoadError) -> LuaTestHeader {
        var header = LuaTestHeader()
        let directory = TestPaths.directory(of: path)
        var lineNumber = 0
        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || (lineNumber == 1 && line.hasPrefix("#!")) { continue }
            guard line.hasPrefix("--") else { break }
            if line.hasPrefix("--[[") || line.hasPrefix("--[=") { break }
            guard line.hasPrefix("--!") else { continue }
            let body = line.dropFirst(3)
            guard let colon = body.firstIndex(of: ":") else {
                throw TestLoadError(file: path, line: lineNumber, message: "a declaration reads '--! rules: a.lua, b.lua' or '--! config: file.json'")
            }
            let key = body[..<colon].trimmingCharacters(in: .whitespaces)
            let value = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "rules":
                guard header.rules == nil else { throw TestLoadError(file: path, line: lineNumber, message: "rules are declared twice") }
                if value == "none" || value.isEmpty {
                    header.rules = []
                } else {
                    header.rules = value.split(separator: ",").map {
                        TestPaths.join(directory, $0.trimmingCharacters(in: .whitespaces))
                    }
                }
            case "config":
                guard header.config == nil else { throw TestLoadError(file: path, line: lineNumber, message: "the config is declared twice") }
                guard !value.isEmpty else { throw TestLoadError(file: path, line: lineNumber, message: "'--! config:' needs a file path") }
                header.config = TestPaths.join(directory, value)
                header.configLine = lineNumber
            default:
                throw TestLoadError(file: path, line: lineNumber, message: "unknown declaration '\(key)' (declarations are rules and config)")
            }
        }
        return header
    }
}
