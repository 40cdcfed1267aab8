import ArgumentParser
import Foundation
import PinJSON
import PinRules

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Print the calls that load the Pinterest tag.",
        discussion: """
            Prints the load calls as a JSON array, or as the JavaScript loader snippet (Pinterest's \
            stub, then pintrk('load', ...) and pintrk('page')). With enhanced match on and an email \
            in the traits, load carries {"em": email}.

            Example:
              pinrules init --config destination.json --traits traits.json
              [["load","2612345678901",{"em":"a@b.com"}],["page"]]
            """
    )

    @Option(name: .long, help: "The destination config JSON.")
    var config: String

    @Option(name: .long, help: "A JSON object of stored user traits (from earlier identify calls).")
    var traits: String?

    @Option(name: .long, help: "Output format: json or js.")
    var format: String = "json"

    func run() throws {
        guard let chosen = TagLoadingFormat(rawValue: format) else {
            throw ValidationError("--format must be json or js")
        }
        let engine: PinRulesEngine
        do {
            engine = try PinRulesEngine(configPath: config, rulePaths: [])
        } catch {
            Diagnostics.error(error.description)
            throw ExitCode(ExitStatus.loadError)
        }
        for warning in engine.configWarnings { Diagnostics.warning("\(config): \(warning)") }
        var traitsValue: JSONValue? = nil
        if let traits {
            guard let data = FileManager.default.contents(atPath: traits) else {
                Diagnostics.error("cannot read \(traits)")
                throw ExitCode(ExitStatus.failure)
            }
            do {
                traitsValue = try JSONParser().parse(Array(data))
            } catch {
                Diagnostics.error("\(traits): not valid JSON: \(error)")
                throw ExitCode(ExitStatus.loadError)
            }
        }
        do {
            let text = try engine.tagLoading(traits: traitsValue, format: chosen)
            print(text.hasSuffix("\n") ? String(text.dropLast()) : text)
        } catch {
            Diagnostics.error("\(config): \(error.description)")
            throw ExitCode(ExitStatus.loadError)
        }
    }
}
