import XCTest
import PinJSON
import LuaSandbox

/// Results that reuse the arguments they came from (unchanged tables, unchanged members) must be
/// exactly what a full read-back would give, and keep the order keys came in with.
final class ArgumentReuseTests: XCTestCase {
    let event: JSONValue = [
        "type": "track", "event": "Order Completed", "messageId": "m1",
        "properties": ["revenue": 25, "value": 1.0, "zero": -0.0, "coupon": .null, "tags": ["a", "b"],
                       "products": [["sku": "s1", "price": 19], ["sku": "s2", "price": 3]], "empty": [:], "list": []],
        "context": ["traits": ["email": "a@b.com"], "page": ["path": "/x"]],
    ]

    func result(_ body: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let sandbox = try LuaSandbox()
        let function = try sandbox.load("return function(e) \(body) return e end", chunkName: "mutate")
        let values = try sandbox.call(function, arguments: [.json(event)]).values
        return try XCTUnwrap(values.first, file: file, line: line)
    }

    func expected(_ change: (inout JSONObject) -> Void) -> JSONValue {
        guard case .object(var object) = event else { return .null }
        change(&object)
        return .object(object)
    }

    func assertIdentical(_ got: JSONValue, _ want: JSONValue, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(JSONWriter.string(got), JSONWriter.string(want), file: file, line: line)
    }

    func testUntouchedEventComesBackIdenticalInOrder() throws {
        assertIdentical(try result(""), event)
    }

    func testChangesAtEveryLevelAreSeen() throws {
        assertIdentical(try result("e.event = 'Lead'"), expected { $0["event"] = "Lead" })
        assertIdentical(try result("e.properties.products[2].price = 4"), expected {
            $0["properties"] = .object({ () -> JSONObject in
                var properties = self.event["properties"]?.objectValue ?? [:]
                properties["products"] = [["sku": "s1", "price": 19], ["sku": "s2", "price": 4]]
                return properties
            }())
        })
        assertIdentical(try result("e.properties.value = 1"), expected {
            var properties = self.event["properties"]?.objectValue ?? [:]
            properties["value"] = 1   // integer now, not the float 1.0
            $0["properties"] = .object(properties)
        })
        assertIdentical(try result("e.properties.zero = 0.0"), expected {
            var properties = self.event["properties"]?.objectValue ?? [:]
            properties["zero"] = 0.0
            $0["properties"] = .object(properties)
        })
    }

    func testMovedAndReplacedTablesAreReadBack() throws {
        // Swapping two subtables is a change even though each is unchanged in itself.
        let swapped = try result("e.context.traits, e.context.page = e.context.page, e.context.traits")
        XCTAssertEqual(swapped["context"], ["traits": ["path": "/x"], "page": ["email": "a@b.com"]])
        // A new table with equal contents is equal.
        let rebuilt = try result("e.properties.tags = {'a', 'b'}")
        assertIdentical(rebuilt, event)
        // The same table at two places.
        let shared = try result("e.copy = e.properties.products")
        XCTAssertEqual(shared["copy"], event["properties"]?["products"])
    }

    func testRemovedReaddedAndRemarkedKeys() throws {
        assertIdentical(try result("e.messageId = nil"), expected { $0["messageId"] = nil })
        let readded = try result("local m = e.messageId; e.messageId = nil; e.messageId = m")
        assertIdentical(readded, event)
        let remarked = try result("setmetatable(e.properties.empty, nil); e.properties.list = object()")
        XCTAssertEqual(remarked["properties"]?["empty"], [:])
        XCTAssertEqual(remarked["properties"]?["list"], [:])
        let null = try result("e.properties.coupon = 'X'")
        XCTAssertEqual(null["properties"]?["coupon"], "X")
    }

    func testNewKeysFollowInSortedOrder() throws {
        let added = try result("e.zeta = 1; e.alpha = 2")
        XCTAssertEqual(added.objectValue?.keys, ["type", "event", "messageId", "properties", "context", "alpha", "zeta"])
    }

    func testManyCallsOnOneSandboxDoNotConfuseArguments() throws {
        let sandbox = try LuaSandbox()
        let keep = try sandbox.load("local kept; return function(e) local old = kept; kept = e; return old or e end", chunkName: "keep")
        for index in 0..<50 {
            let value: JSONValue = ["n": .integer(Int64(index)), "nested": ["n": .integer(Int64(index))]]
            let got = try sandbox.call(keep, arguments: [.json(value)]).values.first
            // From the second call on the rule returns the previous call's table: it must come
            // back as what it holds, not as this call's argument.
            let want: JSONValue = index == 0 ? value : ["n": .integer(Int64(index - 1)), "nested": ["n": .integer(Int64(index - 1))]]
            XCTAssertEqual(got, want)
        }
    }
}
