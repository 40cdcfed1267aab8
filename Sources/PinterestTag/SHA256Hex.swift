import Crypto

/// SHA-256 as lowercase hex, the form Pinterest's limited-data fields take.
enum SHA256Hex {
    /// The digest of `""`, what absent limited-data fields hash to.
    static let emptyDigest = digest("")

    static func digest(_ text: String) -> String {
        let digest = SHA256.hash(data: Array(text.utf8))
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
