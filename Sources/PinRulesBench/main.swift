// PinRules benchmarks: `make bench` (release build). Not part of `make test`.
//
//   PinRulesBench generate N [SEED]     deterministic NDJSON events on standard output
//   PinRulesBench [N]                   run every benchmark on N generated events (default 200000)
import Foundation
import LuaSandbox
import PinJSON
import PinRules
import PinterestTag

#if canImport(Glibc)
import Glibc
#endif

let benchRule = """
    return { before = function(e)
      if not e.messageId then return drop("no messageId") end
      if e.event == "Newsletter Subscribed" then e.event = "Lead" end
      if type(e.properties) == "table" then e.properties.property = "pinrules-bench" end
    end }
    """

let benchConfig: JSONValue = [
    "tagId": "2612345678901",
    "enhancedMatch": true,
    "eventsMapping": [["from": "Lead Generated", "to": "Lead"], ["from": "Signed Up", "to": "Signup"]],
    "customProperties": [["properties": "customProperty.customValue"]],
    "deduplicationKey": "messageId",
]

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// Best of `repeats` runs of `body` over `count` events: events per second.
@MainActor
func measure(_ name: String, count: Int, repeats: Int = 3, _ body: () throws -> Void) rethrows {
    if let only, !name.contains(only) { return }
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = now()
        try body()
        best = min(best, now() - start)
    }
    let rate = Double(count) / best
    let line = "\(name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(format: "%10.0f", rate)) events/s  \(String(format: "%7.2f", best / Double(count) * 1e6)) us/event"
    print(line)
    fflush(nil)
}

func generate(_ count: Int, seed: UInt64) -> [String] {
    var generator = EventGenerator(seed: seed)
    return (0..<count).map { _ in generator.event() }
}

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "generate" {
    let count = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
    let seed = arguments.count > 2 ? UInt64(arguments[2]) ?? 7 : 7
    var generator = EventGenerator(seed: seed)
    var buffer = ""
    for _ in 0..<count {
        buffer += generator.event()
        buffer += "\n"
        if buffer.utf8.count > 1 << 20 {
            FileHandle.standardOutput.write(Data(buffer.utf8))
            buffer = ""
        }
    }
    FileHandle.standardOutput.write(Data(buffer.utf8))
    exit(0)
}

/// `PinRulesBench only NAME [N]` runs the benchmarks whose name contains NAME (for profiling).
let only: String? = arguments.first == "only" && arguments.count > 1 ? arguments[1] : nil
let rest = only == nil ? arguments : Array(arguments.dropFirst(2))
let count = rest.first.flatMap { Int($0) } ?? 200_000
let lines = generate(count, seed: 7)
let bytes = lines.map { Array($0.utf8) }
let averageSize = bytes.reduce(0) { $0 + $1.count } / max(1, bytes.count)
print("PinRules benchmarks: \(count) generated events, \(averageSize) bytes on average, release build")

let parser = JSONParser()
let events = bytes.compactMap { try? parser.parse($0) }

measure("JSON parse", count: count) {
    for line in bytes { _ = try? parser.parse(line) }
}
measure("JSON parse + write", count: count) {
    var writer = JSONWriter(reservingCapacity: 1 << 16)
    for line in bytes {
        if let value = try? parser.parse(line) { writer.write(value) }
        writer.removeAll()
    }
}

let tapeParser = JSONTapeParser()
measure("JSON parse into a tape (no JSONValue)", count: count) {
    for line in bytes { _ = try? tapeParser.parse(line) }
}

// Benchmarks over pre-parsed events cycle through a small set that stays in cache, as an event
// does in the pipeline (it was parsed just before). Walking all of them once each would mostly
// measure cache misses on a gigabyte of parsed trees.
let hotEvents = Array(events.prefix(256))
func forEachHotEvent(_ count: Int, _ body: (borrowing JSONValue) -> Void) {
    guard !hotEvents.isEmpty else { return }
    var index = 0
    for _ in 0..<count {
        body(hotEvents[index])
        index = index == hotEvents.count - 1 ? 0 : index + 1
    }
}

