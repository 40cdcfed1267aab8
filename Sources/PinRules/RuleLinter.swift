/// Static warnings about a rule's source, for `pinrules check`: uses of names the sandbox does
/// not offer and undeclared globals.
///
/// It tokenizes the file with `LuaLexer`, parses it with a recursive-descent Lua 5.4 parser that
/// tracks local scopes (locals with attributes, `local function`, parameters and `...`, implicit
/// `self`, numeric and generic `for`, every block, `repeat ... until` whose condition sees the
/// body's locals), then reports, each once per file at its first position:
///
/// - a withheld global (`io`, `require`, `print`, ...): `'io' is not available in the sandbox`;
/// - a library field the sandbox does not offer, read directly off the global: `os.execute`,
///   `os["getenv"]`, `_G.os.exit`, `string.dump`, `coroutine.close`, also `os.difftime`,
///   `math.pow`, `table.getn` (the sandbox's `os` only has `time`, `date`, `clock`);
/// - `collectgarbage` called with a literal option other than `"count"` (or none, which means
///   `"collect"`), and `math.randomseed()` without a seed;
/// - reading a global that is not a local in scope, not offered by the sandbox and not assigned
///   as a global anywhere in the file: `undeclared global 'x'`;
/// - assigning a global (`x = 1`, `function helper() end`): `assignment to undeclared global
///   'x' (...)`, or, for a name the sandbox offers, that the assignment hides it.
///
/// Positions: lines as Lua counts them (`\n`, `\r`, `\r\n`, `\n\r`); 1-based columns counted in
/// Unicode scalars (code points) of the line, a tab counting one. A field warning points at the
/// start of the expression (`os` in `os.execute`).
///
/// Known limitations:
/// - Source that Lua could not compile (a token it rejects, a syntax error, nesting deeper than
///   200 levels) gets no warnings at all: the compiler's error is what `check` reports.
/// - Flow-insensitive about globals: a global assigned anywhere in the file counts as defined
///   for every read, before or after the assignment, and a withheld name (`print`) that the file
///   assigns itself is taken to be the file's own.
/// - Only direct uses are seen: aliases (`local o = os; o.execute()`), computed names
///   (`_G[name]`, `os[k]`, `rawget(_G, "io")`), code passed to `load`, string methods called on
///   values (`s:dump()`), `collectgarbage` with a non-literal option and `load` given a function
///   or a binary chunk are not checked. A local `_ENV` in scope turns the global checks off.
/// - Not a full compiler: it does not check `goto` targets, assignments to `<const>` locals,
///   `break` outside loops, `...` outside a vararg function or Lua's limits (200 locals per
///   function, ...): such a file gets the compiler's error and possibly these warnings too.
///   Unused locals and shadowing are not reported.
enum RuleLinter {
    static func lint(_ source: String, path: String) -> [RuleDiagnostic] {
        guard let events = events(in: source) else { return [] }
        return report(events, path: path)
    }

    /// What the parser saw, or nil when the source does not tokenize or parse.
    static func events(in source: String) -> [LintEvent]? {
        guard let tokens = LuaLexer.tokenize(source) else { return nil }
        var parser = LintParser(tokens: tokens)
        do {
            try parser.chunk()
        } catch {
            return nil
        }
        return parser.events
    }

    // MARK: What the sandbox offers

    /// Globals every rule can read (`SandboxBootstrap`, plus `drop` from `RulePrelude` and the
    /// implicit `_ENV`).
    static let offeredGlobals: Set<String> = [
        "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select", "tonumber", "tostring",
        "type", "rawequal", "rawlen", "rawget", "rawset", "getmetatable", "setmetatable", "collectgarbage",
        "_VERSION", "null", "array", "object", "jsontype", "string", "table", "math", "os", "coroutine",
        "utf8", "_G", "load", "drop", "_ENV",
    ]

    /// Standard Lua globals the sandbox withholds (`SandboxBootstrap`'s guarded names, and
    /// Lua 5.4's `warn`).
    static let withheldGlobals: Set<String> = [
        "io", "package", "require", "dofile", "loadfile", "debug", "print", "loadstring", "module",
        "setfenv", "getfenv", "newproxy", "gcinfo", "warn",
    ]

