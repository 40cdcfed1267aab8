public import PinJSON

extension JSONValue {
    /// This value as JavaScript's `String(x)` gives it, which is what RudderStack's
    /// `value.toString()` produces for custom properties: numbers as JavaScript prints them,
    /// `true`/`false`, arrays joined with `,` (null elements empty, nested arrays flattened the
    /// same way), objects as `[object Object]`, `null` as `"null"`.
    public var javaScriptString: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return JavaScriptNumber.format(number)
        case .double(let number): return JavaScriptNumber.format(number)
        case .string(let text): return text
        case .object: return "[object Object]"
        case .array(let elements):
            // Array.prototype.join turns null and undefined elements into empty strings.
            return elements.map { element in
                if case .null = element { return "" }
                return element.javaScriptString
            }.joined(separator: ",")
        }
    }
}
