import PinJSON
import PinterestTag
import Testing

/// Spec section 8: page.
struct PageTests {
    @Test("8 page with category: ViewCategory with name and category")
    func withCategory() throws {
        let result = try map(#"{"type":"page","messageId":"m","name":"Shoes","category":"Apparel","properties":{"path":"/s"}}"#)
        #expect(rendered(result) == #"[["set",{"opt_out_type":"","st":"","country":""}],["track","ViewCategory",{"name":"Shoes","category":"Apparel","event_id":"m"}]]"#)
    }

    @Test("8 page with category but no name: ViewCategory, name empty")
    func categoryOnly() throws {
        let result = try map(#"{"type":"page","messageId":"m","category":"Apparel"}"#)
        #expect(result.calls.last == .track("ViewCategory", ["name": "", "category": "Apparel", "event_id": "m"]))
    }

    @Test("8 page with name only: PageVisit, other properties dropped")
    func nameOnly() throws {
        let result = try map(#"{"type":"page","messageId":"m","name":"Home","category":"","properties":{"title":"t"}}"#)
        #expect(result.calls.last == .track("PageVisit", ["name": "Home", "event_id": "m"]))
    }

    @Test("8 page without name or category: PageVisit with empty name")
    func neither() throws {
        let result = try map(#"{"type":"page","messageId":"m"}"#)
        #expect(rendered(result) == #"[["set",{"opt_out_type":"","st":"","country":""}],["track","PageVisit",{"name":"","event_id":"m"}]]"#)
    }

    @Test("8 custom properties apply to page calls too (the user's document wins)")
    func customProperties() throws {
        let result = try map(#"{"type":"page","messageId":"m","name":"Home","properties":{"ref":{"id":7},"x":1}}"#,
                             config: #"{"customProperties":[{"properties":"ref.id"}],"deduplicationKey":"properties.x"}"#)
        #expect(result.calls.last == .track("PageVisit", ["name": "Home", "ref.id": "7", "event_id": 1]))
    }
}
