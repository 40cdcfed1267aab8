import PinJSON
import PinterestTag
import Testing

/// JSON and JavaScript renderings and the loader snippet.
struct RendererTests {
    @Test func jsonKeepsInsertionOrder() {
        let call = PintrkCall.track("Checkout", ["value": 25, "order_id": "1", "currency": "USD", "event_id": "m"])
        #expect(PintrkRenderer.json(call) == #"["track","Checkout",{"value":25,"order_id":"1","currency":"USD","event_id":"m"}]"#)
        #expect(PintrkRenderer.json([.page(), .load(tagId: "1")]) == #"[["page"],["load","1"]]"#)
    }

    @Test func javaScriptStatements() {
        #expect(PintrkRenderer.javaScript(.track("Checkout", ["value": 25.0, "n": 1e21, "s": "x"]))
            == #"pintrk('track', 'Checkout', {"value":25,"n":1e+21,"s":"x"});"#)
        #expect(PintrkRenderer.javaScript(.page()) == "pintrk('page');")
        #expect(PintrkRenderer.javaScript([.load(tagId: "123"), .page()]) == "pintrk('load', '123');\npintrk('page');\n")
    }

    @Test func javaScriptEscaping() {
        let call = PintrkCall.track("it's \\ </script>", ["k\u{2028}": "</script><!--\u{2029}&\"\n\u{1}", "a": ["b'"]])
        #expect(PintrkRenderer.javaScript(call)
            == #"pintrk('track', 'it\'s \\ \u003c/script\u003e', {"k\u2028":"\u003c/script\u003e\u003c!--\u2029\u0026\"\n\u0001","a":["b'"]});"#)
    }

    @Test func loaderSnippet() throws {
        let mapper = PinterestMapper(config: DestinationConfig(tagId: "2612345678901"))
        let snippet = try mapper.initSnippet(traits: ["email": "a@b.com"])
        #expect(snippet.contains("'https://s.pinimg.com/ct/core.js'"))
        #expect(snippet.contains("queue.push(Array.prototype.slice.call(arguments))"))
        #expect(snippet.hasSuffix("pintrk('load', '2612345678901', {\"em\":\"a@b.com\"});\npintrk('page');\n"))
        #expect(!snippet.contains("</script>"))
    }
}
