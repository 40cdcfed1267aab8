import Dispatch
import Foundation
import XCTest
import PinJSON
import PinRules
import PinterestTag

/// The example of docs/library.md, compiled: one engine shared by threads, one session each.
final class LibraryExampleTests: XCTestCase {
    func testEngineSharedAcrossThreadsWithASessionEach() throws {
        let config = try JSONParser().parse(#"{"tagId": "2612345678901"}"#)
        let engine = try PinRulesEngine(
            configJSON: config,
            rules: [RuleSource(fileName: "10_lead.lua", source: #"""
                return { before = function(e) if e.event == "Newsletter Subscribed" then e.event = "Lead" end end }
                """#)])
        let lines = (0..<400).map { Array(#"{"type":"track","event":"Newsletter Subscribed","messageId":"m\#($0)"}"#.utf8) }

        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var byWorker: [Int: [Outcome]] = [:]
        }
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            guard let session = try? engine.makeSession() else { return }
            let mine = stride(from: worker, to: lines.count, by: 4).map { session.map(line: lines[$0], lineNumber: $0 + 1) }
            results.lock.lock()
            results.byWorker[worker] = mine
            results.lock.unlock()
        }
        let outcomes = results.byWorker.values.flatMap { $0 }
        XCTAssertEqual(outcomes.count, 400)
        XCTAssertTrue(outcomes.allSatisfy { $0.status == .sent })
        XCTAssertEqual(Set(outcomes.compactMap { $0.calls.last?.event }), ["Lead"])

        let session = try engine.makeSession()
        XCTAssertEqual(session.map(line: Array(#"{"type":"group"}"#.utf8), lineNumber: 2).status, .skipped)
    }
}
