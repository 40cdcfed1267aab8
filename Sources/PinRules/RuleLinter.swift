/// Static warnings about a rule's source. (Being written: scans for names the sandbox does
/// not offer and undeclared globals.)
enum RuleLinter {
    static func lint(_ source: String, path: String) -> [RuleDiagnostic] { [] }
}
