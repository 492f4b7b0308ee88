/// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits.
///
/// Time-ordered, so the log's `UNIQUE(uuid)` index grows at its end like the sequence does,
/// instead of scattering writes over a large file (which made WAL checkpoints slow).
public func uuidV7(milliseconds: Int64) -> String {
    var rng = SystemRandomNumberGenerator()
    var b = [UInt8](repeating: 0, count: 16)
    for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - i))) }
    for i in 6..<16 { b[i] = UInt8.random(in: 0...255, using: &rng) }
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    let h = hexString(b)
    let u = Array(h)
    return String(u[0..<8]) + "-" + String(u[8..<12]) + "-" + String(u[12..<16]) + "-" + String(u[16..<20]) + "-"
        + String(u[20..<32])
}
