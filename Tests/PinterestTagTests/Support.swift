import PinJSON
import PinterestTag

/// Parses JSON test fixtures; a malformed fixture fails the test that uses it.
func json(_ text: String) throws -> JSONValue {
    try JSONParser().parse(text)
}

/// A mapper for a config given as JSON text.
func mapper(_ configText: String = "{}") throws -> PinterestMapper {
    PinterestMapper(config: try DestinationConfig.parse(text: configText).config)
}

/// Maps an event given as JSON text.
func map(_ eventText: String, config configText: String = "{}") throws -> MappingResult {
    try mapper(configText).map(try json(eventText))
}

/// The calls of a result as compact JSON, for key-for-key comparisons.
func rendered(_ result: MappingResult) -> String {
    PintrkRenderer.json(result.calls)
}

/// The data object of the first track call.
func trackData(_ result: MappingResult) -> JSONObject? {
    result.calls.first { $0.function == "track" }?.data
}

let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
