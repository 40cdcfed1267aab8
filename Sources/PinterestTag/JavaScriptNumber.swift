/// JavaScript's `Number.prototype.toString()` (ECMAScript `Number::toString` with radix 10), so
/// values converted with `String(x)` read exactly as they would in the browser that RudderStack's
/// Pinterest integration runs in.
public enum JavaScriptNumber {
    /// `2` → `"2"`, `2.5` → `"2.5"`, `1e21` → `"1e+21"`, `1e-7` → `"1e-7"`, `-0` → `"0"`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return "0" }  // -0 too, as JavaScript prints it
        let (digits, pointPosition) = shortestDigits(of: value.magnitude)
        let body = layout(digits: digits, n: pointPosition)
        return value < 0 ? "-" + body : body
    }

    /// JavaScript has one number type: an integer beyond 2^53 is the nearest double there.
    public static func format(_ value: Int64) -> String {
        let limit: Int64 = 1 << 53
        if value >= -limit && value <= limit { return String(value) }
        return format(Double(value))
    }

    /// The shortest decimal digits that round-trip (`[1, 2, 5]`) and `n`, the position of the
    /// decimal point, so that the value is `0.d1d2… × 10^n`. Swift's `description` already
    /// produces the shortest round-trip digits, which is what ECMAScript requires; only its layout
    /// differs, so the digits are taken from it.
    static func shortestDigits(of magnitude: Double) -> (digits: [UInt8], n: Int) {
        let text = magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits: [UInt8] = []
        var integerDigitCount = 0
        var seenPoint = false
        for byte in mantissa.utf8 {
            if byte == UInt8(ascii: ".") {
                seenPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { continue }
            digits.append(byte - UInt8(ascii: "0"))
            if !seenPoint { integerDigitCount += 1 }
        }
        var n = integerDigitCount + exponent
        var leading = 0
        while leading < digits.count && digits[leading] == 0 { leading += 1 }
        n -= leading
        digits.removeFirst(leading)
        while let last = digits.last, last == 0 { digits.removeLast() }
        if digits.isEmpty { return ([0], 1) }
        return (digits, n)
    }

    /// ECMAScript Number::toString steps 6-10 for a positive value.
    private static func layout(digits: [UInt8], n: Int) -> String {
        let k = digits.count
        let text = String(decoding: digits.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
        if k <= n && n <= 21 {
            return text + String(repeating: "0", count: n - k)
        }
        if 0 < n && n <= 21 {
            let split = text.index(text.startIndex, offsetBy: n)
            return text[..<split] + "." + text[split...]
        }
        if -6 < n && n <= 0 {
            return "0." + String(repeating: "0", count: -n) + text
        }
        let exponent = n - 1
        let sign = exponent < 0 ? "-" : "+"
        let mantissa = k == 1 ? text : String(text.prefix(1)) + "." + String(text.dropFirst())
        return mantissa + "e" + sign + String(exponent.magnitude)
    }
}