    /// The fields of the sandbox's libraries; any other field is not available.
    static let libraryFields: [String: Set<String>] = [
        "string": [
            "byte", "char", "format", "len", "lower", "upper", "reverse", "sub", "pack", "packsize", "unpack",
            "rep", "find", "match", "gmatch", "gsub",
        ],
        "table": ["concat", "insert", "remove", "pack", "unpack", "move", "sort"],
        "math": [
            "abs", "ceil", "floor", "fmod", "huge", "log", "max", "maxinteger", "min", "mininteger", "modf",
            "pi", "sqrt", "tointeger", "type", "ult", "exp", "sin", "cos", "tan", "asin", "acos", "atan",
            "random", "randomseed",
        ],
        "os": ["time", "date", "clock"],
        "coroutine": ["create", "resume", "yield", "status", "wrap", "isyieldable", "running"],
        "utf8": ["char", "charpattern", "codes", "codepoint", "len", "offset"],
    ]

    static func unavailableMessage(_ name: String) -> String { "'\(name)' is not available in the sandbox" }
    static func undeclaredMessage(_ name: String) -> String { "undeclared global '\(name)'" }
    static func assignmentMessage(_ name: String) -> String {
        "assignment to undeclared global '\(name)' (globals stay private to this rule file; prefer local)"
    }
    static func hidingMessage(_ name: String) -> String {
        "assignment to global '\(name)' hides the sandbox's '\(name)' in this rule file; prefer local"
    }

    // MARK: Reporting

    private static func report(_ events: [LintEvent], path: String) -> [RuleDiagnostic] {
        var assigned: Set<String> = []
        for case .write(let name, _, _) in events { assigned.insert(name) }

        // key -> earliest finding; events are not strictly in source order (an assignment's
        // targets are known only after its values).
        var findings: [String: (line: Int, column: Int, message: String)] = [:]
        func add(_ key: String, _ line: Int, _ column: Int, _ message: String) {
            if let existing = findings[key], (existing.line, existing.column) <= (line, column) { return }
            findings[key] = (line, column, message)
        }
        func normalized(_ path: [String]) -> [String] {
            var path = path
            while path.count > 1, path[0] == "_G" || path[0] == "_ENV", !assigned.contains(path[0]) {
                path.removeFirst()
            }
            return path
        }
        func isSandboxLibrary(_ name: String) -> Bool { libraryFields[name] != nil && !assigned.contains(name) }

        for event in events {
            switch event {
            case .read(let name, let line, let column):
                if assigned.contains(name) || offeredGlobals.contains(name) { continue }
                if withheldGlobals.contains(name) {
                    add("unavailable:" + name, line, column, unavailableMessage(name))
                } else {
                    add("read:" + name, line, column, undeclaredMessage(name))
                }
            case .write(let name, let line, let column):
                if offeredGlobals.contains(name) {
                    add("hide:" + name, line, column, hidingMessage(name))
                } else {
                    add("write:" + name, line, column, assignmentMessage(name))
                }
            case .field(let path, let line, let column):
                let resolved = normalized(path)
                if resolved.count == 1 {
                    let name = resolved[0]
                    if path.count > 1, withheldGlobals.contains(name), !assigned.contains(name) {
                        add("unavailable:" + name, line, column, unavailableMessage(name))
                    }
                } else if resolved.count == 2, let fields = libraryFields[resolved[0]], isSandboxLibrary(resolved[0]),
                          !fields.contains(resolved[1]) {
                    let name = resolved[0] + "." + resolved[1]
                    add("unavailable:" + name, line, column, unavailableMessage(name))
                }
            case .call(let path, let arguments, let first, let line, let column):
                let resolved = normalized(path)
                if resolved == ["collectgarbage"], !assigned.contains("collectgarbage") {
                    var option: String? = nil
                    switch first {
                    case nil where arguments == 0: option = "collect"
                    case .some(.nilLiteral): option = "collect"
                    case .some(.string(let value)): option = value
                    default: break
                    }
                    if let option, option != "count" {
                        let name = "collectgarbage(\"\(option)\")"
                        add("unavailable:" + name, line, column, unavailableMessage(name) + " (only \"count\" is)")
                    }
                } else if resolved == ["math", "randomseed"], isSandboxLibrary("math") {
                    let noSeed: Bool
                    switch first {
                    case nil: noSeed = arguments == 0
                    case .some(.nilLiteral): noSeed = true
                    default: noSeed = false
                    }
                    if noSeed {
                        add("seed", line, column, "'math.randomseed' needs a seed in the sandbox (runs are deterministic)")
                    }
                }
            }
        }
        return findings.values
            .sorted { ($0.line, $0.column, $0.message) < ($1.line, $1.column, $1.message) }
            .map { RuleDiagnostic(severity: .warning, file: path, line: $0.line, column: $0.column, message: $0.message) }
    }
}

