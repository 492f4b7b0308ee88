import FoundationEssentials

/// Standard base64 (RFC 4648 §4, with padding), the form keys and signatures take in files.
public enum Base64 {
    /// Encodes bytes.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String { Data(bytes).base64EncodedString() }

    /// Decodes text; nil when it is not base64.
    public static func decode(_ text: String) -> [UInt8]? {
        Data(base64Encoded: text.trimmingWhitespace()).map { Array($0) }
    }
}