// The bridge alone: event in, a no-op rule, event back, with and without the guards.
for guarded in [true, false] {
    var configuration = SandboxConfiguration()
    configuration.unguardedForMeasurement = !guarded
    let sandbox = try LuaSandbox(configuration: configuration)
    let identity = try sandbox.load("return function(e) return e end", chunkName: "identity")
    var insideC: UInt64 = 0
    measure("bridge in + no-op rule + out (\(guarded ? "guarded" : "unguarded"))", count: events.count) {
        insideC = 0
        forEachHotEvent(events.count) { event in
            if let result = try? sandbox.call(identity, arguments: [.json(copy event)]) { insideC += result.statistics.nanoseconds }
        }
    }
    if only == nil || "bridge".contains(only ?? "") {
        print(String(format: "    of which in C (build, run, read back): %.2f us/event", Double(insideC) / Double(max(1, events.count)) / 1000))
    }
}

// The bridge as the pipeline uses it: the event parsed into a tape goes in as it is, and the
// result comes back as a tape (what the rule left alone is copied, not decoded).
for guarded in [false, true] {
    var configuration = SandboxConfiguration()
    configuration.unguardedForMeasurement = !guarded
    let sandbox = try LuaSandbox(configuration: configuration)
    let identity = try sandbox.load("return function(e) return e end", chunkName: "identity")
    let tapes = bytes.prefix(256).compactMap { try? tapeParser.parse($0) }
    var insideC: UInt64 = 0
    // And with the bench rule's body (reads two fields, changes one nested table).
    let benchBody = try sandbox.load("""
        return function(e)
          if not e.messageId then return 1 end
          if e.event == "Newsletter Subscribed" then e.event = "Lead" end
          if type(e.properties) == "table" then e.properties.property = "pinrules-bench" end
          return e
        end
        """, chunkName: "bench-body")
    let label = guarded ? "guarded" : "unguarded"
    for (name, function) in [("bridge, tape in, no-op rule, tape out (\(label))", identity),
                             ("bridge + bench rule body, tape in and out (\(label))", benchBody)] {
        measure(name, count: events.count) {
            insideC = 0
            for index in 0..<events.count {
                if let result = try? sandbox.callReturningTapes(function, arguments: [.tape(tapes[index % tapes.count])]) {
                    insideC += result.statistics.nanoseconds
                }
            }
        }
        if only == nil || "bridge".contains(only ?? "") {
            print(String(format: "    of which in C (build, run, read back): %.2f us/event", Double(insideC) / Double(max(1, events.count)) / 1000))
        }
    }
}

// The mapping's own cost, as the pipeline runs it: parsed events (tapes) in, the calls as a tape
// out (no parse, no rules, no outcome JSON). The sum of call counts keeps the optimiser from
// dropping the work.
let coreMapper = PinterestMapper(config: try DestinationConfig.parse(benchConfig).config)
let hotMessages = hotEvents.map { RudderMessage(tape: JSONTape($0)) }
var coreCalls = 0
measure("mapping core (tape in, calls tape out)", count: events.count, repeats: 5) {
    for index in 0..<events.count {
        if case .calls(let calls, _) = coreMapper.mapEncoded(hotMessages[index % hotMessages.count]) { coreCalls &+= calls.count }
    }
}
if coreCalls < 0 { print(coreCalls) }

let noRules = try PinRulesEngine(configJSON: benchConfig, rules: [])
let withRule = try PinRulesEngine(configJSON: benchConfig, rules: [RuleSource(fileName: "bench.lua", source: benchRule)])
for (name, engine) in [("mapping only (parse, map, outcome)", noRules), ("mapping + bench rule", withRule)] {
    let session = try engine.makeSession()
    measure(name, count: count) {
        var writer = JSONWriter(reservingCapacity: 1 << 16)
        for (index, line) in bytes.enumerated() {
            session.map(line: line, lineNumber: index + 1).write(to: &writer)
            writer.removeAll()
        }
    }
}

// End to end through the stream API, file in, /dev/null out.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("pinrules-bench-\(getpid()).ndjson").path
guard FileManager.default.createFile(atPath: path, contents: Data((lines.joined(separator: "\n") + "\n").utf8)) else {
    print("cannot write \(path)")
    exit(1)
}
defer { unlink(path) }
for jobs in [1, 2] {
    measure("end to end, bench rule, --jobs \(jobs)", count: count) {
        let input = open(path, O_RDONLY)
        let output = open("/dev/null", O_WRONLY)
        defer { close(input); close(output) }
        _ = try? withRule.mapStream(input: input, output: output, jobs: jobs)
    }
}
print(String(format: "peak RSS of this process: %.0f MB", peakRSSMegabytes()))
