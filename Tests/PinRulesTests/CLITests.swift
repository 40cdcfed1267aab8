import Foundation
import XCTest
import PinJSON

/// Runs the built `pinrules` binary on files and standard input.
final class CLITests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        let candidates = [".build/debug/pinrules", ".build/release/pinrules"].map { packageRoot.appendingPathComponent($0) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    struct Run {
        var status: Int32
        var stdout: Data
        var stderr: String
        var lines: [String] { String(decoding: stdout, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
        var outcomes: [JSONValue] { lines.compactMap { try? JSONParser().parse($0) } }
    }

    var directory: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the pinrules product first")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pinrules-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try write("config.json", #"{"Config": {"tagId": "2612345678901", "eventsMapping": [{"from": "Lead Generated", "to": "Lead"}]}}"#)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Data(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url.path
    }

    func run(_ arguments: [String], stdin: Data? = nil) throws -> Run {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = Pipe()
        process.standardInput = input
        try process.run()
        // Feed and drain concurrently so large inputs and outputs cannot deadlock on full pipes.
        let writer = Thread {
            if let stdin { input.fileHandleForWriting.write(stdin) }
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let errorData = LockedData()
        let errorReader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        errorReader.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1000) }
        return Run(status: process.terminationStatus, stdout: out, stderr: String(decoding: errorData.value, as: UTF8.self))
    }

