import PinJSON
import PinterestTag
import Testing

/// The outcome value and its accessors.
struct MappingResultTests {
    @Test func accessors() {
        let calls = MappingResult.calls([.page()], warnings: ["w"])
        #expect(calls.calls == [.page()])
        #expect(calls.warnings == ["w"])
        #expect(calls.reason == nil)
        let nothing = MappingResult.nothingToSend(reason: "r", warnings: ["w"])
        #expect(nothing.calls.isEmpty)
        #expect(nothing.reason == "r")
        #expect(nothing.warnings == ["w"])
        let unsupported = MappingResult.unsupported(reason: "u")
        #expect(unsupported.reason == "u")
        #expect(unsupported.warnings.isEmpty)
        let failed = MappingResult.failed(message: "f", event: 1, warnings: [])
        #expect(failed.reason == "f")
        #expect(failed.calls.isEmpty)
    }

    @Test("3 a non-string email is sent as it is, with a warning")
    func nonStringEmail() throws {
        let result = try map(#"{"type":"identify","messageId":"m","context":{"traits":{"email":42}}}"#)
        #expect(result.calls.first?.data?["em"] == 42)
        #expect(result.warnings == ["context.traits.email is number 42, not a string: sent as it is"])
    }

    @Test("7 a non-string state is hashed as String(x), with a warning")
    func nonStringState() throws {
        let result = try map(#"{"type":"page","messageId":"m","context":{"traits":{"optOutType":"LDP","state":12}}}"#)
        // SHA-256 of "12".
        #expect(result.calls.first?.data?["st"] == "6b51d431df5d7f141cbececcf79edf3dd861c3b4069f0b11661a3eefacbba918")
        #expect(result.warnings == [#"context.traits state is number 12, not a string: hashed as "12""#])
    }
}
