import PinJSON

/// One finding of `pinrules check`.
public struct RuleDiagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var file: String
    /// 1-based, when known.
    public var line: Int?
    /// 1-based, when known.
    public var column: Int?
    public var message: String

    public init(severity: Severity, file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `rules/x.lua:3:7: error: ...`
    public var description: String {
        "\(sourcePosition(file: file, line: line, column: column)): \(severity.rawValue): \(message)"
    }
}

/// `file`, `file:line` or `file:line:column`, as compilers print positions.
func sourcePosition(file: String, line: Int?, column: Int?) -> String {
    guard let line else { return file }
    guard let column else { return "\(file):\(line)" }
    return "\(file):\(line):\(column)"
}

/// Loads a config and rules without mapping anything, as `pinrules check` does: every rule is
/// compiled and its top level run in a sandbox, and its source is scanned for names the sandbox
/// does not offer.
public enum RuleChecker {
    public static func check(rulePaths: [String], configPath: String?) -> [RuleDiagnostic] {
        var diagnostics: [RuleDiagnostic] = []
        var configJSON: JSONValue = .object([:])
        if let configPath {
            do {
                let engine = try PinRulesEngine(configPath: configPath, rulePaths: [])
                configJSON = engine.configJSON
                diagnostics += engine.configWarnings.map { RuleDiagnostic(severity: .warning, file: configPath, message: $0) }
            } catch {
                diagnostics.append(RuleDiagnostic(severity: .error, file: configPath, message: error.description))
            }
        }
        let sources: [RuleSource]
        do {
            sources = try RuleSource.load(paths: rulePaths)
        } catch {
            if case .ruleFile(let path, let message) = error {
                diagnostics.append(RuleDiagnostic(severity: .error, file: path, message: message))
            }
            return diagnostics
        }
        for source in sources {
            do {
                let engine = try PinRulesEngine(configJSON: configJSON, rules: [source])
                diagnostics += engine.loadWarnings.map { RuleDiagnostic(severity: .warning, file: source.path, message: $0) }
            } catch {
                diagnostics.append(diagnostic(for: error, path: source.path))
            }
            diagnostics += RuleLinter.lint(source.source, path: source.path)
        }
        return diagnostics
    }

    private static func diagnostic(for error: EngineError, path: String) -> RuleDiagnostic {
        switch error {
        case .ruleSyntax(_, let line, let column, let message):
            return RuleDiagnostic(severity: .error, file: path, line: line, column: column, message: "syntax error: \(message)")
        case .ruleLoad(_, let line, let message):
            return RuleDiagnostic(severity: .error, file: path, line: line, message: message)
        default:
            return RuleDiagnostic(severity: .error, file: path, message: error.description)
        }
    }
}
