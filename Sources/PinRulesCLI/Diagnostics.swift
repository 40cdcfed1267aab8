#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Messages for people go to standard error; standard output carries only results.
enum Diagnostics {
    static func error(_ message: String) {
        write("pinrules: error: \(message)\n")
    }

    static func warning(_ message: String) {
        write("pinrules: warning: \(message)\n")
    }

    static func note(_ message: String) {
        write("\(message)\n")
    }

    static var standardErrorIsTerminal: Bool { isatty(2) != 0 }

    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(2, base + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// Exit codes shared by the commands.
enum ExitStatus {
    /// The run completed (whatever the outcomes).
    static let success: Int32 = 0
    /// Input or output failed, or `check` found errors.
    static let failure: Int32 = 1
    /// The config or a rule cannot be loaded.
    static let loadError: Int32 = 2
}