// MARK: - Parsing

/// What the parser saw about a global name.
enum LintEvent: Equatable {
    /// A global read as a value (or as the base of an index or call).
    case read(String, line: Int, column: Int)
    /// A global assigned (`x = 1`, `function x() end`).
    case write(String, line: Int, column: Int)
    /// A constant index chain off a global (`os.execute`, `os["execute"]`, `_G.os.exit`), two or
    /// three names long; the position is the global's.
    case field([String], line: Int, column: Int)
    /// A call of a global or a constant index chain off one: its argument count and the kind
    /// of its first argument.
    case call([String], arguments: Int, first: LintExpression?, line: Int, column: Int)
}

/// The little the linter needs to know about an expression's value.
enum LintExpression: Equatable {
    case string(String)
    case nilLiteral
    case other
}

/// A recursive-descent parser for Lua 5.4 (after `lparser.c`) that records `LintEvent`s.
/// Any syntax error throws `LintParser.Abort`.
struct LintParser {
    struct Abort: Error {}

    /// Lua's own limit on nested statements and expressions (`LUAI_MAXCCALLS`).
    static let maximumDepth = 200

    let tokens: [LuaToken]
    private var position = 0
    private var depth = 0
    /// How many locals of each name are in scope.
    private var localCounts: [String: Int] = [:]
    /// Locals in declaration order, and where each open block's start.
    private var declared: [String] = []
    private var blockStarts: [Int] = []
    private(set) var events: [LintEvent] = []

    init(tokens: [LuaToken]) {
        // The lexer always ends with .eof; make sure of it so `current` is always valid.
        if tokens.last?.kind == .eof {
            self.tokens = tokens
        } else {
            self.tokens = tokens + [LuaToken(kind: .eof, text: "<eof>", line: tokens.last?.line ?? 1, column: 1)]
        }
    }

    // MARK: Tokens

    private var current: LuaToken { tokens[position] }

    private func lookahead() -> LuaToken {
        position + 1 < tokens.count ? tokens[position + 1] : tokens[tokens.count - 1]
    }

    private mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    private mutating func accept(_ symbol: String) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    private mutating func expect(_ symbol: String) throws(Abort) {
        guard current.isSymbol(symbol) else { throw Abort() }
        advance()
    }

    private mutating func expectKeyword(_ word: String) throws(Abort) {
        guard current.isKeyword(word) else { throw Abort() }
        advance()
    }

    private mutating func expectName() throws(Abort) -> LuaToken {
        let token = current
        guard token.kind == .name else { throw Abort() }
        advance()
        return token
    }

    private mutating func enterLevel() throws(Abort) {
        depth += 1
        if depth > Self.maximumDepth { throw Abort() }
    }

    private mutating func leaveLevel() { depth -= 1 }

    // MARK: Scopes

    private mutating func openBlock() { blockStarts.append(declared.count) }

    private mutating func closeBlock() {
        let start = blockStarts.popLast() ?? 0
        while declared.count > start, let name = declared.popLast() {
            localCounts[name, default: 1] -= 1
        }
    }