    final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private var done = false
        func set(_ value: Data) { lock.lock(); data = value; done = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return done }
        var value: Data { lock.lock(); defer { lock.unlock() }; return data }
    }

    // MARK: map

    func testMapFileAndStandardInputGiveTheSameOutcomes() throws {
        let events = """
            {"type":"track","event":"Lead Generated","messageId":"m1","properties":{}}
            {"type":"group","messageId":"m2"}

            """
        let file = try write("events.ndjson", events)
        let fromFile = try run(["map", "--config", "config.json", file])
        let fromStdin = try run(["map", "--config", "config.json", "-"], stdin: Data(events.utf8))
        XCTAssertEqual(fromFile.status, 0)
        XCTAssertEqual(fromFile.stdout, fromStdin.stdout)
        XCTAssertEqual(fromFile.lines, [
            #"{"line":1,"messageId":"m1","status":"sent","pintrk":[["set",{"opt_out_type":"","st":"","country":""}],["track","Lead",{"line_items":[{}],"event_id":"m1"}]]}"#,
            #"{"line":2,"messageId":"m2","status":"skipped","reason":"message type \"group\" is not supported by the Pinterest Tag destination"}"#,
        ])
    }

    func testOutputFileAndSummary() throws {
        let file = try write("events.ndjson", #"{"type":"track","event":"x","messageId":"m1"}"# + "\n")
        let result = try run(["map", "--config", "config.json", "--output", "out.ndjson", "--summary", file])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.isEmpty)
        XCTAssertTrue(result.stderr.contains("1 lines: 1 sent"), result.stderr)
        let written = try String(contentsOf: directory.appendingPathComponent("out.ndjson"), encoding: .utf8)
        XCTAssertTrue(written.hasPrefix(#"{"line":1,"messageId":"m1","status":"sent""#))
    }

    func testEveryMalformedLineGetsExactlyOneOutcome() throws {
        var input = Data()
        let lines: [Data] = [
            Data("not json".utf8),
            Data("[1,2]".utf8),
            Data("42".utf8),
            Data(#"{"type":"#.utf8),
            Data(#"{"type": 5, "event": ["x"], "messageId": {"a": 1}}"#.utf8),
            Data([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]),                        // invalid UTF-8
            Data([0xEF, 0xBB, 0xBF]) + Data(#"{"type":"track","event":"bom","messageId":"b"}"#.utf8), // BOM
            Data(#"{"type":"track","event":"crlf","messageId":"c"}"#.utf8) + Data([0x0D]),            // CRLF
            Data(String(repeating: "[", count: 10_000).utf8) + Data(String(repeating: "]", count: 10_000).utf8),
            Data(#"{"type":"track","event":"big","messageId":"s","properties":{"x":""#.utf8) + Data(repeating: 0x61, count: 8 << 20) + Data(#""}}"#.utf8),
            Data(),
            Data(#"{"type":"track","event":"last","messageId":"z"}"#.utf8),
        ]
        for line in lines { input += line + Data([0x0A]) }
        let result = try run(["map", "--config", "config.json"], stdin: input)
        XCTAssertEqual(result.status, 0, result.stderr)
        let outcomes = result.outcomes
        XCTAssertEqual(outcomes.count, lines.count, "one outcome per line")
        XCTAssertEqual(outcomes.map { $0["line"] }, (1...lines.count).map { .integer(Int64($0)) })
        let statuses = outcomes.map { $0["status"]?.stringValue ?? "?" }
        XCTAssertEqual(statuses, ["invalid", "invalid", "invalid", "invalid", "skipped", "invalid", "sent", "sent", "invalid", "sent", "invalid", "sent"])
        XCTAssertEqual(outcomes[0]["raw"], "not json")
        XCTAssertEqual(outcomes[3]["error"]?["message"], "unexpected end of input at byte 8")
    }

    func testHostileRuleYieldsAnErrorAndTheNextEventIsMapped() throws {
        let rule = try write("rules/10_loop.lua", #"return { before = function(e) if e.event == "loop" then while true do end end end }"#)
        let events = """
            {"type":"track","event":"loop","messageId":"m1"}
            {"type":"track","event":"Lead Generated","messageId":"m2"}
            """
        let result = try run(["map", "--config", "config.json", "--rules", rule, "--instruction-limit", "1000000"], stdin: Data(events.utf8))
        XCTAssertEqual(result.status, 0)
        let outcomes = result.outcomes
        XCTAssertEqual(outcomes.count, 2)
        XCTAssertEqual(outcomes[0]["status"], "error")
        XCTAssertEqual(outcomes[0]["error"]?["kind"], "limit")
        XCTAssertEqual(outcomes[0]["error"]?["rule"], "10_loop.lua")
        XCTAssertEqual(outcomes[0]["event"]?["messageId"], "m1")
        XCTAssertEqual(outcomes[1]["status"], "sent")
    }

    func testRulesDirectoryLoadsLuaFilesInNameOrderSkippingTests() throws {
        try write("rules/20_second.lua", #"return { before = function(e) e.properties.order = e.properties.order .. "2" end }"#)
        try write("rules/10_first.lua", #"return { before = function(e) e.properties.order = "1" end }"#)
        try write("rules/10_first_test.lua", "this is not a rule and would not compile")
        try write("rules/sub/30_ignored.lua", "neither is this")
        try write("custom.json", #"{"tagId": "2612345678901", "customProperties": [{"properties": "order"}]}"#)
        let result = try run(["map", "--config", "custom.json", "--rules", "rules"], stdin: Data(#"{"type":"track","event":"x","messageId":"m","properties":{}}"#.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.outcomes.first?["pintrk"]?.arrayValue?.last?.arrayValue?.last?["order"], "12")
    }

    func testLoadErrorsExitTwoWithPositionAndNothingOnStandardOutput() throws {
        let broken = try write("rules/bad.lua", "return {\n  before = function(e)\n    e.x = \n  end }\n")
        let syntax = try run(["map", "--config", "config.json", "--rules", broken], stdin: Data("{}\n".utf8))
        XCTAssertEqual(syntax.status, 2)
        XCTAssertTrue(syntax.stdout.isEmpty)
        XCTAssertTrue(syntax.stderr.contains("bad.lua:4:3:"), syntax.stderr)

        try write("bad-config.json", #"{"tagId": "2612345678901", "eventsMapping": [{"from": "a", "to": "Chekout"}]}"#)
        let config = try run(["map", "--config", "bad-config.json"], stdin: Data("{}\n".utf8))
        XCTAssertEqual(config.status, 2)
        XCTAssertTrue(config.stdout.isEmpty)
        XCTAssertTrue(config.stderr.contains("eventsMapping[0].to"), config.stderr)

        let missing = try run(["map", "--config", "config.json", "no-such-file.ndjson"])
        XCTAssertEqual(missing.status, 1)
    }

    func testJobsGiveByteIdenticalOutput() throws {
        try write("rules/10_rule.lua", #"return { before = function(e) if e.event == "drop me" then return drop("no") end; e.properties.n = #e.event end }"#)
        var lines: [String] = []
        for index in 0..<3000 {
            switch index % 5 {
            case 0: lines.append(#"{"type":"track","event":"Order Completed","messageId":"m\#(index)","properties":{"revenue":\#(index),"products":[{"sku":"s\#(index)","price":1.5}]}}"#)
            case 1: lines.append(#"{"type":"track","event":"drop me","messageId":"m\#(index)","properties":{}}"#)
            case 2: lines.append(#"{"type":"page","name":"p\#(index)","messageId":"m\#(index)"}"#)
            case 3: lines.append("broken \(index)")
            default: lines.append(#"{"type":"identify","messageId":"m\#(index)","context":{"traits":{"email":"u\#(index)@x.com"}}}"#)
            }
        }
        let file = try write("events.ndjson", lines.joined(separator: "\n") + "\n")
        let one = try run(["map", "--config", "config.json", "--rules", "rules", file])
        let two = try run(["map", "--config", "config.json", "--rules", "rules", "--jobs", "2", file])
        XCTAssertEqual(one.status, 0)
        XCTAssertEqual(two.status, 0)
        XCTAssertEqual(one.lines.count, 3000)
        XCTAssertEqual(one.stdout, two.stdout)
    }

    // MARK: init and check

    func testInitPrintsLoadCalls() throws {
        try write("traits.json", #"{"email": "a@b.com"}"#)
        let json = try run(["init", "--config", "config.json", "--traits", "traits.json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        XCTAssertEqual(json.lines, [#"[["load","2612345678901",{"em":"a@b.com"}],["page"]]"#])
        let js = try run(["init", "--config", "config.json", "--format", "js"])
        XCTAssertEqual(js.status, 0)
        let text = String(decoding: js.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("pintrk('load', '2612345678901');"), text)
        XCTAssertTrue(text.contains("pintrk('page');"), text)
        try write("no-tag.json", "{}")
        XCTAssertEqual(try run(["init", "--config", "no-tag.json"]).status, 2)
    }

    func testCheckReportsSyntaxErrorsWithPositionAndExitsOne() throws {
        try write("rules/good.lua", "return { before = function(e) end }")
        try write("rules/bad.lua", "return { before = function(e) local = 1 end }")
        let result = try run(["check", "--config", "config.json", "rules"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("bad.lua:1:37: error: syntax error"), result.stderr)
        let good = try run(["check", "rules/good.lua"])
        XCTAssertEqual(good.status, 0, good.stderr)
    }

    func testEveryCommandHasHelpWithAnExample() throws {
        for command in [[], ["map"], ["init"], ["check"]] {
            let help = try run(command + ["--help"])
            XCTAssertEqual(help.status, 0, "\(command)")
            let text = String(decoding: help.stdout, as: UTF8.self)
            XCTAssertTrue(text.contains("USAGE"), "\(command)")
            XCTAssertTrue(text.contains("pinrules"), "\(command)")
            XCTAssertTrue(text.lowercased().contains("example"), "\(command)")
        }
    }
}
