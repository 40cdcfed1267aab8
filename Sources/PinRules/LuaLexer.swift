/// One token of Lua 5.4 source.
struct LuaToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// An identifier; `text` is the name.
        case name
        /// A reserved word; `text` is the word.
        case keyword
        /// A short or long string literal; `text` is its value with escapes decoded (bytes
        /// that are not valid UTF-8 become U+FFFD).
        case string
        /// A numeral; `text` is its source spelling.
        case number
        /// An operator or punctuation; `text` is its spelling (`..`, `::`, `<=`, ...).
        case symbol
        /// The end of the source.
        case eof
    }

    var kind: Kind
    var text: String
    /// 1-based line, counted as Lua does (`\n`, `\r`, `\r\n` and `\n\r` each end one line).
    var line: Int
    /// 1-based column in Unicode scalars (code points) from the start of the line; a tab is one.
    var column: Int

    func isSymbol(_ spelling: String) -> Bool { kind == .symbol && text == spelling }
    func isKeyword(_ word: String) -> Bool { kind == .keyword && text == word }
}

/// A Lua 5.4 lexer that follows `llex.c`: names, keywords, short strings with every escape
/// (`\n \x41 \65 \u{48} \z` ...), long strings and comments with any level (`[==[ ... ]==]`),
/// numerals (decimal, hexadecimal, floats, exponents, `0x1p4`) and all operators.
///
/// It never traps: anything Lua itself would reject while tokenizing (an unfinished string, an
/// invalid escape, a malformed number, a stray byte such as `$` or a non-ASCII byte outside a
/// string or comment) makes `tokenize` return nil.
enum LuaLexer {
    static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
        "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    /// The tokens of `source`, ending with one `.eof` token, or nil when Lua could not tokenize it.
    static func tokenize(_ source: String) -> [LuaToken]? {
        var scanner = Scanner(bytes: Array(source.utf8))
        return scanner.run()
    }

    private struct Failure: Error {}

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lineStart = 0
        // Column cache: the column of `columnIndex` on the current line.
        var columnIndex = 0
        var columnValue = 1

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        mutating func run() -> [LuaToken]? {
            var tokens: [LuaToken] = []
            do {
                while let token = try next() { tokens.append(token) }
            } catch {
                return nil
            }
            tokens.append(LuaToken(kind: .eof, text: "<eof>", line: line, column: column(at: index)))
            return tokens
        }

        // MARK: Bytes

        /// The byte at `index + offset`, or 0 past the end (0 is never part of a valid token
        /// outside strings, where the end is checked explicitly).
        func peek(_ offset: Int = 0) -> UInt8 {
            let at = index + offset
            return at >= 0 && at < bytes.count ? bytes[at] : 0
        }

        var atEnd: Bool { index >= bytes.count }

        mutating func column(at position: Int) -> Int {
            if columnIndex < lineStart || columnIndex > position {
                columnIndex = lineStart
                columnValue = 1
            }
            while columnIndex < position && columnIndex < bytes.count {
                if bytes[columnIndex] & 0xC0 != 0x80 { columnValue += 1 }
                columnIndex += 1
            }
            return columnValue
        }

