/// Deterministic generator of realistic RudderStack JavaScript SDK events (about 1 KB each):
/// eCommerce tracks with 1-4 products, custom tracks, pages with and without a category, and
/// identifies, some with an email. Same seed, same bytes.
struct EventGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// SplitMix64.
    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }

    private mutating func pick(_ options: [String]) -> String { options[int(0...(options.count - 1))] }

    private mutating func hex(_ digits: Int) -> String {
        var text = ""
        while text.count < digits { text += String(next(), radix: 16) }
        return String(text.prefix(digits))
    }

    private mutating func uuid() -> String {
        "\(hex(8))-\(hex(4))-4\(hex(3))-a\(hex(3))-\(hex(12))"
    }

    private mutating func price() -> String {
        "\(int(1...199)).\(int(10...99))"
    }

    static let commerce = ["Order Completed", "Product Added", "Products Searched", "Product List Filtered",
                           "Checkout Started", "Product Viewed", "Lead Generated", "Signed Up", "Video Played"]
    static let custom = ["Newsletter Subscribed", "Wishlist Shared", "Store Located", "Coupon Applied"]
    static let categories = ["Games", "Toys", "Books", "Shoes", "Garden"]

    private mutating func context(email: String?) -> String {
        let path = "/shop/\(int(1...999))"
        let traits = email.map { #"{"email":"\#($0)","plan":"\#(pick(["free", "pro"]))"}"# } ?? "{}"
        return #"{"app":{"build":"1.0.0","name":"RudderLabs JavaScript SDK","namespace":"com.rudderlabs.javascript","version":"3.7.2"},"library":{"name":"RudderLabs JavaScript SDK","version":"3.7.2"},"locale":"en-US","os":{"name":"","version":""},"page":{"path":"\#(path)","referrer":"https://www.pinterest.com/","search":"","title":"Shop","url":"https://shop.example.com\#(path)"},"screen":{"density":2,"height":900,"width":1440},"traits":\#(traits),"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"}"#
    }

    private mutating func envelope(type: String) -> String {
        let email = chance(0.6) ? "user\(int(1...5000))@example.com" : nil
        var text = #""anonymousId":"\#(uuid())","channel":"web","context":\#(context(email: email)),"integrations":{"All":true},"messageId":"\#(uuid())","originalTimestamp":"2026-11-2\#(int(0...8))T10:\#(int(10...59)):\#(int(10...59)).000Z","type":"\#(type)""#
        if chance(0.5) { text += #","userId":"user-\#(int(1...5000))""# }
        return text
    }

    private mutating func product(_ index: Int) -> String {
        var text = #"{"product_id":"\#(hex(24))","sku":"SKU-\#(int(10000...99999))","name":"Product \#(index)","price":\#(price()),"quantity":\#(int(1...4)),"category":"\#(pick(Self.categories))","brand":"Brand \#(int(1...9))""#
        if chance(0.3) { text += #","variant":"\#(pick(["red", "blue", "xl"]))""# }
        return text + "}"
    }

    /// One event as a JSON line (without the newline).
    mutating func event() -> String {
        let roll = Double(next() >> 11) / Double(1 << 53)
        if roll < 0.55 {
            let name = pick(Self.commerce)
            var properties: String
            switch name {
            case "Products Searched", "Product List Filtered":
                properties = #"{"query":"\#(pick(["shoes", "lego", "garden hose"]))""#
            case "Video Played":
                properties = #"{"video_title":"Intro \#(int(1...50))""#
            case "Lead Generated":
                properties = #"{"lead_type":"\#(pick(["newsletter", "demo"]))""#
            default:
                let products = (0..<int(1...4)).map { product($0) }.joined(separator: ",")
                properties = #"{"order_id":"ord-\#(int(1...1_000_000))","currency":"\#(pick(["USD", "EUR", "GBP"]))","value":\#(price()),"revenue":\#(price()),"coupon":"\#(pick(["", "SUMMER", "WELCOME10"]))","products":[\#(products)]"#
            }
            if chance(0.3) { properties += #","customProperty":{"customValue":"cv-\#(int(1...100))"}"# }
            return #"{\#(envelope(type: "track")),"event":"\#(name)","properties":\#(properties)}}"#
        }
        if roll < 0.70 {
            return #"{\#(envelope(type: "track")),"event":"\#(pick(Self.custom))","properties":{"campaign":"c\#(int(1...20))","value":\#(int(1...100))}}"#
        }
        if roll < 0.92 {
            let category = chance(0.5) ? #","category":"\#(pick(Self.categories))""# : ""
            return #"{\#(envelope(type: "page")),"name":"\#(pick(["Home", "Product Listing", "Checkout"]))"\#(category),"properties":{"path":"/shop","url":"https://shop.example.com/shop","title":"Shop"}}"#
        }
        let traits = chance(0.8) ? #"{"email":"user\#(int(1...5000))@example.com","firstName":"Ada"}"# : #"{"firstName":"Ada"}"#
        return #"{\#(envelope(type: "identify")),"traits":\#(traits)}"#
    }
}
