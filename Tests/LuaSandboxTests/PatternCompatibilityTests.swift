import Foundation
import XCTest
import PinJSON
import LuaSandbox

/// The budgeted string.find/match/gmatch/gsub give the same results as stock Lua 5.4 over a
/// corpus of patterns and subjects, and stop pattern bombs within the limits.
final class PatternCompatibilityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testCorpusMatchesStockLua() throws {
        let compare = try String(contentsOf: Self.fixtures.appendingPathComponent("pattern_compare.lua"), encoding: .utf8)
        let corpus = try String(contentsOf: Self.fixtures.appendingPathComponent("pattern_corpus.lua"), encoding: .utf8)
        let sandbox = try LuaSandbox(configuration: SandboxConfiguration(limits: .none))
        let driver = try sandbox.loadTrusted(#"""
            return function(compare_source, corpus_source)
              local compare = assert(load(compare_source, "=pattern_compare.lua"))
              local cases = assert(load(corpus_source, "=pattern_corpus.lua"))()
              local guarded = {find = string.find, match = string.match, gmatch = string.gmatch, gsub = string.gsub}
              local mismatches = compare(sandbox.stock_patterns, guarded, cases)
              return #cases, array(mismatches)
            end
            """#, chunkName: "driver")
        let result = try sandbox.call(driver, arguments: [.json(.string(compare)), .json(.string(corpus))])
        guard case .integer(let count)? = result.values.first, case .array(let mismatches)? = result.values.last else {
            return XCTFail("unexpected driver result \(result.values)")
        }
        XCTAssertGreaterThan(count, 1000)
        XCTAssertEqual(mismatches, [], "budgeted pattern functions differ from stock Lua")
    }

    func testPatternBombsEndWithALimitError() throws {
        let sandbox = try LuaSandbox(configuration: SandboxConfiguration(limits: SandboxLimits(instructions: 5_000_000, deadline: .seconds(2))))
        let bombs = [
            #"return string.find(("a"):rep(400), "a*a*a*b")"#,
            #"return string.match(("a"):rep(16), ("a-"):rep(15) .. "b")"#,
            #"return (("a"):rep(300)):gsub("a*a*a*c", "x")"#,
            #"for m in (("a"):rep(300)):gmatch("a-a-a-a-b") do end"#,
        ]
        for bomb in bombs {
            let function = try sandbox.load("return function() \(bomb) end", chunkName: "bomb")
            let start = Date()
            XCTAssertThrowsError(try sandbox.call(function)) { error in
                XCTAssertEqual(error as? SandboxError, .limit(.instructions), bomb)
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 2.5, bomb)
            let normal = try sandbox.load(#"return function() return ("hello world"):find("o w") end"#, chunkName: "normal")
            XCTAssertEqual(try sandbox.call(normal).values, [5, 7])
        }
    }
}