        static func isNewline(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }
        static func isAlpha(_ byte: UInt8) -> Bool {
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
        static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        static func isAlnum(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) }
        static func hexValue(_ byte: UInt8) -> Int? {
            switch byte {
            case 0x30...0x39: return Int(byte - 0x30)
            case 0x41...0x46: return Int(byte - 0x41 + 10)
            case 0x61...0x66: return Int(byte - 0x61 + 10)
            default: return nil
            }
        }
        static func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0B || byte == 0x0C || isNewline(byte)
        }

        /// Consumes one line break (`\n`, `\r`, `\n\r` or `\r\n`) at `index`.
        mutating func newline() {
            let first = peek()
            index += 1
            let second = peek()
            if Self.isNewline(second) && second != first { index += 1 }
            line += 1
            lineStart = index
        }

        // MARK: Tokens

        mutating func next() throws(Failure) -> LuaToken? {
            while !atEnd {
                let byte = peek()
                switch byte {
                case 0x0A, 0x0D:
                    newline()
                case 0x20, 0x09, 0x0B, 0x0C:
                    index += 1
                case UInt8(ascii: "-"):
                    guard peek(1) == UInt8(ascii: "-") else { return symbol("-", length: 1) }
                    index += 2
                    try comment()
                default:
                    return try token(startingWith: byte)
                }
            }
            return nil
        }

        mutating func symbol(_ spelling: String, length: Int) -> LuaToken {
            let token = LuaToken(kind: .symbol, text: spelling, line: line, column: column(at: index))
            index += length
            return token
        }

        mutating func token(startingWith byte: UInt8) throws(Failure) -> LuaToken {
            let next = peek(1)
            switch byte {
            case UInt8(ascii: "["):
                let start = (line, column(at: index))
                let level = longBracketLevel()
                if level >= 0 {
                    let value = try longString(level: level)
                    return LuaToken(kind: .string, text: value, line: start.0, column: start.1)
                }
                if peek(1) == UInt8(ascii: "=") { throw Failure() }  // "[=" without a second "["
                return symbol("[", length: 1)
            case UInt8(ascii: "="):
                return next == UInt8(ascii: "=") ? symbol("==", length: 2) : symbol("=", length: 1)
            case UInt8(ascii: "<"):
                if next == UInt8(ascii: "<") { return symbol("<<", length: 2) }
                return next == UInt8(ascii: "=") ? symbol("<=", length: 2) : symbol("<", length: 1)
            case UInt8(ascii: ">"):
                if next == UInt8(ascii: ">") { return symbol(">>", length: 2) }
                return next == UInt8(ascii: "=") ? symbol(">=", length: 2) : symbol(">", length: 1)
            case UInt8(ascii: "/"):
                return next == UInt8(ascii: "/") ? symbol("//", length: 2) : symbol("/", length: 1)
            case UInt8(ascii: "~"):
                return next == UInt8(ascii: "=") ? symbol("~=", length: 2) : symbol("~", length: 1)
            case UInt8(ascii: ":"):
                return next == UInt8(ascii: ":") ? symbol("::", length: 2) : symbol(":", length: 1)
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                return try shortString(quote: byte)
            case UInt8(ascii: "."):
                if next == UInt8(ascii: ".") {
                    return peek(2) == UInt8(ascii: ".") ? symbol("...", length: 3) : symbol("..", length: 2)
                }
                if Self.isDigit(next) { return try numeral() }
                return symbol(".", length: 1)
            case UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "^"), UInt8(ascii: "#"),
                 UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"),
                 UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ";"), UInt8(ascii: ","):
                return symbol(String(UnicodeScalar(byte)), length: 1)
            default:
                if Self.isDigit(byte) { return try numeral() }
                if Self.isAlpha(byte) { return name() }
                throw Failure()
            }
        }

        mutating func name() -> LuaToken {
            let start = index
            let col = column(at: index)
            while Self.isAlnum(peek()) { index += 1 }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            return LuaToken(kind: LuaLexer.keywords.contains(text) ? .keyword : .name, text: text, line: line, column: col)
        }

        /// At a `[`: when it opens a long bracket (`[[`, `[==[`), consumes the opening and
        /// returns its level (the number of `=`); otherwise consumes nothing and returns -1.
        mutating func longBracketLevel() -> Int {
            var offset = 1
            while peek(offset) == UInt8(ascii: "=") { offset += 1 }
            guard peek(offset) == UInt8(ascii: "[") else { return -1 }
            index += offset + 1
            return offset - 1
        }

        /// The body of a long string or comment after its opening bracket, through the closing one.
        mutating func longString(level: Int) throws(Failure) -> String {
            if Self.isNewline(peek()) && !atEnd { newline() }  // the first line break is skipped
            var value: [UInt8] = []
            while true {
                guard !atEnd else { throw Failure() }
                let byte = peek()
                if byte == UInt8(ascii: "]") {
                    var offset = 1
                    while peek(offset) == UInt8(ascii: "=") { offset += 1 }
                    if peek(offset) == UInt8(ascii: "]") && offset - 1 == level {
                        index += offset + 1
                        return String(decoding: value, as: UTF8.self)
                    }
                    value.append(contentsOf: bytes[index..<(index + offset)])
                    index += offset
                } else if Self.isNewline(byte) {
                    newline()
                    value.append(0x0A)
                } else {
                    value.append(byte)
                    index += 1
                }
            }
        }

        /// After `--`: a long comment (`--[[ ]]`, `--[==[ ]==]`) or the rest of the line.
        mutating func comment() throws(Failure) {
            if peek() == UInt8(ascii: "[") {
                let level = longBracketLevel()
                if level >= 0 {
                    _ = try longString(level: level)
                    return
                }
            }
            while !atEnd && !Self.isNewline(peek()) { index += 1 }
        }

        mutating func shortString(quote: UInt8) throws(Failure) -> LuaToken {
            let startLine = line
            let startColumn = column(at: index)
            index += 1
            var value: [UInt8] = []
            while true {
                guard !atEnd else { throw Failure() }
                let byte = peek()
                if byte == quote {
                    index += 1
                    break
                }
                if Self.isNewline(byte) { throw Failure() }  // unfinished string
                if byte != UInt8(ascii: "\\") {
                    value.append(byte)
                    index += 1
                    continue
                }
                index += 1
                try escape(into: &value)
            }
            return LuaToken(kind: .string, text: String(decoding: value, as: UTF8.self), line: startLine, column: startColumn)
        }

        /// After a backslash in a short string.
        mutating func escape(into value: inout [UInt8]) throws(Failure) {
            guard !atEnd else { throw Failure() }
            let byte = peek()
            switch byte {
            case UInt8(ascii: "a"): value.append(0x07); index += 1
            case UInt8(ascii: "b"): value.append(0x08); index += 1
            case UInt8(ascii: "f"): value.append(0x0C); index += 1
            case UInt8(ascii: "n"): value.append(0x0A); index += 1
            case UInt8(ascii: "r"): value.append(0x0D); index += 1
            case UInt8(ascii: "t"): value.append(0x09); index += 1
            case UInt8(ascii: "v"): value.append(0x0B); index += 1
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): value.append(byte); index += 1
            case 0x0A, 0x0D:
                newline()
                value.append(0x0A)
            case UInt8(ascii: "x"):
                guard let high = Self.hexValue(peek(1)), let low = Self.hexValue(peek(2)) else { throw Failure() }
                value.append(UInt8(high * 16 + low))
                index += 3
            case UInt8(ascii: "z"):
                index += 1
                while !atEnd && Self.isSpace(peek()) {
                    if Self.isNewline(peek()) { newline() } else { index += 1 }
                }
            case UInt8(ascii: "u"):
                guard peek(1) == UInt8(ascii: "{"), Self.hexValue(peek(2)) != nil else { throw Failure() }
                index += 2
                var code = 0
                while let digit = Self.hexValue(peek()) {
                    code = code * 16 + digit
                    guard code <= 0x7FFF_FFFF else { throw Failure() }
                    index += 1
                }
                guard peek() == UInt8(ascii: "}") else { throw Failure() }
                index += 1
                if let scalar = UnicodeScalar(UInt32(code)) {
                    value.append(contentsOf: Array(String(Character(scalar)).utf8))
                } else {
                    value.append(0xFF)  // a surrogate or beyond U+10FFFF: Lua encodes it anyway
                }
            default:
                guard Self.isDigit(byte) else { throw Failure() }
                var code = 0
                var count = 0
                while count < 3 && Self.isDigit(peek()) {
                    code = code * 10 + Int(peek() - 0x30)
                    index += 1
                    count += 1
                }
                guard code <= 255 else { throw Failure() }
                value.append(UInt8(code))
            }
        }

        /// A numeral, read the way `llex.c` does (greedily, then validated).
        mutating func numeral() throws(Failure) -> LuaToken {
            let start = index
            let col = column(at: index)
            var exponentMarks: (UInt8, UInt8) = (UInt8(ascii: "e"), UInt8(ascii: "E"))
            let first = peek()
            index += 1
            if first == UInt8(ascii: "0") && (peek() == UInt8(ascii: "x") || peek() == UInt8(ascii: "X")) {
                index += 1
                exponentMarks = (UInt8(ascii: "p"), UInt8(ascii: "P"))
            }
            while true {
                let byte = peek()
                if !atEnd && (byte == exponentMarks.0 || byte == exponentMarks.1) {
                    index += 1
                    if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
                } else if !atEnd && (Self.hexValue(byte) != nil || byte == UInt8(ascii: ".")) {
                    index += 1
                } else {
                    break
                }
            }
            if Self.isAlpha(peek()) { throw Failure() }  // a numeral touching a letter
            let spelling = Array(bytes[start..<index])
            guard Self.isValidNumeral(spelling) else { throw Failure() }
            return LuaToken(kind: .number, text: String(decoding: spelling, as: UTF8.self), line: line, column: col)
        }

        /// Whether Lua's `luaO_str2num` accepts the spelling: `digits[.digits][e[+-]digits]` or
        /// `0x hex[.hex][p[+-]digits]`, with at least one digit before the exponent.
        static func isValidNumeral(_ spelling: [UInt8]) -> Bool {
            var position = 0
            func at(_ i: Int) -> UInt8 { i < spelling.count ? spelling[i] : 0 }
            var hex = false
            if at(0) == UInt8(ascii: "0") && (at(1) == UInt8(ascii: "x") || at(1) == UInt8(ascii: "X")) {
                hex = true
                position = 2
            }
            func isMantissaDigit(_ byte: UInt8) -> Bool { hex ? hexValue(byte) != nil : isDigit(byte) }
            var digits = 0
            while isMantissaDigit(at(position)) { position += 1; digits += 1 }
            if at(position) == UInt8(ascii: ".") {
                position += 1
                while isMantissaDigit(at(position)) { position += 1; digits += 1 }
            }
            guard digits > 0 else { return false }
            let mark = at(position)
            let isExponent = hex ? (mark == UInt8(ascii: "p") || mark == UInt8(ascii: "P"))
                : (mark == UInt8(ascii: "e") || mark == UInt8(ascii: "E"))
            if isExponent {
                position += 1
                if at(position) == UInt8(ascii: "+") || at(position) == UInt8(ascii: "-") { position += 1 }
                var exponentDigits = 0
                while isDigit(at(position)) { position += 1; exponentDigits += 1 }
                guard exponentDigits > 0 else { return false }
            }
            return position == spelling.count
        }
    }
}
