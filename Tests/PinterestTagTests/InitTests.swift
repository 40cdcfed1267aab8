import PinJSON
import PinterestTag
import Testing

/// Spec section 2: loading the tag.
struct InitTests {
    @Test("2 load then page")
    func loadAndPage() throws {
        let mapper = PinterestMapper(config: DestinationConfig(tagId: "2612345678901"))
        #expect(try mapper.initCalls(traits: nil) == [.load(tagId: "2612345678901"), .page()])
        #expect(try mapper.initCalls(traits: ["name": "x"]).map(\.jsonArray) == [["load", "2612345678901"], ["page"]])
    }

    @Test("2 enhanced match adds the stored email as given")
    func enhancedMatch() throws {
        let on = PinterestMapper(config: DestinationConfig(tagId: "2612345678901", enhancedMatch: true))
        #expect(try on.initCalls(traits: ["email": "A@B.com "]).map(\.jsonArray)
            == [["load", "2612345678901", ["em": "A@B.com "]], ["page"]])
        #expect(try on.initCalls(traits: ["email": ""]).map(\.jsonArray) == [["load", "2612345678901"], ["page"]])
        let off = PinterestMapper(config: DestinationConfig(tagId: "2612345678901", enhancedMatch: false))
        #expect(try off.initCalls(traits: ["email": "a@b.com"]).map(\.jsonArray) == [["load", "2612345678901"], ["page"]])
    }

    @Test("2 init without tagId is a config error")
    func needsTagId() {
        let mapper = PinterestMapper(config: DestinationConfig())
        #expect(throws: ConfigError(path: "tagId", message: "required to load the tag; set it in the destination config")) {
            try mapper.initCalls(traits: nil)
        }
    }
}
