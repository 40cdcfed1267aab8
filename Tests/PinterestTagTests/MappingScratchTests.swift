@testable import PinterestTag
import PinJSON
import Testing

/// A scratch lends the mapping storage from one message to the next (data members, builder
/// buffers, resolved names and their warnings): results must not depend on what came before.
struct MappingScratchTests {
    static let config = """
        {"tagId":"1","eventsMapping":[{"from":"Lead Generated","to":"Lead"},{"from":"Both","to":"Lead"},{"from":"Both","to":"Signup"}],
         "customProperties":[{"properties":"custom.value"},{"properties":"0"},{"properties":"event_id"}],
         "deduplicationKey":"messageId"}
        """

    static let events = [
        #"{"type":"track","event":"Order Completed","messageId":"m1","properties":{"revenue":10.5,"value":3,"currency":"EUR","products":[{"product_id":"p","sku":"s","name":"n","price":1.25,"quantity":2,"category":"c","brand":"b","variant":"v"},7]}}"#,
        #"{"type":"track","event":"Custom Thing","messageId":"m2","properties":{"custom":{"value":12},"0":"zero","query":"q"}}"#,
        #"{"type":"track","event":"Custom Thing","properties":{"event_id":"mine","products":{"sku":"only"}}}"#,
        #"{"type":"track","event":"Lead Generated","messageId":"m3","properties":{"products":"not products"}}"#,
        #"{"type":"track","event":"Both","messageId":"m4","properties":[1,2]}"#,
        #"{"type":"page","name":"Home","category":"Shoes","messageId":"m5","properties":{"custom":{"value":"x"}}}"#,
        #"{"type":"identify","messageId":"m6","context":{"traits":{"email":"a@b.c","optOutType":"LDP","state":"CA"}}}"#,
        #"{"type":"track","event":"Product Added","messageId":"m7","context":{"traits":{"optOutType":"LDP","address":{"Country":"US"}}},"properties":{"sku":"x","price":0}}"#,
        #"{"type":"screen","messageId":"m8"}"#,
    ]

    @Test("mapping with a scratch gives what mapping without one gives, message after message")
    func sameResults() throws {
        let mapper = try mapper(Self.config)
        let scratch = MappingScratch()
        // Twice over, so that each message also follows every other kind.
        for text in Self.events + Self.events.reversed() + Self.events {
            let event = try json(text)
            let alone = mapper.map(event)
            let withScratch = mapper.mapEncoded(RudderMessage(event), reusing: scratch).decoded
            #expect(withScratch == alone, "\(text)")
        }
    }
}
