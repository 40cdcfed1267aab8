import ArgumentParser

@main
struct PinRulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pinrules",
        abstract: "Map RudderStack events to Pinterest Tag calls, adjusted by sandboxed Lua rules.",
        discussion: """
            Examples:
              pinrules map --config destination.json --rules rules/ events.ndjson
              pinrules init --config destination.json --traits traits.json --format js
              pinrules check --config destination.json rules/
              pinrules test rules
            Documentation: docs/cli.md, docs/rules.md, docs/mapping.md, docs/sandbox.md, docs/testing.md.
            """,
        version: "0.1.0",
        subcommands: [MapCommand.self, InitCommand.self, CheckCommand.self, TestCommand.self]
    )
}
