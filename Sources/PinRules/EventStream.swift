import Foundation
import PinJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts of a streamed run.
public struct StreamSummary: Sendable, Equatable {
    public var lines = 0
    /// Lines by outcome status; a status no line had is absent.
    public var counts: [Outcome.Status: Int] {
        get {
            var counts: [Outcome.Status: Int] = [:]
            for status in Outcome.Status.allCases where tally[Self.slot(status)] > 0 { counts[status] = tally[Self.slot(status)] }
            return counts
        }
        set {
            for status in Outcome.Status.allCases { tally[Self.slot(status)] = newValue[status] ?? 0 }
        }
    }
    /// The counts by status in a fixed order: counted once per line, where a dictionary
    /// hashed the status every time.
    private var tally = [Int](repeating: 0, count: Outcome.Status.allCases.count)

    public init() {}

    private static func slot(_ status: Outcome.Status) -> Int {
        switch status {
        case .sent: return 0
        case .dropped: return 1
        case .skipped: return 2
        case .error: return 3
        case .invalid: return 4
        }
    }

    mutating func count(_ status: Outcome.Status) { tally[Self.slot(status)] += 1 }

    mutating func add(_ other: StreamSummary) {
        lines += other.lines
        for index in tally.indices { tally[index] += other.tally[index] }
    }

    /// `1000 lines: 900 sent, 50 dropped, 20 skipped, 20 error, 10 invalid`
    public var description: String {
        let parts = Outcome.Status.allCases.map { "\(tally[Self.slot($0)]) \($0.rawValue)" }
        return "\(lines) lines: " + parts.joined(separator: ", ")
    }
}

/// Reading the input or writing the output failed.
public struct StreamError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Reads a file descriptor line by line in large chunks; memory stays bounded by the chunk
/// size plus the longest line.
struct LineReader {
    private let descriptor: Int32
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEOF = false

    init(descriptor: Int32, chunkSize: Int = 1 << 20) {
        self.descriptor = descriptor
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    /// Calls `body` with the next line (without `\n`), or returns false at the end.
    mutating func nextLine<R>(_ body: (UnsafeRawBufferPointer) -> R) throws(StreamError) -> R? {
        while true {
            let found: Int? = buffer.withUnsafeBytes { bytes in
                guard end > start, let base = bytes.baseAddress,
                      let hit = memchr(base + start, 0x0A, end - start) else { return nil }
                return base.distance(to: UnsafeRawPointer(hit))
            }
            if let newline = found {
                let result = buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<newline])) }
                start = newline + 1
                return result
            }
            if atEOF {
                guard end > start else { return nil }
                let result = buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
                start = end
                return result
            }
            try fill()
        }
    }

    private mutating func fill() throws(StreamError) {
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBytes { bytes in
                    guard let base = bytes.baseAddress else { return }
                    memmove(base, base + start, remaining)
                }
            }
            start = 0
            end = remaining
        }
        if end == buffer.count {
            buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { bytes -> Int in
                guard let base = bytes.baseAddress else { return 0 }
                return read(descriptor, base + end, bytes.count - end)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw StreamError(message: "cannot read the input: \(String(cString: strerror(errno)))")
            }
            if count == 0 { atEOF = true }
            end += count
            return
        }
    }
}

private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}

/// Buffered writes to a file descriptor.
struct OutputWriter {
    private let descriptor: Int32
    private(set) var buffer: [UInt8] = []
    private let flushThreshold: Int

    init(descriptor: Int32, flushThreshold: Int = 1 << 16) {
        self.descriptor = descriptor
        self.flushThreshold = flushThreshold
        buffer.reserveCapacity(flushThreshold * 2)
    }

    mutating func write(_ bytes: [UInt8]) throws(StreamError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= flushThreshold { try flush() }
    }

