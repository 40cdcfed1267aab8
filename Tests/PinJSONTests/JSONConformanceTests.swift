import XCTest
import PinJSON

/// A corpus modelled on the categories of Nicolas Seriot's JSONTestSuite, written inline:
/// `y_` texts must parse (most with the value they must give), `n_` texts must fail, and `i_`
/// texts are those RFC 8259 leaves to the implementation; for each our choice is written down
/// and pinned. Every failure must carry an offset inside the input.
final class JSONConformanceTests: XCTestCase {
    /// Bytes of a Swift string, so cases read like the files they stand for.
    private static func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: y_ — must parse

    static let mustParse: [(name: String, text: [UInt8], expected: JSONValue?)] = [
        ("y_array_arraysWithSpaces", b("[[]   ]"), [[]]),
        ("y_array_empty", b("[]"), []),
        ("y_array_empty-string", b(#"[""]"#), [""]),
        ("y_array_ending_with_newline", b("[\"a\"]\n"), ["a"]),
        ("y_array_false", b("[false]"), [false]),
        ("y_array_heterogeneous", b(#"[null, 1, "1", {}]"#), [nil, 1, "1", .object([:])]),
        ("y_array_null", b("[null]"), [nil]),
        ("y_array_with_1_and_newline", b("[1\n]"), [1]),
        ("y_array_with_leading_space", b(" [1]"), [1]),
        ("y_array_with_several_null", b("[1,null,null,null,2]"), [1, nil, nil, nil, 2]),
        ("y_array_with_trailing_space", b("[2] "), [2]),
        ("y_number", b("[123e65]"), [.double(123e65)]),
        ("y_number_0e+1", b("[0e+1]"), [.double(0)]),
        ("y_number_0e1", b("[0e1]"), [.double(0)]),
        ("y_number_after_space", b("[ 4]"), [4]),
        ("y_number_double_close_to_zero", b("[-0.000000000000000000000000000000000000000000000000000000000000000000000000000001]"),
         [.double(-1e-78)]),
        ("y_number_int_with_exp", b("[20e1]"), [.double(200)]),
        ("y_number_minus_zero", b("[-0]"), [.integer(0)]),
        ("y_number_negative_int", b("[-123]"), [-123]),
        ("y_number_negative_one", b("[-1]"), [-1]),
        ("y_number_negative_zero", b("[-0]"), [0]),
        ("y_number_real_capital_e", b("[1E22]"), [.double(1e22)]),
        ("y_number_real_capital_e_neg_exp", b("[1E-2]"), [.double(0.01)]),
        ("y_number_real_capital_e_pos_exp", b("[1E+2]"), [.double(100)]),
        ("y_number_real_exponent", b("[123e45]"), [.double(123e45)]),
        ("y_number_real_fraction_exponent", b("[123.456e78]"), [.double(123.456e78)]),
        ("y_number_real_neg_exp", b("[1e-2]"), [.double(0.01)]),
        ("y_number_real_pos_exponent", b("[1e+2]"), [.double(100)]),
        ("y_number_simple_int", b("[123]"), [123]),
        ("y_number_simple_real", b("[123.456789]"), [.double(123.456789)]),
        ("y_number_int64_max", b("9223372036854775807"), .integer(.max)),
        ("y_number_int64_min", b("-9223372036854775808"), .integer(.min)),
        ("y_number_smallest_subnormal", b("5e-324"), .double(.leastNonzeroMagnitude)),
        ("y_number_largest_double", b("1.7976931348623157e308"), .double(.greatestFiniteMagnitude)),
        ("y_number_long_fraction", b("0.1000000000000000055511151231257827021181583404541015625"), .double(0.1)),
        ("y_number_many_digits", b("1234567890123456789012345678901234567890.5"), .double(1234567890123456789012345678901234567890.5)),
        ("y_object", b(#"{"asd":"sdf", "dfg":"fgh"}"#), ["asd": "sdf", "dfg": "fgh"]),
        ("y_object_basic", b(#"{"asd":"sdf"}"#), ["asd": "sdf"]),
        ("y_object_duplicated_key", b(#"{"a":"b","a":"c"}"#), ["a": "c"]),
        ("y_object_duplicated_key_and_value", b(#"{"a":"b","a":"b"}"#), ["a": "b"]),
        ("y_object_empty", b("{}"), .object([:])),
        ("y_object_empty_key", b(#"{"":0}"#), ["": 0]),
        ("y_object_escaped_null_in_key", b(#"{"foo\u0000bar": 42}"#), ["foo\u{0}bar": 42]),
        ("y_object_extreme_numbers", b(#"{ "min": -1.0e+28, "max": 1.0e+28 }"#), ["min": .double(-1e28), "max": .double(1e28)]),
        ("y_object_long_strings", b(#"{"x":[{"id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}], "id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#),
         ["x": [["id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]], "id": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]),
        ("y_object_simple", b(#"{"a":[]}"#), ["a": []]),
        ("y_object_string_unicode", b(#"{"title":"\u041f\u043e\u043b\u0442\u043e\u0440\u0430 \u0417\u0435\u043c\u043b\u0435\u043a\u043e\u043f\u0430" }"#),
         ["title": "Полтора Землекопа"]),
        ("y_object_with_newlines", b("{\n\"a\": \"b\"\n}"), ["a": "b"]),
        ("y_object_same_key_escaped_differently", b(#"{"a":1,"\u0061":2}"#), ["a": 2]),
        ("y_string_1_2_3_bytes_UTF-8_sequences", b(#"["\u0060\u012a\u12AB"]"#), ["\u{60}\u{12A}\u{12AB}"]),
        ("y_string_accepted_surrogate_pair", b(#"["\uD801\udc37"]"#), ["\u{10437}"]),
        ("y_string_accepted_surrogate_pairs", b(#"["\ud83d\ude39\ud83d\udc8d"]"#), ["😹💍"]),
        ("y_string_allowed_escapes", b(#"["\"\\\/\b\f\n\r\t"]"#), ["\"\\/\u{8}\u{C}\n\r\t"]),
        ("y_string_backslash_and_u_escaped_zero", b(#"["\\u0000"]"#), ["\\u0000"]),
        ("y_string_backslash_doublequotes", b(#"["\""]"#), ["\""]),
        ("y_string_comments", b(#"["a/*b*/c/*d//e"]"#), ["a/*b*/c/*d//e"]),
        ("y_string_double_escape_a", b(#"["\\a"]"#), ["\\a"]),
        ("y_string_double_escape_n", b(#"["\\n"]"#), ["\\n"]),
        ("y_string_escaped_control_character", b(#"["\u0012"]"#), ["\u{12}"]),
        ("y_string_escaped_noncharacter", b(#"["\uFFFF"]"#), ["\u{FFFF}"]),
        ("y_string_in_array", b(#"["asd"]"#), ["asd"]),
        ("y_string_in_array_with_leading_space", b(#"[ "asd"]"#), ["asd"]),
        ("y_string_last_surrogates_1_and_2", b(#"["\uDBFF\uDFFF"]"#), ["\u{10FFFF}"]),
        ("y_string_nbsp_uescaped", b(#"["new\u00A0line"]"#), ["new\u{A0}line"]),
        ("y_string_nonCharacterInUTF-8_U+10FFFF", b("[\"\u{10FFFF}\"]"), ["\u{10FFFF}"]),
        ("y_string_nonCharacterInUTF-8_U+FFFF", b("[\"\u{FFFF}\"]"), ["\u{FFFF}"]),
        ("y_string_null_escape", b(#"["\u0000"]"#), ["\u{0}"]),
        ("y_string_one-byte-utf-8", b(#"["\u002c"]"#), [","]),
        ("y_string_pi", b("[\"π\"]"), ["π"]),
        ("y_string_reservedCharacterInUTF-8_U+1BFFF", b("[\"\u{1BFFF}\"]"), ["\u{1BFFF}"]),
        ("y_string_simple_ascii", b(#"["asd "]"#), ["asd "]),
        ("y_string_space", b(#"" ""#), " "),
        ("y_string_surrogates_U+1D11E_MUSICAL_SYMBOL_G_CLEF", b(#"["\uD834\uDd1e"]"#), ["𝄞"]),
        ("y_string_three-byte-utf-8", b(#"["\u0821"]"#), ["\u{821}"]),
        ("y_string_two-byte-utf-8", b(#"["\u0123"]"#), ["\u{123}"]),
        ("y_string_u+2028_line_sep", b("[\"\u{2028}\"]"), ["\u{2028}"]),
        ("y_string_u+2029_par_sep", b("[\"\u{2029}\"]"), ["\u{2029}"]),
        ("y_string_uEscape", b(#"["\u0061\u30af\u30EA\u30b9"]"#), ["aクリス"]),
        ("y_string_uescaped_newline", b(#"["new\u000Aline"]"#), ["new\nline"]),
        ("y_string_unescaped_char_delete", b("[\"\u{7F}\"]"), ["\u{7F}"]),
        ("y_string_unicode", b(#"["\uA66D"]"#), ["\u{A66D}"]),
        ("y_string_unicodeEscapedBackslash", b(#"["\u005C"]"#), ["\\"]),
        ("y_string_unicode_2", b("[\"⍂㈴⍂\"]"), ["⍂㈴⍂"]),
        ("y_string_unicode_escaped_double_quote", b(#"["\u0022"]"#), ["\""]),
        ("y_string_utf8", b("[\"€𝄞\"]"), ["€𝄞"]),
        ("y_string_with_del_character", b("[\"a\u{7F}a\"]"), ["a\u{7F}a"]),
        ("y_string_long_ascii_run", b("\"" + String(repeating: "abcdefgh", count: 40) + "\""),
         .string(String(repeating: "abcdefgh", count: 40))),
        ("y_string_escape_after_long_run", b(#""abcdefghijklmnop\"qrstuvwxyz""#), "abcdefghijklmnop\"qrstuvwxyz"),
        ("y_string_multibyte_at_every_alignment", b("\"a€bb€ccc€dddd€\""), "a€bb€ccc€dddd€"),
        ("y_structure_lonely_false", b("false"), false),
        ("y_structure_lonely_int", b("42"), 42),
        ("y_structure_lonely_negative_real", b("-0.1"), .double(-0.1)),
        ("y_structure_lonely_null", b("null"), nil),
        ("y_structure_lonely_string", b(#""asd""#), "asd"),
        ("y_structure_lonely_true", b("true"), true),
        ("y_structure_string_empty", b(#""""#), ""),
        ("y_structure_trailing_newline", b("[\"a\"]\n"), ["a"]),
        ("y_structure_true_in_array", b("[true]"), [true]),
        ("y_structure_whitespace_array", b(" [] "), []),
        ("y_structure_all_whitespace_kinds", b(" \t\n\r{ \t\n\r\"a\" \t\n\r: \t\n\r[ \t\n\r1 \t\n\r, \t\n\r2 \t\n\r] \t\n\r} \t\n\r"),
         ["a": [1, 2]]),
        ("y_structure_nested_mixed", b(#"{"a":[{"b":{"c":[[],{}]}}],"d":null}"#), ["a": [["b": ["c": [[], .object([:])]]]], "d": nil]),
    ]

    // MARK: n_ — must fail

    static let mustFail: [(name: String, text: [UInt8])] = [
        ("n_array_1_true_without_comma", b("[1 true]")),
        ("n_array_a_invalid_utf8", b("[a") + [0xE5] + b("]")),
        ("n_array_colon_instead_of_comma", b(#"["": 1]"#)),
        ("n_array_comma_after_close", b(#"[""],"#)),
        ("n_array_comma_and_number", b("[,1]")),
        ("n_array_double_comma", b("[1,,2]")),
        ("n_array_double_extra_comma", b(#"["x",,]"#)),
        ("n_array_extra_close", b(#"["x"]]"#)),
        ("n_array_extra_comma", b(#"["",]"#)),
        ("n_array_incomplete", b(#"["x""#)),
        ("n_array_incomplete_invalid_value", b("[x")),
        ("n_array_inner_array_no_comma", b("[3[4]]")),
        ("n_array_invalid_utf8", b("[") + [0xFF] + b("]")),
        ("n_array_items_separated_by_semicolon", b("[1:2]")),
        ("n_array_just_comma", b("[,]")),
        ("n_array_just_minus", b("[-]")),
        ("n_array_missing_value", b(#"[   , ""]"#)),
        ("n_array_newlines_unclosed", b("[\"a\",\n4\n,1,")),
        ("n_array_number_and_comma", b("[1,]")),
        ("n_array_number_and_several_commas", b("[1,,]")),
        ("n_array_spaces_vertical_tab_formfeed", b("[\"\u{0B}a\"\\f]")),
        ("n_array_star_inside", b("[*]")),
        ("n_array_unclosed", b(#"[""#)),
        ("n_array_unclosed_trailing_comma", b("[1,")),
        ("n_array_unclosed_with_new_lines", b("[1,\n1\n,1")),
        ("n_array_unclosed_with_object_inside", b("[{}")),
        ("n_incomplete_false", b("[fals]")),
        ("n_incomplete_null", b("[nul]")),
        ("n_incomplete_true", b("[tru]")),
        ("n_number_++", b("[++1234]")),
        ("n_number_+1", b("[+1]")),
        ("n_number_+Inf", b("[+Inf]")),
        ("n_number_-01", b("[-01]")),
        ("n_number_-1.0.", b("[-1.0.]")),
        ("n_number_-2.", b("[-2.]")),
        ("n_number_-NaN", b("[-NaN]")),
        ("n_number_.-1", b("[.-1]")),
        ("n_number_.2e-3", b("[.2e-3]")),
        ("n_number_0.1.2", b("[0.1.2]")),
        ("n_number_0.3e+", b("[0.3e+]")),
        ("n_number_0.3e", b("[0.3e]")),
        ("n_number_0.e1", b("[0.e1]")),
        ("n_number_0_capital_E+", b("[0E+]")),
        ("n_number_0_capital_E", b("[0E]")),
        ("n_number_0e+", b("[0e+]")),
        ("n_number_0e", b("[0e]")),
        ("n_number_1.0e+", b("[1.0e+]")),
        ("n_number_1.0e-", b("[1.0e-]")),
        ("n_number_1.0e", b("[1.0e]")),
        ("n_number_1_000", b("[1 000.0]")),
        ("n_number_1eE2", b("[1eE2]")),
        ("n_number_2.e+3", b("[2.e+3]")),
        ("n_number_2.e-3", b("[2.e-3]")),
        ("n_number_2.e3", b("[2.e3]")),
        ("n_number_9.e+", b("[9.e+]")),
        ("n_number_Inf", b("[Inf]")),
        ("n_number_NaN", b("[NaN]")),
        ("n_number_U+FF11_fullwidth_digit_one", b("[１]")),
        ("n_number_expression", b("[1+2]")),
        ("n_number_hex_1_digit", b("[0x1]")),
        ("n_number_hex_2_digits", b("[0x42]")),
        ("n_number_infinity", b("[Infinity]")),
        ("n_number_invalid+-", b("[0e+-1]")),
        ("n_number_invalid-negative-real", b("[-123.123foo]")),
        ("n_number_minus_infinity", b("[-Infinity]")),
        ("n_number_minus_sign_with_trailing_garbage", b("[-foo]")),
        ("n_number_minus_space_1", b("[- 1]")),
        ("n_number_neg_int_starting_with_zero", b("[-012]")),
        ("n_number_neg_real_without_int_part", b("[-.123]")),
        ("n_number_real_garbage_after_e", b("[1ea]")),
        ("n_number_real_without_fractional_part", b("[1.]")),
        ("n_number_starting_with_dot", b("[.123]")),
        ("n_number_with_alpha", b("[1.2a-3]")),
        ("n_number_with_leading_zero", b("[012]")),
        ("n_number_lone_minus_at_end", b("-")),
        ("n_object_bad_value", b(#"["x", truth]"#)),
        ("n_object_bracket_key", b(#"{[: "x"}"#)),
        ("n_object_comma_instead_of_colon", b(#"{"x", null}"#)),
        ("n_object_double_colon", b(#"{"x"::"b"}"#)),
        ("n_object_emoji", b("{🇨🇭}")),
        ("n_object_garbage_at_end", b(#"{"a":"a" 123}"#)),
        ("n_object_key_with_single_quotes", b("{key: 'value'}")),
        ("n_object_missing_colon", b(#"{"a" b}"#)),
        ("n_object_missing_key", b(#"{:"b"}"#)),
        ("n_object_missing_semicolon", b(#"{"a" "b"}"#)),
        ("n_object_missing_value", b(#"{"a":"#)),
        ("n_object_no-colon", b(#"{"a""#)),
        ("n_object_non_string_key", b("{1:1}")),
        ("n_object_repeated_null_null", b("{null:null,null:null}")),
        ("n_object_several_trailing_commas", b(#"{"id":0,,,,,}"#)),
        ("n_object_single_quote", b("{'a':0}")),
        ("n_object_trailing_comma", b(#"{"id":0,}"#)),
        ("n_object_trailing_comment", b(#"{"a":"b"}/**/"#)),
        ("n_object_trailing_comment_slash_open", b(#"{"a":"b"}//"#)),
        ("n_object_two_commas_in_a_row", b(#"{"a":"b",,"c":"d"}"#)),
        ("n_object_unquoted_key", b(#"{a: "b"}"#)),
        ("n_object_unterminated-value", b(#"{"a":"a"#)),
        ("n_object_with_single_string", b(#"{ "foo" : "bar", "a" }"#)),
        ("n_object_with_trailing_garbage", b(#"{"a":"b"}#"#)),
        ("n_single_space", b(" ")),
        ("n_string_1_surrogate_then_escape", b(#"["\uD800\"]"#)),
        ("n_string_1_surrogate_then_escape_u", b(#"["\uD800\u"]"#)),
        ("n_string_1_surrogate_then_escape_u1", b(#"["\uD800\u1"]"#)),
        ("n_string_1_surrogate_then_escape_u1x", b(#"["\uD800\u1x"]"#)),
        ("n_string_accentuated_char_no_quotes", b("[é]")),
        ("n_string_backslash_00", b("[\"\\") + [0x00] + b("\"]")),
        ("n_string_escape_x", b(#"["\x00"]"#)),
        ("n_string_escaped_backslash_bad", b(#"["\\\"]"#)),
        ("n_string_escaped_ctrl_char_tab", b("[\"\\\t\"]")),
        ("n_string_escaped_emoji", b("[\"\\🌀\"]")),
        ("n_string_incomplete_escape", b(#"["\"]"#)),
        ("n_string_incomplete_escaped_character", b(#"["\u00A"]"#)),
        ("n_string_incomplete_surrogate", b(#"["\uD834\uDd"]"#)),
        ("n_string_incomplete_surrogate_escape_invalid", b(#"["\uD800\uD800\x"]"#)),
        ("n_string_invalid-utf-8-in-escape", b("[\"\\u") + [0xE5] + b("\"]")),
        ("n_string_invalid_backslash_esc", b(#"["\a"]"#)),
        ("n_string_invalid_unicode_escape", b(#"["\uqqqq"]"#)),
        ("n_string_invalid_utf8_after_escape", b("[\"\\") + [0xE5] + b("\"]")),
        ("n_string_leading_uescaped_thinspace", b(#"[\u0020"asd"]"#)),
        ("n_string_no_quotes_with_bad_escape", b(#"[\n]"#)),
        ("n_string_single_doublequote", b("\"")),
        ("n_string_single_quote", b("['single quote']")),
        ("n_string_single_string_no_double_quotes", b("abc")),
        ("n_string_start_escape_unclosed", b(#"["\"#)),
        ("n_string_unescaped_ctrl_char", b("[\"a") + [0x00] + b("a\"]")),
        ("n_string_unescaped_newline", b("[\"new\nline\"]")),
        ("n_string_unescaped_tab", b("[\"\t\"]")),
        ("n_string_unicode_CapitalU", b(#""\UA66D""#)),
        ("n_string_with_trailing_garbage", b(#"""x"#)),
        ("n_string_unterminated_after_long_run", b("\"" + String(repeating: "abcdefgh", count: 5))),
        ("n_string_control_after_long_run", b("\"abcdefghijklmnop") + [0x1F] + b("\"")),
        ("n_string_invalid_utf8_after_long_run", b("\"abcdefghijklmnop") + [0xC0, 0x80] + b("\"")),
        ("n_string_truncated_utf8_at_end", b("\"abc") + [0xE2, 0x82]),
        ("n_structure_angle_bracket_.", b("<.>")),
        ("n_structure_angle_bracket_null", b("[<null>]")),
        ("n_structure_array_trailing_garbage", b("[1]x")),
        ("n_structure_array_with_extra_array_close", b("[1]]")),
        ("n_structure_array_with_unclosed_string", b(#"["asd]"#)),
        ("n_structure_ascii-unicode-identifier", b("aå")),
        ("n_structure_capitalized_True", b("[True]")),
        ("n_structure_close_unopened_array", b("1]")),
        ("n_structure_comma_instead_of_closing_brace", b(#"{"x": true,"#)),
        ("n_structure_double_array", b("[][]")),
        ("n_structure_end_array", b("]")),
        ("n_structure_incomplete_UTF8_BOM", [0xEF, 0xBB] + b("{}")),
        ("n_structure_lone-invalid-utf-8", [0xE5]),
        ("n_structure_lone-open-bracket", b("[")),
        ("n_structure_no_data", []),
        ("n_structure_null-byte-outside-string", b("[") + [0x00] + b("]")),
        ("n_structure_number_with_trailing_garbage", b("2@")),
        ("n_structure_object_followed_by_closing_object", b("{}}")),
        ("n_structure_object_unclosed_no_value", b(#"{"":"#)),
        ("n_structure_object_with_comment", b(#"{"a":/*comment*/"b"}"#)),
        ("n_structure_object_with_trailing_garbage", b(#"{"a": true} "x""#)),
        ("n_structure_open_array_apostrophe", b("['")),
        ("n_structure_open_array_comma", b("[,")),
        ("n_structure_open_array_open_object", b("[{")),
        ("n_structure_open_array_open_string", b(#"["a"#)),
        ("n_structure_open_array_string", b(#"["a""#)),
        ("n_structure_open_object", b("{")),
        ("n_structure_open_object_close_array", b("{]")),
        ("n_structure_open_object_comma", b("{,")),
        ("n_structure_open_object_open_array", b("{[")),
        ("n_structure_open_object_open_string", b(#"{"a"#)),
        ("n_structure_open_object_string_with_apostrophes", b("{'a'")),
        ("n_structure_open_open", b(#"["\{["\{["\{["\{"#)),
        ("n_structure_single_star", b("*")),
        ("n_structure_trailing_#", b(#"{"a":"b"}#{}"#)),
        ("n_structure_U+2060_word_joined", b("[\u{2060}]")),
        ("n_structure_uescaped_LF_before_string", b(#"[\u000A""]"#)),
        ("n_structure_unclosed_array", b("[1")),
        ("n_structure_unclosed_array_partial_null", b("[ false, nul")),
        ("n_structure_unclosed_array_unfinished_false", b("[ true, fals")),
        ("n_structure_unclosed_array_unfinished_true", b("[ false, tru")),
        ("n_structure_unclosed_object", b(#"{"asd":"asd""#)),
        ("n_structure_unicode-identifier", b("å")),
        ("n_structure_whitespace_formfeed", b("[\u{0C}]")),
        ("n_structure_whitespace_U+2060_word_joiner", b("[\u{2060}]")),
        ("n_structure_100000_opening_arrays", [UInt8](repeating: UInt8(ascii: "["), count: 100_000)),
        ("n_structure_open_array_object", Array(String(repeating: "[{\"\":", count: 5_000).utf8)),
    ]

    // MARK: i_ — implementation-defined, with our choice

    enum Choice {
        /// Parses, to this value.
        case parses(JSONValue)
        /// Rejected, with this exact message.
        case fails(String)
    }

    static let implementationDefined: [(name: String, text: [UInt8], choice: Choice, why: String)] = [
        ("i_number_double_huge_neg_exp", b("[123.456e-789]"), .parses([.double(0)]),
         "underflow rounds to zero, as strtod and JSON.parse do"),
        ("i_number_huge_exp", b("[0.4e00669999999999999999999999999999999999999999999999999999999999999999999999]"),
         .fails("number out of range at byte 1"), "JSON has no infinity: overflow is an error, not inf"),
        ("i_number_neg_int_huge_exp", b("[-1e+9999]"), .fails("number out of range at byte 1"), "overflow"),
        ("i_number_pos_double_huge_exp", b("[1.5e+9999]"), .fails("number out of range at byte 1"), "overflow"),
        ("i_number_real_neg_overflow", b("[-123123e100000]"), .fails("number out of range at byte 1"), "overflow"),
        ("i_number_real_pos_overflow", b("[123123e100000]"), .fails("number out of range at byte 1"), "overflow"),
        ("i_number_real_underflow", b("[123e-10000000]"), .parses([.double(0)]), "underflow rounds to zero"),
        ("i_number_too_big_neg_int", b("[-123123123123123123123123123123]"),
         .parses([.double(Double("-123123123123123123123123123123")!)]), "beyond 64 bits: the nearest double"),
        ("i_number_too_big_pos_int", b("[100000000000000000000]"), .parses([.double(1e20)]), "beyond 64 bits: the nearest double"),
        ("i_number_very_big_negative_int", b("[-237462374673276894279832749832423479823246327846]"),
         .parses([.double(Double("-237462374673276894279832749832423479823246327846")!)]), "the nearest double"),
        ("i_number_int64_max_plus_one", b("9223372036854775808"), .parses(.double(9223372036854775808)), "beyond Int64: double"),
        ("i_number_int64_min_minus_one", b("-9223372036854775809"), .parses(.double(-9223372036854775808)), "beyond Int64: double"),
        ("i_object_key_lone_2nd_surrogate", b(#"{"\uDFAA":0}"#), .parses(["\u{FFFD}": 0]), "lone surrogates become U+FFFD"),
        ("i_string_1st_surrogate_but_2nd_missing", b(#"["\uDADA"]"#), .parses(["\u{FFFD}"]), "lone surrogate: U+FFFD"),
        ("i_string_1st_valid_surrogate_2nd_invalid", b(#"["\uD888\u1234"]"#), .parses(["\u{FFFD}\u{1234}"]),
         "the high half alone is replaced; the next escape stands on its own"),
        ("i_string_incomplete_surrogate_and_escape_valid", b(#"["\uD800\n"]"#), .parses(["\u{FFFD}\n"]), "U+FFFD"),
        ("i_string_incomplete_surrogate_pair", b(#"["\uDd1ea"]"#), .parses(["\u{FFFD}a"]), "U+FFFD"),
        ("i_string_incomplete_surrogates_escape_valid", b(#"["\uD800\uD800\n"]"#), .parses(["\u{FFFD}\u{FFFD}\n"]), "U+FFFD twice"),
        ("i_string_invalid_lonely_surrogate", b(#"["\ud800"]"#), .parses(["\u{FFFD}"]), "U+FFFD"),
        ("i_string_invalid_surrogate", b(#"["\ud800abc"]"#), .parses(["\u{FFFD}abc"]), "U+FFFD"),
        ("i_string_inverted_surrogates_U+1D11E", b(#"["\uDd1e\uD834"]"#), .parses(["\u{FFFD}\u{FFFD}"]), "U+FFFD twice"),
        ("i_string_lone_second_surrogate", b(#"["\uDFAA"]"#), .parses(["\u{FFFD}"]), "U+FFFD"),
        ("i_string_UTF-16LE_with_BOM", [0xFF, 0xFE, 0x5B, 0x00, 0x22, 0x00, 0xE9, 0x00, 0x22, 0x00, 0x5D, 0x00],
         .fails("unexpected byte 0xFF at byte 0"), "only UTF-8 is read"),
        ("i_string_UTF-8_invalid_sequence", b("[\"日ш") + [0xFA] + b("\"]"), .fails("invalid UTF-8 at byte 7"), "strict UTF-8"),
        ("i_string_UTF8_surrogate_U+D800", b("[\"") + [0xED, 0xA0, 0x80] + b("\"]"), .fails("invalid UTF-8 at byte 2"),
         "encoded surrogates are not UTF-8"),
        ("i_string_invalid_utf-8", b("[\"") + [0xFF] + b("\"]"), .fails("invalid UTF-8 at byte 2"), "strict UTF-8"),
        ("i_string_iso_latin_1", b("[\"") + [0xE9] + b("\"]"), .fails("invalid UTF-8 at byte 2"), "strict UTF-8"),
        ("i_string_lone_utf8_continuation_byte", b("[\"") + [0x81] + b("\"]"), .fails("invalid UTF-8 at byte 2"), "strict UTF-8"),
        ("i_string_not_in_unicode_range", b("[\"") + [0xF4, 0xBF, 0xBF, 0xBF] + b("\"]"), .fails("invalid UTF-8 at byte 2"),
         "beyond U+10FFFF"),
        ("i_string_overlong_sequence_2_bytes", b("[\"") + [0xC0, 0xAF] + b("\"]"), .fails("invalid UTF-8 at byte 2"), "overlong"),
        ("i_string_overlong_sequence_6_bytes", b("[\"") + [0xFC, 0x83, 0xBF, 0xBF, 0xBF, 0xBF] + b("\"]"),
         .fails("invalid UTF-8 at byte 2"), "overlong"),
        ("i_string_overlong_sequence_6_bytes_null", b("[\"") + [0xFC, 0x80, 0x80, 0x80, 0x80, 0x80] + b("\"]"),
         .fails("invalid UTF-8 at byte 2"), "overlong"),
        ("i_string_truncated-utf-8", b("[\"") + [0xE0, 0xFF] + b("\"]"), .fails("invalid UTF-8 at byte 2"), "strict UTF-8"),
        ("i_string_utf16BE_no_BOM", [0x00, 0x5B, 0x00, 0x22, 0x00, 0xE9, 0x00, 0x22, 0x00, 0x5D],
         .fails("unexpected byte 0x0 at byte 0"), "only UTF-8 is read"),
        ("i_string_utf16LE_no_BOM", [0x5B, 0x00, 0x22, 0x00, 0xE9, 0x00, 0x22, 0x00, 0x5D, 0x00],
         .fails("unexpected byte 0x0 at byte 1"), "only UTF-8 is read"),
        ("i_structure_500_nested_arrays", Array((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8),
         .fails("nesting deeper than 256 at byte 256"), "depth is limited to JSONParser.defaultMaxDepth"),
        ("i_structure_UTF-8_BOM_empty_object", [0xEF, 0xBB, 0xBF] + b("{}"), .parses(.object([:])), "a leading BOM is skipped"),
        ("i_object_duplicate_key_order", b(#"{"a":1,"b":2,"a":3}"#), .parses(["a": 3, "b": 2]),
         "the last value wins, in the first key's position"),
    ]

    func testCorpusSize() {
        XCTAssertGreaterThanOrEqual(Self.mustParse.count + Self.mustFail.count + Self.implementationDefined.count, 120)
    }

    func testMustParse() throws {
        for (name, text, expected) in Self.mustParse {
            do {
                let value = try JSONParser().parse(text)
                if let expected {
                    XCTAssertTrue(identical(value, expected) || value == expected, "\(name): got \(value)")
                }
                // And the same through the String entry point.
                if let string = String(validating: text, as: UTF8.self) {
                    XCTAssertEqual(try JSONParser().parse(string), value, name)
                }
            } catch {
                XCTFail("\(name) did not parse: \(error)")
            }
        }
    }

    func testMustFail() {
        for (name, text) in Self.mustFail {
            guard let error = parseError(text) else {
                XCTFail("\(name) parsed")
                continue
            }
            XCTAssertTrue((0...text.count).contains(error.byteOffset), "\(name): offset \(error.byteOffset)")
            XCTAssertFalse(error.reason.isEmpty, name)
        }
    }

    func testImplementationDefined() {
        for (name, text, choice, why) in Self.implementationDefined {
            switch choice {
            case .parses(let expected):
                do {
                    let value = try JSONParser().parse(text)
                    XCTAssertTrue(identical(value, expected) || value == expected, "\(name) (\(why)): got \(value)")
                } catch {
                    XCTFail("\(name) (\(why)) did not parse: \(error)")
                }
            case .fails(let message):
                guard let error = parseError(text) else {
                    XCTFail("\(name) (\(why)) parsed")
                    continue
                }
                XCTAssertEqual(error.description, message, "\(name) (\(why))")
            }
        }
    }

    /// Every case gives exactly what the frozen reference parser gives: the same value, or
    /// the same reason at the same offset.
    func testCorpusMatchesTheReferenceParser() {
        let all = Self.mustParse.map { ($0.name, $0.text) } + Self.mustFail.map { ($0.name, $0.text) }
            + Self.implementationDefined.map { ($0.name, $0.text) }
        for (name, text) in all {
            assertSameOutcome(text, name)
        }
    }
}
