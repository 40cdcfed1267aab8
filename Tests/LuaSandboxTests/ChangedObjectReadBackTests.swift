import XCTest
import PinJSON
import LuaSandbox

/// A changed argument object comes back with its members matched to the original byte for byte
/// (keys that Unicode would call equivalent stay apart), in their original order, whatever its
/// size.
final class ChangedObjectReadBackTests: XCTestCase {
    func call(_ body: String, with argument: JSONValue) throws -> JSONValue {
        let sandbox = try LuaSandbox()
        let function = try sandbox.load("return function(o) \(body) return o end", chunkName: "change.lua")
        return try XCTUnwrap(sandbox.call(function, arguments: [.json(argument)]).values.first)
    }

    func testCanonicallyEquivalentKeysStayApart() throws {
        // "é" precomposed (U+00E9) and decomposed (e + U+0301): different keys to JSON and Lua.
        let text = #"{"\u00e9":1,"e\u0301":2,"x":0}"#
        let argument = try JSONParser().parse(text)
        XCTAssertEqual(JSONWriter.string(try call("", with: argument)), JSONWriter.string(argument))
        let changed = try call("o.x = 1", with: argument)
        XCTAssertEqual(JSONWriter.string(changed), "{\"\u{E9}\":1,\"e\u{301}\":2,\"x\":1}")
        let one = try call("o['e\\u{301}'] = 3", with: argument)
        XCTAssertEqual(JSONWriter.string(one), "{\"\u{E9}\":1,\"e\u{301}\":3,\"x\":0}")
    }

    func testLargeChangedObjectsKeepTheirOrder() throws {
        // Keys in an order that is not sorted, more than the C side searches linearly.
        var members: [(String, JSONValue)] = []
        for i in 0..<500 { members.append(("k\((i * 7919) % 500)", .integer(Int64(i)))) }
        let argument = JSONValue.object(JSONObject(members))
        let changed = try call("o.k3 = 'three'; o.k10 = nil; o.new = true", with: argument)
        var expected = JSONObject(members)
        expected["k3"] = "three"
        expected["k10"] = nil
        expected["new"] = true
        XCTAssertEqual(JSONWriter.string(changed), JSONWriter.string(.object(expected)))
        XCTAssertEqual(JSONWriter.string(try call("", with: argument)), JSONWriter.string(argument))
    }
}
