import ArgumentParser
import PinRules

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Map NDJSON events to one outcome line each.",
        discussion: """
            Reads RudderStack events, one JSON object per line, and writes exactly one outcome \
            line per input line, in input order: sent (with the pintrk calls), dropped (with the \
            reason), skipped, error (with the original event) or invalid (with the raw line).

            Exit status: 0 when the run completed, whatever the outcomes; 2 when the config or a \
            rule cannot be loaded (nothing is written to standard output); 1 when reading or \
            writing fails.

            Example:
              pinrules map --config destination.json --rules rules/ events.ndjson > outcomes.ndjson
              cat events.ndjson | pinrules map --config destination.json --rules rules/10_a.lua -
            """
    )

    @Option(name: .long, help: "The destination config JSON (bare or {\"Config\": {...}}).")
    var config: String

    @Option(name: .long, help: "A rule file, or a directory of *.lua rules (not *_test.lua). Repeatable; rules run in the order given.")
    var rules: [String] = []

    @Option(name: [.short, .long], help: "Write outcomes to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: "Workers mapping in parallel, each with its own sandbox; output order is kept.")
    var jobs: Int = 1

    @Flag(name: .long, help: "Print counts per status to standard error (also when standard error is a terminal).")
    var summary = false

    @OptionGroup var limits: SandboxLimitOptions

    @Argument(help: "The NDJSON input file; - or nothing for standard input.")
    var input: String?

    func validate() throws {
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    func run() throws {
        let engine: PinRulesEngine
        do {
            engine = try PinRulesEngine(configPath: config, rulePaths: rules, options: limits.engineOptions)
        } catch {
            Diagnostics.error(error.description)
            throw ExitCode(ExitStatus.loadError)
        }
        for warning in engine.configWarnings { Diagnostics.warning("\(config): \(warning)") }
        for warning in engine.loadWarnings { Diagnostics.warning(warning) }

        let inputDescriptor: Int32
        if let input, input != "-" {
            inputDescriptor = open(input, O_RDONLY)
            guard inputDescriptor >= 0 else {
                Diagnostics.error("cannot open \(input): \(String(cString: strerror(errno)))")
                throw ExitCode(ExitStatus.failure)
            }
        } else {
            inputDescriptor = 0
        }
        let outputDescriptor: Int32
        if let output {
            outputDescriptor = open(output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard outputDescriptor >= 0 else {
                Diagnostics.error("cannot open \(output): \(String(cString: strerror(errno)))")
                throw ExitCode(ExitStatus.failure)
            }
        } else {
            outputDescriptor = 1
        }
        defer {
            if inputDescriptor > 2 { close(inputDescriptor) }
            if outputDescriptor > 2 { close(outputDescriptor) }
        }
        let result: StreamSummary
        do {
            result = try engine.mapStream(input: inputDescriptor, output: outputDescriptor, jobs: jobs)
        } catch {
            Diagnostics.error(error.description)
            throw ExitCode(ExitStatus.failure)
        }
        if summary || Diagnostics.standardErrorIsTerminal {
            Diagnostics.note(result.description)
        }
    }
}
