import PinJSON

/// Text forms of `pintrk` calls.
public enum PintrkRenderer {
    /// Where Pinterest serves its tag library.
    public static let coreScriptURL = "https://s.pinimg.com/ct/core.js"

    /// One call as compact JSON: `["track","Checkout",{"value":25,...}]`, keys in the order the
    /// mapping built them.
    public static func json(_ call: PintrkCall) -> String {
        JSONWriter.string(call.jsonArray)
    }

    /// Several calls as one compact JSON array of call arrays.
    public static func json(_ calls: [PintrkCall]) -> String {
        JSONWriter.string(.array(calls.map(\.jsonArray)))
    }

    /// One call as a JavaScript statement: `pintrk('track', 'Checkout', {"value":25});`.
    /// Safe to place inside an HTML `<script>` element: `<`, `>`, `&`, U+2028 and U+2029 are
    /// escaped in every string.
    public static func javaScript(_ call: PintrkCall) -> String {
        guard case .array(let arguments) = call.jsonArray else { return "" }
        var text = "pintrk("
        for (index, argument) in arguments.enumerated() {
            if index > 0 { text += ", " }
            if case .string(let string) = argument {
                text += singleQuoted(string)
            } else {
                text += javaScriptLiteral(argument)
            }
        }
        return text + ");"
    }

    /// One statement per line, each ending in a newline.
    public static func javaScript(_ calls: [PintrkCall]) -> String {
        calls.map { javaScript($0) + "\n" }.joined()
    }

    /// The stub that defines `pintrk` at once (queueing calls) and loads Pinterest's library
    /// asynchronously, followed by `calls` (normally the `load` and `page` of `initCalls`).
    public static func loaderSnippet(_ calls: [PintrkCall]) -> String {
        // A queue-backed stand-in, so calls made before core.js arrives are replayed by it.
        let stub = """
            (function (win, doc, source) {
              if (win.pintrk) { return; }
              var queued = function () { queued.queue.push(Array.prototype.slice.call(arguments)); };
              queued.queue = [];
              queued.version = '3.0';
              win.pintrk = queued;
              var script = doc.createElement('script');
              script.async = true;
              script.src = source;
              var anchor = doc.getElementsByTagName('script')[0];
              if (anchor && anchor.parentNode) {
                anchor.parentNode.insertBefore(script, anchor);
              } else {
                (doc.head || doc.documentElement).appendChild(script);
              }
            })(window, document, \(singleQuoted(coreScriptURL)));

            """
        return stub + javaScript(calls)
    }

    /// A JavaScript string literal in single quotes.
    static func singleQuoted(_ text: String) -> String { quoted(text, by: "'") }

    /// A JSON value as a JavaScript expression: JSON text (a subset of JavaScript) with
    /// script-safe escapes and numbers written as JavaScript writes them.
    static func javaScriptLiteral(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .double(let number): return JavaScriptNumber.format(number)
        case .string(let text): return doubleQuoted(text)
        case .array(let elements):
            return "[" + elements.map(javaScriptLiteral).joined(separator: ",") + "]"
        case .object(let object):
            return "{" + object.elements.map { doubleQuoted($0.key) + ":" + javaScriptLiteral($0.value) }
                .joined(separator: ",") + "}"
        }
    }

    static func doubleQuoted(_ text: String) -> String { quoted(text, by: "\"") }

    /// A JavaScript string literal between `quote`s, with script-safe escapes.
    private static func quoted(_ text: String, by quote: Unicode.Scalar) -> String {
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case quote: out += "\\" + String(quote)
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += escapedForScript(scalar)
            }
        }
        return out + String(quote)
    }

    /// Control characters, the line separators JavaScript engines before ES2019 reject in
    /// strings, and the characters that could close the `<script>` element or open a comment.
    private static func escapedForScript(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0..<0x20, 0x7F, 0x2028, 0x2029, 0x3C, 0x3E, 0x26:
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default:
            return String(scalar)
        }
    }
}
