@testable import PinterestTag
import PinJSON
import Testing

/// The byte index behind event names (`NameIndex`), and the warning for custom event names,
/// checked against the plain definitions they stand for.
struct EventNameLookupTests {
    @Test("NameIndex finds exactly the names it holds, by bytes, at their first position")
    func exactIndex() {
        // Names chosen to share lengths, first, middle and last bytes (the hash's inputs).
        let names = ["product_id", "product_ix", "prodact_id", "sku", "skv", "", "é", "e\u{301}", "product_id", "a", "A"]
        let index = NameIndex(names)
        for name in names {
            #expect(index.position(of: name) == names.firstIndex { same($0, name) }, "\(name)")
        }
        for missing in ["Product_id", "product", "product_id ", "sk", "b", "ée", "E"] {
            #expect(index.position(of: missing) == nil, "\(missing)")
        }
        #expect(NameIndex([String]()).position(of: "x") == nil)
        #expect(NameIndex([String]()).isEmpty)
    }

    @Test("line item keys are found by length and bytes exactly where the name list has them")
    func lineItemSlots() {
        var keys = ["product_id", "sku", "name", "price", "quantity", "category", "brand", "variant"]
        keys += ["", "SKU", "skus", "nam", "Name", "prices", "brand ", "variants", "quantities", "categorY",
                 "product_ix", "product_id2", "product_name", "value", "id", "br\u{0}nd", "variant\n"]
        let slots = (["product_id", "sku"] + PinterestMapper.lineItemFields.map(\.source)).map { Array($0.utf8) }
        for key in keys {
            let bytes = Array(key.utf8)
            bytes.withUnsafeBytes { raw in
                #expect(DataMembers.lineItemSlot(of: raw) == slots.firstIndex(of: bytes), "\(key)")
            }
        }
    }

    @Test("allowed property keys are found by length and bytes exactly where the name list has them")
    func allowedPropertyKeys() {
        var keys = Array(PinterestMapper.allowedPropertyKeys)
        keys += keys.map { $0.uppercased() } + keys.map { String($0.dropLast()) } + keys.map { $0 + "s" }
        keys += ["", "revenue", "query", "products", "sku", "price", "product_idd", "order_ix", "properti"]
        let allowed = PinterestMapper.allowedPropertyKeys.map { Array($0.utf8) }
        for key in keys {
            let bytes = Array(key.utf8)
            bytes.withUnsafeBytes { raw in
                #expect(PinterestMapper.isAllowedPropertyKey(raw) == allowed.contains(bytes), "\(key)")
            }
        }
    }

