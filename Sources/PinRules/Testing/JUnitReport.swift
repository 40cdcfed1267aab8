import Foundation

/// JUnit XML, as CI systems read it: one `<testsuite>` per suite file, one `<testcase>` per
/// case, `<failure>` with the diff lines; a suite that cannot be loaded is a `<testcase>`
/// named `(load)` holding an `<error>`.
public enum JUnitReport {
    public static func xml(_ report: TestReport) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let errors = report.loadErrors.count
        let total = report.suites.reduce(0) { $0 + $1.cases.count } + errors
        let time = report.suites.reduce(UInt64(0)) { $0 + $1.nanoseconds }
        out += "<testsuites name=\"pinrules\" tests=\"\(total)\" failures=\"\(report.failed)\" errors=\"\(errors)\" time=\"\(seconds(time))\">\n"
        for error in report.discoveryErrors {
            out += "  <testsuite name=\"\(escape(error.file))\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000000\">\n"
            out += loadErrorCase(error, suite: error.file)
            out += "  </testsuite>\n"
        }
        for suite in report.suites {
            let failures = suite.cases.filter { $0.status == .failed }.count
            let suiteErrors = suite.loadError == nil ? 0 : 1
            out += "  <testsuite name=\"\(escape(suite.path))\" tests=\"\(suite.cases.count + suiteErrors)\" failures=\"\(failures)\" errors=\"\(suiteErrors)\" skipped=\"0\" time=\"\(seconds(suite.nanoseconds))\" file=\"\(escape(suite.path))\">\n"
            if let error = suite.loadError { out += loadErrorCase(error, suite: suite.path) }
            for result in suite.cases {
                var attributes = "name=\"\(escape(result.name))\" classname=\"\(escape(suite.path))\" file=\"\(escape(suite.path))\""
                if let line = result.line { attributes += " line=\"\(line)\"" }
                attributes += " time=\"\(seconds(result.nanoseconds))\""
                if result.status == .passed && result.output.isEmpty {
                    out += "    <testcase \(attributes)/>\n"
                    continue
                }
                out += "    <testcase \(attributes)>\n"
                if result.status == .failed {
                    let body = result.failure + result.context.map { "rules did: \($0)" }
                    out += "      <failure message=\"\(escape(result.failure.first ?? "failed"))\" type=\"assertion\">\(escape(body.joined(separator: "\n")))</failure>\n"
                }
                if !result.output.isEmpty {
                    out += "      <system-out>\(escape(result.output.joined(separator: "\n")))</system-out>\n"
                }
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    private static func loadErrorCase(_ error: TestLoadError, suite: String) -> String {
        var out = "    <testcase name=\"(load)\" classname=\"\(escape(suite))\" file=\"\(escape(error.file))\""
        if let line = error.line { out += " line=\"\(line)\"" }
        out += " time=\"0.000000\">\n"
        out += "      <error message=\"\(escape(error.description))\" type=\"load\">\(escape(error.description))</error>\n"
        out += "    </testcase>\n"
        return out
    }

    static func seconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.6f", Double(nanoseconds) / 1e9)
    }

    /// Escapes text for attributes and content; characters XML 1.0 cannot hold at all (most
    /// control characters, which rule output may contain) become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default:
                let value = scalar.value
                if value < 0x20 || value == 0xFFFE || value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
