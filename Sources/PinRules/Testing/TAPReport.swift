import Foundation
import PinJSON

/// TAP version 14: one test point per case (`ok 3 - rules/x.cases.json: name`), failures with a
/// YAML block (message, location, diff lines, what the rules did); a suite that cannot be
/// loaded is a failing point of its own.
public enum TAPReport {
    /// - parameter verbose: passing points get a YAML block with what the rules used.
    public static func render(_ report: TestReport, verbose: Bool = false) -> String {
        var points: [String] = []
        func add(ok: Bool, description: String, yaml: [String]) {
            var text = "\(ok ? "ok" : "not ok") \(points.count + 1) - \(escape(description))"
            if !yaml.isEmpty {
                text += "\n  ---\n" + yaml.map { "  " + $0 }.joined(separator: "\n") + "\n  ..."
            }
            points.append(text)
        }
        for error in report.discoveryErrors {
            add(ok: false, description: "\(error.file): could not be loaded", yaml: ["message: \(quote(error.description))"])
        }
        for suite in report.suites {
            if let error = suite.loadError {
                add(ok: false, description: "\(suite.path): could not be loaded", yaml: ["message: \(quote(error.description))"])
                continue
            }
            for result in suite.cases {
                var yaml: [String] = []
                if result.status == .failed {
                    yaml.append("message: \(quote(result.failure.first ?? "failed"))")
                    let line = result.failureLine ?? result.line
                    yaml.append("at: \(quote(line.map { "\(suite.path):\($0)" } ?? suite.path))")
                    if result.failure.count > 1 {
                        yaml.append("details:")
                        yaml += result.failure.dropFirst().map { "  - \(quote($0))" }
                    }
                    if !result.context.isEmpty {
                        yaml.append("rules_did:")
                        yaml += result.context.map { "  - \(quote($0))" }
                    }
                }
                if !result.output.isEmpty, result.status == .failed || verbose {
                    yaml.append("output:")
                    yaml += result.output.map { "  - \(quote($0))" }
                }
                if verbose {
                    yaml.append("usage:")
                    yaml.append("  runs: \(result.usage.runs)")
                    yaml.append("  instructions: \(result.usage.instructions)")
                    yaml.append("  peak_memory_bytes: \(result.usage.peakMemoryBytes)")
                    yaml.append("  time_ms: \(Double(result.usage.nanoseconds) / 1_000_000)")
                }
                add(ok: result.status == .passed, description: "\(suite.path): \(result.name)", yaml: yaml)
            }
        }
        return "TAP version 14\n1..\(points.count)\n" + points.map { $0 + "\n" }.joined()
    }

    /// A description must not contain `#` (it starts a directive) or a line break.
    static func escape(_ description: String) -> String {
        description.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "#", with: "\\#")
            .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    /// A YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func quote(_ text: String) -> String {
        JSONWriter.string(.string(text))
    }
}
