public import PinJSON

/// One difference between a value a test got and the value it wanted, at a path inside them.
public struct ValueDifference: Sendable, Equatable, CustomStringConvertible {
    /// Where the values differ: `pintrk[1][2].lead_type`; empty for the values themselves.
    public var path: String
    /// What the test got there; nil when it is missing.
    public var got: JSONValue?
    /// What the test wanted there; nil when nothing should be there.
    public var want: JSONValue?
    /// For subset matches: `null` in the wanted value means "absent", shown as such.
    public var wantAbsent = false

    public init(path: String, got: JSONValue?, want: JSONValue?, wantAbsent: Bool = false) {
        self.path = path
        self.got = got
        self.want = want
        self.wantAbsent = wantAbsent
    }

    /// `pintrk[1][2].lead_type: got "newsletter", want "webinar"`.
    public var description: String {
        let gotText = got.map { ValueDiff.render($0) } ?? "nothing"
        let wantText = wantAbsent ? "nothing" : (want.map { ValueDiff.render($0) } ?? "nothing")
        let body = "got \(gotText), want \(wantText)"
        return path.isEmpty ? body : "\(path): \(body)"
    }
}

/// Field-level comparison of JSON values, shared by declarative cases and Lua assertions so
/// that both report differences in the same words.
///
/// Numbers compare by value (`1` equals `1.0`): Lua cannot tell them apart and Pinterest does
/// not either. When `emptyContainersMatch` is set, an empty array equals an empty object,
/// because a Lua `{}` has no way to say which one it is.
public enum ValueDiff {
    /// How the wanted value constrains the one the test got.
    public enum Mode: Sendable {
        /// Same keys, same elements, same values.
        case exact
        /// Every key of a wanted object must be there with a matching value, other keys are
        /// ignored; a wanted `null` means the key must be absent (or null). Arrays must have the
        /// same length and their elements match as subsets.
        case subset
    }

    /// The differences, at most `limit` of them, in document order.
    /// - parameter path: the path of the values themselves (`pintrk`), or empty.
    /// - parameter indexBase: 0 for JSON-style paths (`pintrk[1]` is the second call), 1 for
    ///   Lua-style paths.
    public static func differences(
        got: JSONValue?, want: JSONValue?, path: String = "", mode: Mode = .exact,
        indexBase: Int = 0, emptyContainersMatch: Bool = false, limit: Int = 20
    ) -> [ValueDifference] {
        var walker = Walker(mode: mode, indexBase: indexBase, emptyContainersMatch: emptyContainersMatch, limit: limit)
        walker.compare(got, want, path: path)
        return walker.found
    }

    /// True when there is no difference.
    public static func matches(got: JSONValue?, want: JSONValue?, mode: Mode = .exact, emptyContainersMatch: Bool = false) -> Bool {
        differences(got: got, want: want, mode: mode, emptyContainersMatch: emptyContainersMatch, limit: 1).isEmpty
    }

    /// A value as diff lines show it: compact JSON, cut after 120 characters so that one
    /// huge value does not bury the report.
    public static func render(_ value: JSONValue) -> String {
        let text = JSONWriter.string(value)
        guard text.count > 120 else { return text }
        return String(text.prefix(117)) + "..."
    }

    /// `path.key`, or `path["odd key"]` when the key is not an identifier.
    public static func append(key: String, to path: String) -> String {
        let isIdentifier = key.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } ?? false
            && key.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        if isIdentifier { return path.isEmpty ? key : "\(path).\(key)" }
        return "\(path)[\(JSONWriter.string(.string(key)))]"
    }

    private struct Walker {
        let mode: Mode
        let indexBase: Int
        let emptyContainersMatch: Bool
        let limit: Int
        var found: [ValueDifference] = []

        init(mode: Mode, indexBase: Int, emptyContainersMatch: Bool, limit: Int) {
            self.mode = mode
            self.indexBase = indexBase
            self.emptyContainersMatch = emptyContainersMatch
            self.limit = limit
        }

        mutating func note(_ path: String, _ got: JSONValue?, _ want: JSONValue?, wantAbsent: Bool = false) {
            guard found.count < limit else { return }
            found.append(ValueDifference(path: path, got: got, want: want, wantAbsent: wantAbsent))
        }

        mutating func compare(_ got: JSONValue?, _ want: JSONValue?, path: String) {
            guard found.count < limit else { return }
            if mode == .subset, let want, want.isNull {
                if let got, !got.isNull { note(path, got, nil, wantAbsent: true) }
                return
            }
            guard let got, let want else {
                if got != nil || want != nil { note(path, got, want) }
                return
            }
            switch (got, want) {
            case (.object(let gotObject), .object(let wantObject)):
                for (key, wantValue) in wantObject {
                    compare(gotObject[key], wantValue, path: ValueDiff.append(key: key, to: path))
                }
                if mode == .exact {
                    for (key, gotValue) in gotObject where wantObject[key] == nil {
                        note(ValueDiff.append(key: key, to: path), gotValue, nil)
                    }
                }
            case (.array(let gotArray), .array(let wantArray)):
                for index in 0..<max(gotArray.count, wantArray.count) {
                    let elementPath = "\(path)[\(index + indexBase)]"
                    if mode == .subset, index >= wantArray.count {
                        note(elementPath, gotArray[index], nil)
                    } else {
                        // Spelled out: a bare `nil` here would become JSON null (JSONValue is
                        // ExpressibleByNilLiteral) rather than "no element".
                        let gotElement: JSONValue? = index < gotArray.count ? .some(gotArray[index]) : .none
                        let wantElement: JSONValue? = index < wantArray.count ? .some(wantArray[index]) : .none
                        compare(gotElement, wantElement, path: elementPath)
                    }
                }
            case (.array(let array), .object(let object)) where emptyContainersMatch && array.isEmpty && object.isEmpty:
                return
            case (.object(let object), .array(let array)) where emptyContainersMatch && array.isEmpty && object.isEmpty:
                return
            default:
                if !Self.scalarEqual(got, want) { note(path, got, want) }
            }
        }

        static func scalarEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
            switch (a, b) {
            case (.integer(let x), .double(let y)), (.double(let y), .integer(let x)):
                return Double(x) == y && Double(x) < 9.2e18 && Double(x) > -9.2e18
            default:
                return a == b
            }
        }
    }
}
