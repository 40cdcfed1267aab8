import PinJSON
import PinterestTag
import Testing

/// Spec sections 4.4 (line_items) and 4.5 (bad products shapes).
struct LineItemsTests {
    func result(_ properties: String) throws -> MappingResult {
        try map(#"{"type":"track","event":"Order Completed","messageId":"m","properties":\#(properties)}"#)
    }

    func items(_ properties: String) throws -> String {
        guard let items = trackData(try result(properties))?["line_items"] else { return "none" }
        return JSONWriter.string(items)
    }

    @Test("4.4 one item per product, keys renamed, product_id falls back to sku")
    func products() throws {
        #expect(try items(#"""
            {"products":[{"product_id":"1","sku":"s1","name":"A","price":2,"quantity":1,"category":"c","brand":"b","variant":"v","extra":1},
                         {"sku":"s2"},{"product_id":"","sku":"s3"},{"product_id":0,"sku":0},{}]}
            """#) == #"[{"product_id":"1","product_name":"A","product_price":2,"product_quantity":1,"product_category":"c","product_brand":"b","product_variant":"v"},{"product_id":"s2"},{"product_id":"s3"},{},{}]"#)
    }

    @Test("4.4 falsy values leave their key out; truthy ones keep their JSON type")
    func falsyValues() throws {
        #expect(try items(#"{"products":[{"product_id":false,"name":"","price":0,"quantity":null,"category":0.0,"brand":"x","variant":[]}]}"#)
            == #"[{"product_brand":"x","product_variant":[]}]"#)
        #expect(try items(#"{"products":[{"product_id":12,"price":"0","quantity":true,"category":{}}]}"#)
            == #"[{"product_id":12,"product_price":"0","product_quantity":true,"product_category":{}}]"#)
    }

    @Test("4.4 no products: one item from the top-level properties")
    func singleProduct() throws {
        #expect(try items(#"{"product_id":"p1","name":"Shoe","price":50,"quantity":1}"#)
            == #"[{"product_id":"p1","product_name":"Shoe","product_price":50,"product_quantity":1}]"#)
        #expect(try items(#"{"sku":"s","products":null}"#) == #"[{"product_id":"s"}]"#)
        #expect(try items(#"{"sku":"s","products":false}"#) == #"[{"product_id":"s"}]"#)
        #expect(try items("{}") == "[{}]")
    }

    @Test("4.4 products: [] yields no items")
    func emptyProducts() throws {
        #expect(try items(#"{"sku":"s","products":[]}"#) == "[]")
    }

    @Test("4.4 products \"\" or 0 are falsy: treated as absent, as RudderStack does, with a warning")
    func falsyProducts() throws {
        let outcome = try result(#"{"sku":"s","products":""}"#)
        #expect(trackData(outcome)?["line_items"] == [["product_id": "s"]])
        #expect(outcome.warnings == [#"properties.products is string "": treated as absent, as RudderStack does"#])
        #expect(try items(#"{"sku":"s","products":0}"#) == #"[{"product_id":"s"}]"#)
    }

    @Test("4.5 products as an object is one item, with a warning")
    func objectProducts() throws {
        let outcome = try result(#"{"products":{"sku":"s","name":"n"}}"#)
        #expect(trackData(outcome)?["line_items"] == [["product_id": "s", "product_name": "n"]])
        #expect(outcome.warnings == ["properties.products is an object, not an array: sent as one line item"])
    }

    @Test("4.5 null and non-object entries are skipped with a warning")
    func nullEntries() throws {
        let outcome = try result(#"{"products":[null,{"sku":"a"},"x",3,[],{"sku":"b"}]}"#)
        #expect(trackData(outcome)?["line_items"] == [["product_id": "a"], ["product_id": "b"]])
        #expect(outcome.warnings == [
            "properties.products[0] is null, not a product object: skipped",
            #"properties.products[2] is string "x", not a product object: skipped"#,
            "properties.products[3] is number 3, not a product object: skipped",
            "properties.products[4] is an array, not a product object: skipped",
        ])
    }

    @Test("4.5 products as a string or number fails, naming properties.products and keeping the event")
    func stringProducts() throws {
        for (value, shown) in [(#""abc""#, #"string "abc""#), ("12", "number 12"), ("true", "boolean true")] {
            let text = #"{"type":"track","event":"Order Completed","messageId":"m","properties":{"products":\#(value)}}"#
            let event = try json(text)
            #expect(try mapper().map(event) == .failed(
                message: "properties.products must be an array of product objects, found \(shown)", event: event, warnings: []))
        }
    }
}