    mutating func write(_ json: JSONWriter) throws(StreamError) {
        // A large piece (the serial stream writes 64 KB at a time) goes straight out: copying
        // it into the buffer first would only move it twice.
        if json.count >= flushThreshold {
            try flush()
            if let failed = json.withBytes({ writeAll($0) }) { throw failed }
            return
        }
        json.withBytes { buffer.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Writes a large piece (a finished batch's output) straight to the descriptor, after
    /// what is pending: copying it into the buffer first would only move it twice.
    mutating func writeDirectly(_ bytes: [UInt8]) throws(StreamError) {
        guard bytes.count >= flushThreshold else { return try write(bytes) }
        try flush()
        if let failed = bytes.withUnsafeBytes({ writeAll($0) }) { throw failed }
    }

    mutating func flush() throws(StreamError) {
        if let failed = buffer.withUnsafeBytes({ writeAll($0) }) { throw failed }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes all of `bytes`; the error, if writing failed.
    private func writeAll(_ bytes: UnsafeRawBufferPointer) -> StreamError? {
        guard let base = bytes.baseAddress else { return nil }
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(descriptor, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return StreamError(message: "cannot write the output: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        return nil
    }
}

extension MappingSession {
    /// Maps a line and appends its outcome line (JSON and `\n`) to `output`.
    func mapLine(_ line: UnsafeRawBufferPointer, number: Int, into output: inout JSONWriter, summary: inout StreamSummary) {
        let outcome = map(line: line, lineNumber: number)
        outcome.write(to: &output, end: "}\n")
        summary.lines += 1
        summary.count(outcome.status)
    }
}

extension PinRulesEngine {
    /// Maps NDJSON from `input` to one outcome line per input line on `output`, in input order.
    /// With `jobs` > 1, that many workers map in parallel, each with its own sandbox; the output
    /// is byte-identical to one job's.
    /// - throws: `StreamError` when reading or writing fails; `EngineError` cannot occur here
    ///   for an engine that was built (its rules loaded once already).
    public func mapStream(input: Int32, output: Int32, jobs: Int = 1) throws(StreamError) -> StreamSummary {
        if jobs <= 1 { return try mapSerially(input: input, output: output) }
        return try ParallelMapper(engine: self, jobs: jobs).run(input: input, output: output)
    }

    private func mapSerially(input: Int32, output: Int32) throws(StreamError) -> StreamSummary {
        let session: MappingSession
        do {
            session = try makeSession()
            session.recordsTrace = false   // output lines carry no trace
        } catch {
            throw StreamError(message: error.description)
        }
        var reader = LineReader(descriptor: input)
        var writer = OutputWriter(descriptor: output)
        var json = JSONWriter(reservingCapacity: 1 << 17)
        var summary = StreamSummary()
        var number = 0
        while try reader.nextLine({ (line: UnsafeRawBufferPointer) -> Void in
            number += 1
            session.mapLine(line, number: number, into: &json, summary: &summary)
        }) != nil {
            if json.count >= 1 << 16 {
                try writer.write(json)
                json.removeAll()
            }
        }
        try writer.write(json)
        try writer.flush()
        return summary
    }
}

/// Workers map batches of lines; the reading thread writes finished batches in input order.
/// At most `2 × jobs` batches are in flight, so memory stays bounded.
final class ParallelMapper: @unchecked Sendable {
    final class Batch: @unchecked Sendable {
        let firstLine: Int
        var bytes: [UInt8] = []
        var bounds: [Range<Int>] = []
        var output: [UInt8] = []
        var summary = StreamSummary()
        var done = false
        init(firstLine: Int) { self.firstLine = firstLine }
    }

    let engine: PinRulesEngine
    let jobs: Int
    let condition = NSCondition()
    var queue: [Batch] = []
    var closed = false
    var failure: String?
    static let linesPerBatch = 256

    init(engine: PinRulesEngine, jobs: Int) {
        self.engine = engine
        self.jobs = jobs
    }

    func run(input: Int32, output: Int32) throws(StreamError) -> StreamSummary {
        var threads: [Thread] = []
        for _ in 0..<jobs {
            let thread = Thread { [self] in work() }
            thread.stackSize = 8 << 20
            threads.append(thread)
            thread.start()
        }
        var reader = LineReader(descriptor: input)
        var writer = OutputWriter(descriptor: output)
        var inFlight: [Batch] = []
        var summary = StreamSummary()
        var number = 0
        var current = Batch(firstLine: 1)

        func submit(_ batch: Batch) {
            condition.lock()
            queue.append(batch)
            condition.signal()
            condition.unlock()
            inFlight.append(batch)
        }
        func drainOldest() throws(StreamError) {
            let oldest = inFlight.removeFirst()
            condition.lock()
            while !oldest.done && failure == nil { condition.wait() }
            let failed = failure
            condition.unlock()
            if let failed { throw StreamError(message: failed) }
            try writer.writeDirectly(oldest.output)
            summary.add(oldest.summary)
        }

        do {
            while try reader.nextLine({ (line: UnsafeRawBufferPointer) -> Void in
                number += 1
                let start = current.bytes.count
                current.bytes.append(contentsOf: line.assumingMemoryBound(to: UInt8.self))   // typed: one copy, not a byte loop
                current.bounds.append(start..<current.bytes.count)
            }) != nil {
                if current.bounds.count >= Self.linesPerBatch {
                    submit(current)
                    let size = current.bytes.count
                    current = Batch(firstLine: number + 1)
                    // Room for a batch like the last, so that filling it does not regrow it.
                    current.bytes.reserveCapacity(size + size / 8)
                    current.bounds.reserveCapacity(Self.linesPerBatch)
                    while inFlight.count >= jobs * 2 { try drainOldest() }
                }
            }
            if !current.bounds.isEmpty { submit(current) }
            while !inFlight.isEmpty { try drainOldest() }
            try writer.flush()
        } catch {
            finish()
            throw error
        }
        finish()
        _ = threads
        return summary
    }

    private func finish() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func work() {
        let session: MappingSession
        do {
            session = try engine.makeSession()
            session.recordsTrace = false   // output lines carry no trace
        } catch {
            condition.lock()
            failure = error.description
            condition.broadcast()
            condition.unlock()
            return
        }
        var json = JSONWriter(reservingCapacity: 1 << 17)
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let batch = queue.removeFirst()
            condition.unlock()

            json.removeAll()
            var summary = StreamSummary()
            batch.bytes.withUnsafeBytes { bytes in
                for (offset, range) in batch.bounds.enumerated() {
                    session.mapLine(UnsafeRawBufferPointer(rebasing: bytes[range]), number: batch.firstLine + offset,
                                    into: &json, summary: &summary)
                }
            }
            let output = json.takeBytes()   // the writer's storage itself, not a copy
            condition.lock()
            batch.output = output
            batch.summary = summary
            batch.done = true
            condition.broadcast()
            condition.unlock()
        }
    }
}
