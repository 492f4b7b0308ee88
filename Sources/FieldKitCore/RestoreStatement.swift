/// What a `restored` event states, in its note: the log was restored from a backup holding
/// events 1…`baseSeq` (the last with hash `baseHash`), and the county held this device's events
/// up to `countySeq` when the station asked. The event's own sequence number is
/// `max(baseSeq, countySeq) + 1` and its previous-hash is `baseHash`: events `baseSeq+1…countySeq`
/// stay as the county holds them; events made after `countySeq` before the restore, if any, are
/// lost. The event is in the device's signed chain, so the statement is the device's.
public struct RestoreStatement: Sendable, Equatable {
    /// The backup's last event.
    public var baseSeq: Int64
    /// Its hash.
    public var baseHash: [UInt8]
    /// What the county held of this device when the station learned it.
    public var countySeq: Int64

    /// A statement.
    public init(baseSeq: Int64, baseHash: [UInt8], countySeq: Int64) {
        self.baseSeq = baseSeq
        self.baseHash = baseHash
        self.countySeq = countySeq
    }

    /// The sequence number the `restored` event takes.
    public var eventSeq: Int64 { max(baseSeq, countySeq) + 1 }

    /// Whether events the county holds are missing from the backup (a declared branch point).
    public var hasGap: Bool { countySeq > baseSeq }

    /// The note text: `base_seq=N base_hash=<64 hex> county_seq=H`.
    public var note: String { "base_seq=\(baseSeq) base_hash=\(hexString(baseHash)) county_seq=\(countySeq)" }

    /// Reads a note; nil unless it is exactly a statement.
    public init?(note: String?) {
        guard let note, note.utf8.count <= 200 else { return nil }
        var fields: [Substring: Substring] = [:]
        for part in note.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { return nil }
            fields[kv[0]] = kv[1]
        }
        guard fields.count == 3, let base = fields["base_seq"].flatMap({ Int64($0) }), base >= 0,
            let hash = fields["base_hash"].flatMap({ hexBytes(String($0)) }), hash.count == 32,
            let county = fields["county_seq"].flatMap({ Int64($0) }), county >= 0
        else { return nil }
        self.init(baseSeq: base, baseHash: hash, countySeq: county)
    }
}
