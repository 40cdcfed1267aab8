import Foundation
import XCTest

/// A folder of suite fixtures in the temporary directory, removed at the end of the test.
final class SuiteFolder {
    let path: String

    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "pinrules-test-" + UUID().uuidString
        for (name, text) in files {
            let full = path + "/" + name
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs the built `pinrules` binary (`.build/debug/pinrules`, next to the package root).
enum PinrulesBinary {
    static var path: String {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/pinrules").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], in directory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// Fixture texts shared by the runner tests: a config and the two rules of issue 5's example.
enum Fixtures {
    static let destination = #"{"tagId": "2612345678901", "eventsMapping": [{"from": "Lead Generated", "to": "Lead"}]}"#

    static let internalRule = """
        return {
          before = function(event, ctx)
            if event.event == "Internal Ping" then
              return drop("internal traffic")
            end
          end,
        }
        """

    static let newsletterRule = """
        return {
          before = function(event, ctx)
            if event.event == "Newsletter Subscribed" then
              event.event = "Lead Generated"
              event.properties = event.properties or {}
              event.properties.lead_type = "newsletter"
            end
          end,
        }
        """

    static let loopRule = """
        return {
          before = function(event, ctx)
            if event.event == "Loop" then
              while true do end
            end
          end,
        }
        """

    static let set = #"["set", {"opt_out_type": "", "st": "", "country": ""}]"#
}

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A JUnit report read back with XMLParser: fails on anything that is not well-formed XML.
struct JUnitDocument {
    struct Case {
        var name: String
        var attributes: [String: String]
        var failure: String?
        var error: String?
        var text = ""
    }

    var rootAttributes: [String: String] = [:]
    var suites: [[String: String]] = []
    var cases: [Case] = []

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    init(_ xml: String) throws {
        let delegate = Delegate()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = delegate
        guard parser.parse() else {
            throw ParseError(description: "not well-formed: \(parser.parserError.map { "\($0)" } ?? "?")\n\(xml)")
        }
        guard delegate.root == "testsuites" else { throw ParseError(description: "root is \(delegate.root ?? "none")") }
        rootAttributes = delegate.rootAttributes
        suites = delegate.suites
        cases = delegate.cases
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var root: String?
        var rootAttributes: [String: String] = [:]
        var suites: [[String: String]] = []
        var cases: [Case] = []
        var inBody = false

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if root == nil {
                root = name
                rootAttributes = attributes
            }
            switch name {
            case "testsuite": suites.append(attributes)
            case "testcase": cases.append(Case(name: attributes["name"] ?? "", attributes: attributes))
            case "failure":
                cases[cases.count - 1].failure = attributes["message"] ?? ""
                inBody = true
            case "error":
                cases[cases.count - 1].error = attributes["message"] ?? ""
                inBody = true
            default: break
            }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "failure" || name == "error" { inBody = false }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inBody { cases[cases.count - 1].text += string }
        }
    }
}

/// Checks TAP version 14 output: the version line, a plan matching the test points, points
/// numbered in order, YAML blocks opened with `  ---` and closed with `  ...`.
enum TAPChecker {
    struct Point {
        var ok: Bool
        var number: Int
        var description: String
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func check(_ text: String) throws -> [Point] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == "TAP version 14" else { throw Invalid(description: "no version line") }
        var plan: Int?
        var points: [Point] = []
        var index = 1
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("1..") {
                guard plan == nil, let count = Int(line.dropFirst(3)) else { throw Invalid(description: "bad plan: \(line)") }
                plan = count
            } else if line.hasPrefix("ok ") || line.hasPrefix("not ok ") {
                let ok = line.hasPrefix("ok ")
                let rest = line.dropFirst(ok ? 3 : 7)
                let digits = rest.prefix { $0.isNumber }
                guard let number = Int(digits), number == points.count + 1 else { throw Invalid(description: "bad numbering: \(line)") }
                let description = rest.dropFirst(digits.count)
                guard description.hasPrefix(" - ") else { throw Invalid(description: "no description: \(line)") }
                // An unescaped # would start a directive.
                var previous: Character = " "
                for character in description {
                    if character == "#" && previous != "\\" { throw Invalid(description: "unescaped #: \(line)") }
                    previous = character
                }
                points.append(Point(ok: ok, number: number, description: String(description.dropFirst(3))))
                if index + 1 < lines.count, lines[index + 1] == "  ---" {
                    index += 2
                    while index < lines.count, lines[index] != "  ..." {
                        guard lines[index].hasPrefix("  ") else { throw Invalid(description: "YAML line not indented: \(lines[index])") }
                        index += 1
                    }
                    guard index < lines.count else { throw Invalid(description: "unterminated YAML block") }
                }
            } else {
                throw Invalid(description: "unexpected line: \(line)")
            }
            index += 1
        }
        guard let plan, plan == points.count else { throw Invalid(description: "plan does not match \(points.count) points") }
        return points
    }
}