    private mutating func declare(_ name: String) {
        declared.append(name)
        localCounts[name, default: 0] += 1
    }

    private func isLocal(_ name: String) -> Bool { (localCounts[name] ?? 0) > 0 }

    /// Whether a free name refers to a global of the sandbox environment: not a local, and no
    /// local `_ENV` redirects globals elsewhere.
    private func isGlobal(_ name: String) -> Bool { !isLocal(name) && !isLocal("_ENV") }

    // MARK: Blocks and statements

    mutating func chunk() throws(Abort) {
        openBlock()
        try statementList()
        guard current.kind == .eof else { throw Abort() }
        closeBlock()
    }

    private func blockFollows(withUntil: Bool) -> Bool {
        let token = current
        if token.kind == .eof { return true }
        guard token.kind == .keyword else { return false }
        switch token.text {
        case "else", "elseif", "end": return true
        case "until": return withUntil
        default: return false
        }
    }

    private mutating func statementList() throws(Abort) {
        while !blockFollows(withUntil: true) {
            if current.isKeyword("return") {
                try returnStatement()
                return
            }
            try statement()
        }
    }

    /// A block with a scope of its own.
    private mutating func scopedBlock() throws(Abort) {
        openBlock()
        try statementList()
        closeBlock()
    }

    private mutating func statement() throws(Abort) {
        try enterLevel()
        defer { leaveLevel() }
        let token = current
        if token.kind == .symbol {
            if token.text == ";" {
                advance()
                return
            }
            if token.text == "::" {  // a label
                advance()
                _ = try expectName()
                try expect("::")
                return
            }
        }
        if token.kind == .keyword {
            switch token.text {
            case "if":
                try ifStatement()
                return
            case "while":
                advance()
                _ = try expression()
                try expectKeyword("do")
                try scopedBlock()
                try expectKeyword("end")
                return
            case "do":
                advance()
                try scopedBlock()
                try expectKeyword("end")
                return
            case "for":
                try forStatement()
                return
            case "repeat":
                advance()
                openBlock()
                try statementList()
                try expectKeyword("until")
                _ = try expression()  // sees the body's locals
                closeBlock()
                return
            case "function":
                try functionStatement()
                return
            case "local":
                advance()
                if current.isKeyword("function") {
                    advance()
                    let name = try expectName()
                    declare(name.text)  // visible in its own body (recursion)
                    try functionBody(isMethod: false)
                } else {
                    try localStatement()
                }
                return
            case "break":
                advance()
                return
            case "goto":
                advance()
                _ = try expectName()
                return
            default:
                break
            }
        }
        try expressionStatement()
    }

    private mutating func ifStatement() throws(Abort) {
        advance()
        _ = try expression()
        try expectKeyword("then")
        try scopedBlock()
        while current.isKeyword("elseif") {
            advance()
            _ = try expression()
            try expectKeyword("then")
            try scopedBlock()
        }
        if current.isKeyword("else") {
            advance()
            try scopedBlock()
        }
        try expectKeyword("end")
    }

    private mutating func forStatement() throws(Abort) {
        advance()
        let first = try expectName()
        var names = [first.text]
        if accept("=") {
            _ = try expression()
            try expect(",")
            _ = try expression()
            if accept(",") { _ = try expression() }
        } else {
            while accept(",") { names.append(try expectName().text) }
            try expectKeyword("in")
            try expressionList()
        }
        try expectKeyword("do")
        openBlock()
        for name in names { declare(name) }
        try statementList()
        closeBlock()
        try expectKeyword("end")
    }

    private mutating func functionStatement() throws(Abort) {
        advance()
        let first = try expectName()
        let global = isGlobal(first.text)
        var path: [String]? = global ? [first.text] : nil
        var isMethod = false
        var qualified = false
        while current.isSymbol(".") || current.isSymbol(":") {
            let colon = current.isSymbol(":")
            advance()
            let field = try expectName()
            qualified = true
            extend(&path, with: field.text, at: first)
            if colon {
                isMethod = true
                break
            }
        }
        if global {
            let event: LintEvent = qualified
                ? .read(first.text, line: first.line, column: first.column)
                : .write(first.text, line: first.line, column: first.column)
            events.append(event)
        }
        try functionBody(isMethod: isMethod)
    }

