import ArgumentParser
import PinRules

/// Limit options shared by the commands that run rules.
struct SandboxLimitOptions: ParsableArguments {
    @Option(name: .customLong("memory-limit"), help: "Memory per rule sandbox, in MiB.")
    var memoryMiB: Int = 64

    @Option(name: .customLong("instruction-limit"), help: "Lua instructions per hook call.")
    var instructions: Int64 = 10_000_000

    @Option(name: .customLong("time-limit"), help: "Wall-clock time per hook call, in milliseconds.")
    var milliseconds: Int = 1000

    func validate() throws {
        guard memoryMiB > 0, instructions > 0, milliseconds > 0 else {
            throw ValidationError("limits must be positive")
        }
    }

    var engineOptions: EngineOptions {
        EngineOptions(memoryBytes: memoryMiB << 20, instructions: instructions, timeLimit: .milliseconds(milliseconds))
    }
}