    @Test("sameBytes: equal runs of any length, and a difference at any position, found")
    func sameBytesAtEveryLength() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            bytes.withUnsafeBytes { a in
                Array(bytes).withUnsafeBytes { b in #expect(sameBytes(a, b), "\(length)") }
                (bytes + [0]).withUnsafeBytes { longer in #expect(!sameBytes(a, longer), "\(length)") }
            }
            for position in 0..<length {
                var other = bytes
                other[position] ^= 0x80
                bytes.withUnsafeBytes { a in other.withUnsafeBytes { b in #expect(!sameBytes(a, b), "\(length) \(position)") } }
            }
        }
    }

    @Test("NameIndex over many names agrees with a linear search, with and without ASCII case")
    func manyNames() {
        var generator = SplitMix(seed: 7)
        let alphabet = Array("abcAB_ é".unicodeScalars)
        func word() -> String {
            String(String.UnicodeScalarView((0..<generator.next(below: 6)).map { _ in alphabet[generator.next(below: alphabet.count)] }))
        }
        for _ in 0..<50 {
            let names = (0..<generator.next(below: 40)).map { _ in word() }
            let exact = NameIndex(names)
            let lowered = names.map { String($0.unicodeScalars.map { $0.isASCII ? Character($0).lowercased() : String($0) }.joined()) }
            let folded = NameIndex(lowered, asciiCaseInsensitive: true)
            for _ in 0..<60 {
                let key = generator.next(below: 2) == 0 && !names.isEmpty ? names[generator.next(below: names.count)] : word()
                #expect(exact.position(of: key) == names.firstIndex { same($0, key) })
                let keyFolded = String(key.unicodeScalars.map { $0.isASCII ? Character($0).lowercased() : String($0) }.joined())
                #expect(folded.position(of: key) == lowered.firstIndex { same($0, keyFolded) })
            }
        }
    }

    @Test("built-in names match in any ASCII case, and only themselves")
    func builtInCase() {
        for (name, event) in PinterestMapper.builtInEventMap {
            #expect(PinterestMapper.builtInEvent(name) == event)
            #expect(PinterestMapper.builtInEvent(name.uppercased()) == event)
            #expect(PinterestMapper.builtInEvent(String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })) == event)
            #expect(PinterestMapper.builtInEvent(name + " ") == nil)
            #expect(PinterestMapper.builtInEvent(String(name.dropLast()) + "x") == nil)
        }
        #expect(PinterestMapper.builtInEvent("") == nil)
        #expect(PinterestMapper.builtInEvent("Product Addéd") == nil)
    }

    @Test("the custom-event warning is the interpolated text, quotes and escapes included")
    func unmappedWarning() {
        for name in ["Video Played", "x", "", "a \"quoted\" name", "back\\slash", "tab\there", "é 😀"] {
            let expected = "\(quoted(name)) is not mapped to a Pinterest event: sent under its own name, which Pinterest treats as a user-defined event (no conversion reporting)"
            #expect(PinterestMapper.unmappedWarning(name) == expected, "\(name)")
        }
        #expect(quoted("a\"b") == #""a\"b""#)
        #expect(quoted("plain") == #""plain""#)
    }

    @Test("cached event names are what resolving gives, warnings included, every time")
    func cachedNames() throws {
        let config = #"{"eventsMapping":[{"from":"Signed Up","to":"Signup"},{"from":"Signed Up","to":"Lead"},{"from":"Odd","to":""}]}"#
        let primary = try mapper(config)
        let other = try mapper(#"{"sendAsCustomEvent":true}"#)
        var cache = EventNameCache()
        // More names than slots, so that names share slots and replace each other.
        let names = ["Signed Up", "Odd", "Product Added", "PRODUCT ADDED", "", "é", "x\"y"] + (0..<200).map { "Custom \($0)" }
        for round in 0..<3 {
            for name in names + names.reversed() {
                let resolver = round == 1 ? other : primary
                // With warnings before and without (then the cached array is taken as it is).
                let before: [String] = round == 2 ? [] : ["earlier"]
                var expectedWarnings = before, warnings = before
                let expected = resolver.resolveEventNames(name, warnings: &expectedWarnings)
                var bytes = Array(name.utf8)
                let names = bytes.withUnsafeMutableBytes { cache.names(for: UnsafeRawBufferPointer($0), mapper: resolver, warnings: &warnings) }
                switch names {
                case .one(let one): #expect([one] == expected, "\(name)")
                case .mapped(let many): #expect(many == expected, "\(name)")
                }
                #expect(warnings == expectedWarnings, "\(name)")
                bytes.removeAll()
            }
        }
    }

    @Test("a user mapping of many rows finds each name, rows with one name merged in order")
    func largeUserMapping() throws {
        var rows: [String] = []
        for index in 0..<300 { rows.append(#"{"from":"Event \#(index)","to":"Lead"}"#) }
        rows.append(#"{"from":" Event 7 ","to":"Signup"}"#)
        rows.append(#"{"from":"Event 7","to":"Lead"}"#)
        let mapper = try mapper(#"{"eventsMapping":[\#(rows.joined(separator: ","))]}"#)
        for index in 0..<300 where index != 7 {
            #expect(mapper.resolveEventNames("Event \(index)") == ["Lead"])
        }
        #expect(mapper.resolveEventNames("Event 7") == ["Lead", "Signup"])
        #expect(mapper.resolveEventNames("Event 300") == ["Event 300"])
        #expect(mapper.resolveEventNames("event 1") == ["event 1"])
    }
}

/// Equal UTF-8 bytes (Swift's `==` would also match canonically equivalent spellings).
private func same(_ lhs: String, _ rhs: String) -> Bool { Array(lhs.utf8) == Array(rhs.utf8) }

/// A small deterministic generator for the tests above.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(below bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(max(bound, 1)))
    }
}
