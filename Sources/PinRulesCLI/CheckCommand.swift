import ArgumentParser
import PinRules

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Load a config and rules without mapping anything; report problems.",
        discussion: """
            Compiles every rule and runs its top level in the sandbox. Errors (syntax errors with \
            file:line:col, rules that fail to load, a bad config) make the exit status 1. Warnings \
            name uses of things the sandbox does not offer (io, os.execute, require, ...) and \
            undeclared globals.

            Example:
              pinrules check --config destination.json rules/
              rules/20_bad.lua:7:12: error: syntax error: '=' expected near 'x'
            """
    )

    @Option(name: .long, help: "The destination config JSON to validate too.")
    var config: String?

    @Argument(help: "Rule files or directories of rules.")
    var paths: [String]

    func validate() throws {
        guard !paths.isEmpty || config != nil else { throw ValidationError("give rule paths, --config, or both") }
    }

    func run() throws {
        let diagnostics = RuleChecker.check(rulePaths: paths, configPath: config)
        for diagnostic in diagnostics { Diagnostics.note(diagnostic.description) }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        Diagnostics.note("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        if errors > 0 { throw ExitCode(ExitStatus.failure) }
    }
}
