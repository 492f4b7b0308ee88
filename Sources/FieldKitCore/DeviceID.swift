import Crypto

/// Site and device identifiers, as the county assigns and the station derives them.
///
/// A site id is 1 to 32 ASCII letters, digits, `-` or `_`. A device id is `SITE-<KeyID>`: the
/// site and the key id of the device's Ed25519 public key, so the county can recompute it from
/// the key it enrolls and a device id is never free text.
public enum DeviceID {
    /// Longest site id.
    public static let maxSiteLength = 32
    /// Longest device id: a site id, `-`, 8 hex digits.
    public static let maxLength = maxSiteLength + 9

    /// Whether a site id has the allowed form.
    public static func isValidSite(_ id: String) -> Bool {
        (1...maxSiteLength).contains(id.utf8.count)
            && id.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
    }

    /// The device id of a key at a site.
    public static func make(site: String, key: Curve25519.Signing.PublicKey) -> String { "\(site)-\(KeyID(of: key))" }
}
