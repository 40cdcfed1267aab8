import PinJSON
import PinterestTag
import Testing

/// Spec section 4.4: DATA from properties, apart from line items.
struct TrackPropertiesTests {
    func data(_ properties: String, config: String = "{}") throws -> String {
        let result = try map(#"{"type":"track","event":"Order Completed","messageId":"m","properties":\#(properties)}"#, config: config)
        return trackData(result).map { JSONWriter.string(.object($0)) } ?? "none"
    }

    @Test("4.4 revenue becomes value; a raw value wins; total is not used")
    func revenueAndValue() throws {
        #expect(try data(#"{"total":30,"revenue":25}"#) == #"{"value":25,"line_items":[{}],"event_id":"m"}"#)
        #expect(try data(#"{"revenue":25,"currency":"USD","value":"40"}"#) == #"{"value":"40","currency":"USD","line_items":[{}],"event_id":"m"}"#)
        #expect(try data(#"{"revenue":25,"value":null}"#) == #"{"value":null,"line_items":[{}],"event_id":"m"}"#)
        #expect(try data(#"{"revenue":0,"total":30}"#) == #"{"line_items":[{}],"event_id":"m"}"#)
        #expect(try data(#"{"currency":"EUR","revenue":"12.5"}"#) == #"{"value":"12.5","currency":"EUR","line_items":[{}],"event_id":"m"}"#)
    }

    @Test("4.4 only allow-listed keys, in properties order, JSON types kept")
    func allowList() throws {
        let properties = #"""
            {"zzz":1,"lead_type":"x","order_quantity":2,"currency":"USD","order_id":7,"product_name":"n",
             "product_id":"p","product_category":"c","product_variant":"v","product_variant_id":"vi",
             "product_price":1.5,"product_quantity":3,"product_brand":"b","promo_code":"pc","property":{"a":1},
             "video_title":"vt","coupon":null,"value":false,"email":"e@x"}
            """#
        #expect(try data(properties) == #"""
            {"lead_type":"x","order_quantity":2,"currency":"USD","order_id":7,"product_name":"n","product_id":"p","product_category":"c","product_variant":"v","product_variant_id":"vi","product_price":1.5,"product_quantity":3,"product_brand":"b","promo_code":"pc","property":{"a":1},"video_title":"vt","coupon":null,"value":false,"line_items":[{"product_id":"p"}],"event_id":"m"}
            """#)
    }

    @Test("4.4 search_query from query when present and not null, on any event")
    func searchQuery() throws {
        #expect(try data(#"{"query":"shoes"}"#) == #"{"search_query":"shoes","line_items":[{}],"event_id":"m"}"#)
        #expect(try data(#"{"query":""}"#) == #"{"search_query":"","line_items":[{}],"event_id":"m"}"#)
        #expect(try data(#"{"query":0}"#) == #"{"search_query":0,"line_items":[{}],"event_id":"m"}"#)
        #expect(try data(#"{"query":null}"#) == #"{"line_items":[{}],"event_id":"m"}"#)
        let other = try map(#"{"type":"track","event":"Anything","messageId":"m","properties":{"query":"q"}}"#)
        #expect(trackData(other)?["search_query"] == "q")
    }

    @Test("4.4 properties absent, null or not an object")
    func oddProperties() throws {
        #expect(trackData(try map(#"{"type":"track","event":"Order Completed","messageId":"m"}"#))
            == ["line_items": [[:]], "event_id": "m"])
        #expect(trackData(try map(#"{"type":"track","event":"Order Completed","messageId":"m","properties":null}"#))
            == ["line_items": [[:]], "event_id": "m"])
        let result = try map(#"{"type":"track","event":"Order Completed","messageId":"m","properties":"abc"}"#)
        #expect(trackData(result) == ["line_items": [[:]], "event_id": "m"])
        #expect(result.warnings == [#"properties is string "abc", not an object: ignored"#])
    }
}
