import PinJSON
import PinterestTag
import Testing

/// Spec section 10: RudderStack's own result, verbatim.
struct WorkedExampleTests {
    @Test("10 worked example: Order Completed with two products")
    func orderCompleted() throws {
        let parsed = try DestinationConfig.parse(text: #"{"tagId": "123456", "enhancedMatch": false}"#)
        let mapper = PinterestMapper(config: parsed.config)
        let event = try json(#"""
            {"type":"track","event":"Order Completed","messageId":"msg-1","context":{"traits":{}},
            "properties":{"order_id":"50314b8e","total":27.5,"revenue":25,"coupon":"hasbros","currency":"USD",
            "products":[{"product_id":"507f","sku":"45790-32","name":"Monopoly","price":19,"quantity":1,
            "category":"Games","brand":"Hasbro","variant":"red"},{"sku":"46493-32","name":"Uno","price":3,
            "quantity":2,"category":"Games"}]}}
            """#)
        let expected = try json(#"""
            [["set", {"opt_out_type": "", "st": "", "country": ""}],
             ["track", "Checkout", {"value": 25, "order_id": "50314b8e", "coupon": "hasbros", "currency": "USD",
               "line_items": [
                 {"product_id": "507f", "product_name": "Monopoly", "product_price": 19, "product_quantity": 1,
                  "product_category": "Games", "product_brand": "Hasbro", "product_variant": "red"},
                 {"product_id": "46493-32", "product_name": "Uno", "product_price": 3, "product_quantity": 2,
                  "product_category": "Games"}],
               "event_id": "msg-1"}]]
            """#)
        let result = mapper.map(event)
        #expect(result.warnings.isEmpty)
        #expect(JSONValue.array(result.calls.map(\.jsonArray)) == expected)
        // Key for key, in the same order.
        #expect(PintrkRenderer.json(result.calls) == JSONWriter.string(expected))
    }
}