    private mutating func localStatement() throws(Abort) {
        var names: [String] = []
        repeat {
            names.append(try expectName().text)
            if accept("<") {
                let attribute = try expectName()
                guard attribute.text == "const" || attribute.text == "close" else { throw Abort() }
                try expect(">")
            }
        } while accept(",")
        if accept("=") { try expressionList() }
        for name in names { declare(name) }  // after the values: `local x = x` reads the outer x
    }

    private mutating func returnStatement() throws(Abort) {
        advance()
        if !blockFollows(withUntil: true) && !current.isSymbol(";") { try expressionList() }
        _ = accept(";")
    }

    private mutating func expressionStatement() throws(Abort) {
        let first = try suffixedExpression()
        guard current.isSymbol("=") || current.isSymbol(",") else {
            guard first.kind == .call else { throw Abort() }
            return
        }
        var targets = [first]
        while accept(",") { targets.append(try suffixedExpression()) }
        try expect("=")
        try expressionList()
        for target in targets {
            guard target.kind == .name || target.kind == .indexed else { throw Abort() }
            if let name = target.bareGlobal {
                events.append(.write(name.text, line: name.line, column: name.column))
            }
        }
    }

    // MARK: Functions

    private mutating func functionBody(isMethod: Bool) throws(Abort) {
        openBlock()
        if isMethod { declare("self") }
        try expect("(")
        if !current.isSymbol(")") {
            while true {
                if current.isSymbol("...") {
                    advance()
                    break
                }
                declare(try expectName().text)
                if !accept(",") { break }
            }
        }
        try expect(")")
        try statementList()
        try expectKeyword("end")
        closeBlock()
    }

    // MARK: Expressions

    private struct Suffixed {
        enum Kind { case name, indexed, call, parenthesized }
        var kind: Kind
        /// The global name when the whole expression is just that name.
        var bareGlobal: LuaToken?
    }

    private mutating func expressionList() throws(Abort) {
        _ = try expression()
        while accept(",") { _ = try expression() }
    }

    private mutating func expression() throws(Abort) -> LintExpression {
        try subexpression(limit: 0)
    }

    private static let unaryPriority = 12

    /// Left and right priorities of a binary operator (`lparser.c`'s table).
    private static func binaryPriority(_ token: LuaToken) -> (left: Int, right: Int)? {
        switch token.kind {
        case .keyword:
            switch token.text {
            case "and": return (2, 2)
            case "or": return (1, 1)
            default: return nil
            }
        case .symbol:
            switch token.text {
            case "+", "-": return (10, 10)
            case "*", "%", "/", "//": return (11, 11)
            case "^": return (14, 13)
            case "&": return (6, 6)
            case "|": return (4, 4)
            case "~": return (5, 5)
            case "<<", ">>": return (7, 7)
            case "..": return (9, 8)
            case "==", "<", "<=", "~=", ">", ">=": return (3, 3)
            default: return nil
            }
        default:
            return nil
        }
    }

    private mutating func subexpression(limit: Int) throws(Abort) -> LintExpression {
        try enterLevel()
        defer { leaveLevel() }
        var result: LintExpression
        let token = current
        if token.isKeyword("not") || token.isSymbol("-") || token.isSymbol("#") || token.isSymbol("~") {
            advance()
            _ = try subexpression(limit: Self.unaryPriority)
            result = .other
        } else {
            result = try simpleExpression()
        }
        while let priority = Self.binaryPriority(current), priority.left > limit {
            advance()
            _ = try subexpression(limit: priority.right)
            result = .other
        }
        return result
    }

