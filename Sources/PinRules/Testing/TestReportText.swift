import Foundation
/// The human-readable report of `pinrules test`, ending with the exact line `N passed, M failed`.
public enum TestReportText {
    /// - parameter verbose: also list passing cases, and per case what the rules used
    ///   (instructions, peak memory, time).
    public static func render(_ report: TestReport, verbose: Bool = false) -> String {
        var lines: [String] = []
        for error in report.discoveryErrors { lines.append("ERROR \(error)") }
        for suite in report.suites {
            if let error = suite.loadError {
                lines.append("ERROR \(error)")
                continue
            }
            for result in suite.cases {
                let place = result.line.map { "\(suite.path):\($0)" } ?? suite.path
                let usage = verbose ? "  (\(result.usage.description))" : ""
                switch result.status {
                case .passed:
                    guard verbose else { continue }
                    lines.append("ok   \(place) \(quoted(result.name))\(usage)")
                    for line in result.output { lines.append("    print: " + line) }
                case .failed:
                    lines.append("FAIL \(place) \(quoted(result.name))\(usage)")
                    for line in result.failure { lines.append("    " + line) }
                    for line in result.context { lines.append("    rules did: " + line) }
                    for line in result.output { lines.append("    print: " + line) }
                }
            }
        }
        if let coverage = report.coverage {
            if !lines.isEmpty { lines.append("") }
            lines.append("coverage:")
            if coverage.isEmpty { lines.append("  no rule was loaded") }
            for file in coverage {
                var line = "  \(file.path): \(file.executableLines.count - file.missedLines.count)/\(file.executableLines.count) lines (\(file.percent)%)"
                if !file.missedLines.isEmpty { line += ", never executed: " + ranges(file.missedLines) }
                lines.append(line)
            }
        }
        let unloadable = report.loadErrors.count
        if !lines.isEmpty { lines.append("") }
        if unloadable > 0 {
            lines.append("\(unloadable) suite\(unloadable == 1 ? "" : "s") could not be loaded")
        }
        lines.append(report.summaryLine)
        return lines.joined(separator: "\n") + "\n"
    }

    /// `[3, 4, 5, 9]` → `3-5, 9`.
    public static func ranges(_ numbers: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = numbers.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.joined(separator: ", ")
    }

    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
