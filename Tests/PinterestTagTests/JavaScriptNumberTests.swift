import PinJSON
@testable import PinterestTag
import Testing

/// `String(x)` of numbers, as JavaScript's Number.prototype.toString gives them.
struct JavaScriptNumberTests {
    @Test(arguments: [
        (2.0, "2"), (2.5, "2.5"), (25.0, "25"), (-0.0, "0"), (0.0, "0"), (-2.5, "-2.5"),
        (1e21, "1e+21"), (1e20, "100000000000000000000"), (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"), (0.000001, "0.000001"), (0.0000012, "0.0000012"), (1.5e-7, "1.5e-7"),
        (0.1, "0.1"), (0.1 + 0.2, "0.30000000000000004"), (100.0, "100"), (1.25e22, "1.25e+22"),
        (5e-324, "5e-324"), (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        (9007199254740993.0, "9007199254740992"), (1e16, "10000000000000000"), (123.456, "123.456"),
        (-1e-7, "-1e-7"), (27.5, "27.5"), (0.5, "0.5"),
    ])
    func doubles(value: Double, expected: String) {
        #expect(JavaScriptNumber.format(value) == expected)
    }

    @Test func nonFinite() {
        #expect(JavaScriptNumber.format(Double.nan) == "NaN")
        #expect(JavaScriptNumber.format(Double.infinity) == "Infinity")
        #expect(JavaScriptNumber.format(-Double.infinity) == "-Infinity")
    }

    @Test(arguments: [
        (Int64(0), "0"), (Int64(2), "2"), (Int64(-17), "-17"), (Int64(9007199254740992), "9007199254740992"),
        // Beyond 2^53 JavaScript holds the nearest double.
        (Int64(9007199254740993), "9007199254740992"), (Int64.max, "9223372036854776000"),
        (Int64.min, "-9223372036854776000"),
    ])
    func integers(value: Int64, expected: String) {
        #expect(JavaScriptNumber.format(value) == expected)
    }

    @Test func stringOfValues() {
        #expect(JSONValue.bool(true).javaScriptString == "true")
        #expect(JSONValue.bool(false).javaScriptString == "false")
        #expect(JSONValue.string("x y").javaScriptString == "x y")
        #expect(JSONValue.object([:]).javaScriptString == "[object Object]")
        #expect(JSONValue.object(["a": 1]).javaScriptString == "[object Object]")
        #expect(JSONValue.array([]).javaScriptString == "")
        #expect(JSONValue.array([1, 2]).javaScriptString == "1,2")
        #expect(JSONValue.array([1, nil, "a", [2, [3, nil]], ["k": 1], 2.5]).javaScriptString == "1,,a,2,3,,[object Object],2.5")
        #expect(JSONValue.double(25.0).javaScriptString == "25")
        #expect(JSONValue.null.javaScriptString == "null")
    }
}
