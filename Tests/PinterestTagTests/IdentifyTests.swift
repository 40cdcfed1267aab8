import PinJSON
import PinterestTag
import Testing

/// Spec section 3: identify.
struct IdentifyTests {
    @Test("3 identify with email in context.traits sets em, empty LDP fields and event_id")
    func withEmail() throws {
        let result = try map(#"{"type":"identify","messageId":"m1","context":{"traits":{"email":"a@b.com","optOutType":"LDP","state":"CA"}}}"#)
        #expect(rendered(result) == #"[["set",{"em":"a@b.com","opt_out_type":"","st":"","country":"","event_id":"m1"}]]"#)
        #expect(result.warnings.isEmpty)
    }

    @Test("3 identify uses the dedup key for event_id")
    func dedupKey() throws {
        let result = try map(#"{"type":"identify","messageId":"m1","traits":{"x":0},"context":{"traits":{"email":"a@b.com"}}}"#,
                             config: #"{"deduplicationKey":"traits.x"}"#)
        #expect(result.calls.first?.data?["event_id"] == 0)
    }

    @Test("3 identify with email only in top-level traits sends nothing")
    func topLevelOnly() throws {
        let result = try map(#"{"type":"identify","messageId":"m1","traits":{"email":"a@b.com"},"context":{"traits":{}}}"#)
        #expect(result == .nothingToSend(
            reason: "identify has no email in context.traits.email, so there is nothing to set (traits.email is ignored, as in RudderStack)",
            warnings: []))
    }

    @Test("3 identify without email sends nothing")
    func withoutEmail() throws {
        for event in [#"{"type":"identify"}"#, #"{"type":"identify","context":{"traits":{"email":""}}}"#,
                      #"{"type":"identify","context":{"traits":{"email":null}}}"#, #"{"type":"identify","context":"x"}"#] {
            let result = try map(event)
            #expect(result.calls.isEmpty)
            #expect(result.reason == "identify has no email in context.traits.email, so there is nothing to set")
        }
    }
}