    private mutating func simpleExpression() throws(Abort) -> LintExpression {
        let token = current
        switch token.kind {
        case .number:
            advance()
            return .other
        case .string:
            advance()
            return .string(token.text)
        case .keyword:
            switch token.text {
            case "nil":
                advance()
                return .nilLiteral
            case "true", "false":
                advance()
                return .other
            case "function":
                advance()
                try functionBody(isMethod: false)
                return .other
            default:
                break
            }
        case .symbol:
            if token.text == "..." {
                advance()
                return .other
            }
            if token.text == "{" {
                try tableConstructor()
                return .other
            }
        default:
            break
        }
        let suffixed = try suffixedExpression()
        if let name = suffixed.bareGlobal {
            events.append(.read(name.text, line: name.line, column: name.column))
        }
        return .other
    }

    /// primaryexp { '.' NAME | '[' exp ']' | ':' NAME funcargs | funcargs }
    private mutating func suffixedExpression() throws(Abort) -> Suffixed {
        let start = current
        var result: Suffixed
        var path: [String]? = nil
        if start.kind == .name {
            advance()
            if isGlobal(start.text) {
                result = Suffixed(kind: .name, bareGlobal: start)
                path = [start.text]
            } else {
                result = Suffixed(kind: .name, bareGlobal: nil)
            }
        } else if start.isSymbol("(") {
            advance()
            _ = try expression()
            try expect(")")
            result = Suffixed(kind: .parenthesized, bareGlobal: nil)
        } else {
            throw Abort()
        }
        while true {
            let token = current
            let isSuffix = token.isSymbol(".") || token.isSymbol("[") || token.isSymbol(":") || token.isSymbol("(")
                || token.isSymbol("{") || token.kind == .string
            guard isSuffix else { break }
            if let name = result.bareGlobal {  // the base of an index or call is read
                events.append(.read(name.text, line: name.line, column: name.column))
                result.bareGlobal = nil
            }
            if token.isSymbol(".") {
                advance()
                let field = try expectName()
                extend(&path, with: field.text, at: start)
                result.kind = .indexed
            } else if token.isSymbol("[") {
                advance()
                let key = try expression()
                try expect("]")
                if case .string(let value) = key {
                    extend(&path, with: value, at: start)
                } else {
                    path = nil
                }
                result.kind = .indexed
            } else if token.isSymbol(":") {
                advance()
                let method = try expectName()
                extend(&path, with: method.text, at: start)
                _ = try callArguments()
                path = nil
                result.kind = .call
            } else {
                let arguments = try callArguments()
                if let called = path, called.count <= 3 {
                    events.append(.call(called, arguments: arguments.count, first: arguments.first,
                                        line: start.line, column: start.column))
                }
                path = nil
                result.kind = .call
            }
        }
        return result
    }

    /// Adds a constant index to a chain off a global and records the chain while it is short
    /// enough to name a library field (`os.execute`, `_G.os.execute`).
    private mutating func extend(_ path: inout [String]?, with name: String, at start: LuaToken) {
        guard var chain = path, chain.count < 3 else {
            path = nil  // longer chains name no library field; stop copying them
            return
        }
        chain.append(name)
        path = chain
        events.append(.field(chain, line: start.line, column: start.column))
    }

    private mutating func callArguments() throws(Abort) -> (count: Int, first: LintExpression?) {
        let token = current
        if token.kind == .string {
            advance()
            return (1, .string(token.text))
        }
        if token.isSymbol("{") {
            try tableConstructor()
            return (1, .other)
        }
        try expect("(")
        if accept(")") { return (0, nil) }
        let first = try expression()
        var count = 1
        while accept(",") {
            _ = try expression()
            count += 1
        }
        try expect(")")
        return (count, first)
    }

    private mutating func tableConstructor() throws(Abort) {
        try expect("{")
        while !current.isSymbol("}") {
            if current.kind == .name && lookahead().isSymbol("=") {  // name = value: a key, not a global
                advance()
                advance()
                _ = try expression()
            } else if accept("[") {
                _ = try expression()
                try expect("]")
                try expect("=")
                _ = try expression()
            } else {
                _ = try expression()
            }
            if !accept(",") && !accept(";") { break }
        }
        try expect("}")
    }
}
