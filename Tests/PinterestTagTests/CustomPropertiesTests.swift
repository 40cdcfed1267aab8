import PinJSON
import PinterestTag
import Testing

/// Spec section 5: custom properties.
struct CustomPropertiesTests {
    func data(_ properties: String, paths: [String], event: String = "Order Completed") throws -> JSONObject? {
        let rows = paths.map { #"{"properties":\#(JSONWriter.string(.string($0)))}"# }.joined(separator: ",")
        let result = try map(#"{"type":"track","event":"\#(event)","messageId":"m","properties":\#(properties)}"#,
                             config: #"{"customProperties":[\#(rows)]}"#)
        return trackData(result)
    }

    @Test("5 nested paths use dots; the value is String(x); the key is the path")
    func nested() throws {
        let data = try self.data(#"{"customProperty":{"customValue":2},"someRandomMailId":"a@b.com","n":2.5,"big":1e21}"#,
                                 paths: ["customProperty.customValue", "someRandomMailId", "n", "big"])
        #expect(data.map { JSONWriter.string(.object($0)) }
            == #"{"line_items":[{}],"customProperty.customValue":"2","someRandomMailId":"a@b.com","n":"2.5","big":"1e+21","event_id":"m"}"#)
    }

    @Test("5 a custom property named event_id keeps its place and takes the messageId")
    func customEventId() throws {
        let data = try self.data(#"{"event_id":"x","a":1,"currency":"USD"}"#, paths: ["event_id", "a"], event: "Product Added")
        #expect(data.map { JSONWriter.string(.object($0)) } == #"{"currency":"USD","line_items":[{}],"event_id":"m","a":"1"}"#)
        let without = try self.data(#"{"a":1}"#, paths: ["a"], event: "Product Added")
        #expect(without.map { JSONWriter.string(.object($0)) } == #"{"line_items":[{}],"a":"1","event_id":"m"}"#)
    }

    @Test("5 array elements by index")
    func arrayIndexes() throws {
        let data = try self.data(#"{"products":[{"name":"A"},{"name":"B","tags":["x","y"]}]}"#,
                                 paths: ["products.1.name", "products.1.tags.0", "products.0", "products.1.tags"])
        #expect(data?["products.1.name"] == "B")
        #expect(data?["products.1.tags.0"] == "x")
        // Only leaves are flattened: an object or a non-empty array is not itself a path.
        #expect(data?["products.0"] == nil)
        #expect(data?["products.1.tags"] == nil)
    }

    @Test("5 booleans, including false, become strings")
    func booleans() throws {
        let data = try self.data(#"{"isMember":true,"gift":false}"#, paths: ["isMember", "gift"])
        #expect(data?["isMember"] == "true")
        #expect(data?["gift"] == "false")
    }

    @Test("5 empty {} and [] are leaves")
    func emptyLeaves() throws {
        let data = try self.data(#"{"meta":{},"list":[],"deep":{"e":{}}}"#, paths: ["meta", "list", "deep.e"])
        #expect(data?["meta"] == "[object Object]")
        #expect(data?["list"] == "")
        #expect(data?["deep.e"] == "[object Object]")
    }

    @Test("5 missing paths, null values and case mismatches are skipped")
    func missing() throws {
        let data = try self.data(#"{"a":{"b":null},"Color":"red"}"#, paths: ["a.b", "a.c", "color", "x"])
        #expect(data.map { JSONWriter.string(.object($0)) } == #"{"line_items":[{}],"event_id":"m"}"#)
    }

    @Test("5 a custom property may overwrite a standard key, in place")
    func overridesStandardKey() throws {
        let data = try self.data(#"{"revenue":25,"currency":"USD","sku":"s"}"#, paths: ["revenue", "currency"])
        #expect(data.map { JSONWriter.string(.object($0)) }
            == #"{"value":25,"currency":"USD","line_items":[{"product_id":"s"}],"revenue":"25","event_id":"m"}"#)
        let value = try self.data(#"{"value":10}"#, paths: ["value"])
        #expect(value?["value"] == "10")
    }

    @Test("5 a custom property cannot override event_id")
    func notEventId() throws {
        let data = try self.data(#"{"event_id":"mine"}"#, paths: ["event_id"])
        #expect(data?["event_id"] == "m")
    }

    @Test("5 nothing applies when properties are empty or no paths are configured")
    func notApplicable() throws {
        #expect(try self.data("{}", paths: ["a"]) == ["line_items": [[:]], "event_id": "m"])
        #expect(try self.data(#"{"a":1}"#, paths: []) == ["line_items": [[:]], "event_id": "m"])
    }

    @Test("5 a key with a dot collides with the nested path; the later one wins")
    func dottedKeys() throws {
        #expect(try self.data(#"{"a":{"b":1},"a.b":2}"#, paths: ["a.b"])?["a.b"] == "2")
    }

    @Test("5 integer-like custom keys come first, as in a JavaScript object")
    func integerKeys() throws {
        let data = try self.data(#"{"10":"x","2":"y","coupon":"c"}"#, paths: ["10", "2"])
        #expect(data?.keys == ["2", "10", "coupon", "line_items", "event_id"])
    }
}
