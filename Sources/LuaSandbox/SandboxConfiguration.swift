/// Limits that apply to every call into the sandbox (and to loading a chunk, whose top-level
/// code runs under the same limits). See docs/sandbox.md for the reasoning behind the defaults.
public struct SandboxLimits: Sendable, Equatable {
    /// Bytes the whole Lua state may hold (loaded rules, their data, the values of the call).
    public var memoryBytes: Int
    /// Lua VM instructions per call, plus work charged by library functions that run in C
    /// (pattern matching steps, `string.rep`, `table.sort`, `table.move`, `load`).
    public var instructions: Int64
    /// Wall-clock time per call.
    public var deadline: Duration

    public init(memoryBytes: Int = 64 << 20, instructions: Int64 = 10_000_000, deadline: Duration = .seconds(1)) {
        self.memoryBytes = memoryBytes
        self.instructions = instructions
        self.deadline = deadline
    }

    public static let `default` = SandboxLimits()

    /// No limits at all: for trusted code in tools, never for rules.
    public static let none = SandboxLimits(memoryBytes: 0, instructions: 0, deadline: .zero)
}

/// How a sandbox is built.
public struct SandboxConfiguration: Sendable, Equatable {
    public var limits: SandboxLimits
    /// Instructions between two checks of the limits. Smaller is more precise and slower.
    public var hookInterval: Int
    /// Deepest nesting of tables a value may have to cross the bridge (either way); at most 1024.
    public var maxDepth: Int
    /// Largest result, in bytes of its encoded form, that a call may return.
    public var maxResultBytes: Int
    /// Seed of `math.random`; runs with the same seed see the same numbers.
    public var randomSeed: Int64
    /// When set, `os.time()` returns this instant (seconds since 1970) and `os.date()` formats
    /// it, so tests are deterministic; `os.clock()` returns 0.
    public var fixedTime: Int64?
    /// Record which lines of each chunk run (for test coverage); slows every call.
    public var recordsLineCoverage: Bool
    /// Turns the limit hook and the memory cap off. Only for measuring what the guards cost:
    /// an unguarded sandbox does not contain rule code.
    public var unguardedForMeasurement = false

    public init(
        limits: SandboxLimits = .default, hookInterval: Int = 1000, maxDepth: Int = 256,
        maxResultBytes: Int = 16 << 20, randomSeed: Int64 = 0, fixedTime: Int64? = nil,
        recordsLineCoverage: Bool = false
    ) {
        self.recordsLineCoverage = recordsLineCoverage
        self.limits = limits
        self.hookInterval = hookInterval
        self.maxDepth = maxDepth
        self.maxResultBytes = maxResultBytes
        self.randomSeed = randomSeed
        self.fixedTime = fixedTime
    }
}

/// What one call used.
public struct CallStatistics: Sendable, Equatable {
    /// VM instructions and charged work, counted in steps of the hook interval.
    public var instructions: Int64
    /// Peak bytes held by the Lua state during the call.
    public var peakMemoryBytes: Int
    /// Wall-clock time of the call, nanoseconds.
    public var nanoseconds: UInt64

    public init(instructions: Int64 = 0, peakMemoryBytes: Int = 0, nanoseconds: UInt64 = 0) {
        self.instructions = instructions
        self.peakMemoryBytes = peakMemoryBytes
        self.nanoseconds = nanoseconds
    }
}
