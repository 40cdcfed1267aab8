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

    func testFilledObjectsReadBackInOnePassGiveTheFullResult() throws {
        let text = #"{"b":1,"a":{"y":[1,{"q":2,"p":[]}],"x":{}},"c":{"k":"v","j":null},"d":1.0}"#
        let argument = try JSONParser().parse(text)
        let walk = "local function walk(t) for _, v in pairs(t) do if type(v) == 'table' then walk(v) end end end walk(o)"
        // Everything filled, nothing changed: byte-identical, key order kept.
        XCTAssertEqual(JSONWriter.string(try call(walk, with: argument)), text)
        // One deep change: only that member differs.
        XCTAssertEqual(JSONWriter.string(try call(walk + "; o.a.y[2].q = 3", with: argument)),
                       #"{"b":1,"a":{"y":[1,{"q":3,"p":[]}],"x":{}},"c":{"k":"v","j":null},"d":1.0}"#)
        // A member replaced by an equal copy (a table the rule built: its keys come back sorted),
        // a member removed and put back, an unmarked object.
        XCTAssertEqual(JSONWriter.string(try call("o.c = object({k = 'v', j = null})", with: argument)),
                       #"{"b":1,"a":{"y":[1,{"q":2,"p":[]}],"x":{}},"c":{"j":null,"k":"v"},"d":1.0}"#)
        XCTAssertEqual(JSONWriter.string(try call("local c = o.c; o.c = nil; o.c = c", with: argument)), text)
        XCTAssertEqual(JSONWriter.string(try call("setmetatable(o.c, nil)", with: argument)), text)
        // Same keys, one value's type changed (1 to 1.0) is a change.
        XCTAssertEqual(JSONWriter.string(try call(walk + "; o.b = 1.0", with: argument)),
                       #"{"b":1.0,"a":{"y":[1,{"q":2,"p":[]}],"x":{}},"c":{"k":"v","j":null},"d":1.0}"#)
        // A member moved to another key is read back where it now is.
        XCTAssertEqual(JSONWriter.string(try call("o.e = o.a; o.a = nil", with: argument)),
                       #"{"b":1,"c":{"k":"v","j":null},"d":1.0,"e":{"y":[1,{"q":2,"p":[]}],"x":{}}}"#)
    }
}
