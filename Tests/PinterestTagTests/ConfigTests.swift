import PinJSON
import PinterestTag
import Testing

/// Spec section 1: the destination config.
struct ConfigTests {
    @Test("1 defaults: a missing key takes RudderStack's default")
    func defaults() throws {
        let parsed = try DestinationConfig.parse(text: "{}")
        #expect(parsed.config == DestinationConfig())
        #expect(parsed.config.tagId == nil)
        #expect(parsed.config.enhancedMatch == true)
        #expect(parsed.config.eventsMapping.isEmpty)
        #expect(parsed.config.customProperties.isEmpty)
        #expect(parsed.config.sendAsCustomEvent == false)
        #expect(parsed.config.deduplicationKey == nil)
        #expect(parsed.warnings.isEmpty)
    }

    @Test("1 every key, bare and wrapped in Config")
    func everyKey() throws {
        let body = """
            {"tagId": "2612345678901", "enhancedMatch": false,
             "eventsMapping": [{"from": " Signed Up ", "to": "Signup"}, {"from": "", "to": ""}],
             "customProperties": [{"properties": "customProperty.customValue"}, {"properties": ""}],
             "sendAsCustomEvent": true, "deduplicationKey": "properties.eventId"}
            """
        for text in [body, "{\"Config\": \(body), \"ID\": \"x\"}"] {
            let parsed = try DestinationConfig.parse(text: text)
            #expect(parsed.config == DestinationConfig(
                tagId: "2612345678901", enhancedMatch: false,
                eventsMapping: [EventMapping(from: " Signed Up ", to: "Signup"), EventMapping(from: "", to: "")],
                customProperties: ["customProperty.customValue"], sendAsCustomEvent: true,
                deduplicationKey: "properties.eventId"))
            #expect(parsed.warnings.isEmpty)
        }
    }

    @Test("1 null values count as absent")
    func nulls() throws {
        let parsed = try DestinationConfig.parse(text: """
            {"tagId": null, "enhancedMatch": null, "eventsMapping": null, "customProperties": null,
             "sendAsCustomEvent": null, "deduplicationKey": null}
            """)
        #expect(parsed.config == DestinationConfig())
    }

    @Test("1 unknown keys are warnings, not errors")
    func unknownKeys() throws {
        let parsed = try DestinationConfig.parse(text: """
            {"tagId": "2612345678901", "tagID": "1", "useNativeSDK": {"web": true},
             "eventsMapping": [{"from": "a", "to": "Lead", "note": "x"}]}
            """)
        #expect(parsed.warnings == [
            "unknown key 'tagID' ignored",
            "'useNativeSDK' is a RudderStack delivery setting that PinRules does not apply; ignored",
            "eventsMapping[0]: unknown key 'note' ignored",
        ])
    }

    @Test("1 tagId length outside 10-15 digits warns, does not reject")
    func tagIdLength() throws {
        let short = try DestinationConfig.parse(text: #"{"tagId": "123456"}"#)
        #expect(short.config.tagId == "123456")
        #expect(short.warnings == [#"tagId: "123456" has 6 digits; Pinterest Tag IDs have 10-15"#])
        #expect(try DestinationConfig.parse(text: #"{"tagId": "1234567890"}"#).warnings.isEmpty)
        #expect(try DestinationConfig.parse(text: #"{"tagId": "123456789012345"}"#).warnings.isEmpty)
        #expect(try DestinationConfig.parse(text: #"{"tagId": "1234567890123456"}"#).warnings.count == 1)
        #expect(try DestinationConfig.parse(text: #"{"tagId": ""}"#).config.tagId == nil)
    }

    @Test("1 to: empty string is valid and warned about when from is set")
    func emptyTo() throws {
        let parsed = try DestinationConfig.parse(text: #"{"eventsMapping": [{"from": "Viewed", "to": ""}]}"#)
        #expect(parsed.config.eventsMapping == [EventMapping(from: "Viewed", to: "")])
        #expect(parsed.warnings.count == 1)
    }

    // One case per bad key: the error names the key (and row).
    @Test(arguments: [
        (#"{"tagId": "12345abc90"}"#, #"tagId: "12345abc90" is not a Pinterest Tag ID; expected digits only"#),
        (#"{"tagId": 2612345678901}"#, "tagId: expected a string of digits, found number 2612345678901"),
        (#"{"tagId": " 2612345678901"}"#, #"tagId: " 2612345678901" is not a Pinterest Tag ID; expected digits only"#),
        (#"{"enhancedMatch": "true"}"#, #"enhancedMatch: expected true or false, found string "true""#),
        (#"{"sendAsCustomEvent": 1}"#, "sendAsCustomEvent: expected true or false, found number 1"),
        (#"{"eventsMapping": {"from": "a"}}"#, #"eventsMapping: expected an array of {"from", "to"} rows, found an object"#),
        (#"{"eventsMapping": ["a"]}"#, #"eventsMapping[0]: expected an object {"from", "to"}, found string "a""#),
        (#"{"eventsMapping": [{"from": "a", "to": "Lead"}, {"from": 3, "to": "Lead"}]}"#, "eventsMapping[1].from: expected a string, found number 3"),
        (#"{"eventsMapping": [{"from": "a", "to": ["Lead"]}]}"#, "eventsMapping[0].to: expected a string, found an array"),
        (#"{"eventsMapping": [{"from":"a","to":"Lead"},{"from":"b","to":"Lead"},{"from":"c","to":"Chekout"}]}"#,
         #"eventsMapping[2].to: "Chekout" is not a Pinterest event; expected one of Checkout, AddToCart, PageVisit, Signup, WatchVideo, Lead, Search, ViewCategory, Custom or """#),
        (#"{"eventsMapping": [{"from": "a", "to": "SignUp"}]}"#,
         #"eventsMapping[0].to: "SignUp" is not a Pinterest event; expected one of Checkout, AddToCart, PageVisit, Signup, WatchVideo, Lead, Search, ViewCategory, Custom or "" (did you mean Signup?)"#),
        (#"{"customProperties": "a.b"}"#, #"customProperties: expected an array of {"properties": path} rows, found string "a.b""#),
        (#"{"customProperties": [{"properties": "a"}, "b"]}"#, #"customProperties[1]: expected an object {"properties": path}, found string "b""#),
        (#"{"customProperties": [{"properties": true}]}"#, "customProperties[0].properties: expected a string, found boolean true"),
        (#"{"deduplicationKey": ["messageId"]}"#, "deduplicationKey: expected a dot path string, found an array"),
        (#"{"Config": "x"}"#, #"Config: expected an object, found string "x""#),
        ("[]", "expected a JSON object, found an array"),
    ])
    func badKey(text: String, expected: String) throws {
        #expect(throws: ConfigError.self) { try DestinationConfig.parse(text: text) }
        do {
            _ = try DestinationConfig.parse(text: text)
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test("1 errors expose the key and row at fault")
    func keyAndRow() {
        let error = ConfigError(path: "eventsMapping[2].to", message: "x")
        #expect(error.key == "eventsMapping")
        #expect(error.row == 2)
        #expect(ConfigError(path: "tagId", message: "x").key == "tagId")
        #expect(ConfigError(path: "tagId", message: "x").row == nil)
        #expect(ConfigError(path: nil, message: "x").key == nil)
    }

    @Test("1 JSON syntax errors are reported with their position")
    func syntax() {
        do {
            _ = try DestinationConfig.parse(text: #"{"tagId": "1",}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.path == nil)
            #expect(error.description.hasPrefix("the configuration is not valid JSON: "))
            #expect(error.description == "the configuration is not valid JSON: expected a string key, found character '}' at byte 14")
        }
    }
}
