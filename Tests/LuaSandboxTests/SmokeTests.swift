import XCTest
import PinJSON
@testable import LuaSandbox

final class SmokeTests: XCTestCase {
    func testRoundTrip() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function(e) e.x = 1; e.y = 2.5; e.n = null; return e end", chunkName: "r.lua")
        let result = try sandbox.call(rule, arguments: [.json(["a": [1, 2], "b": [:], "c": []])])
        print(result.values)
        XCTAssertEqual(result.values, [["a": [1, 2], "b": [:], "c": [], "x": 1, "y": 2.5, "n": nil]])
    }
}
