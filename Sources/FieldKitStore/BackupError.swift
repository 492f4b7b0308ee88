import FieldKitCore

/// Why a backup or a restore could not be done, or why the station waits after one. Each
/// message names the file or number and the next step.
public enum BackupError: Error, Equatable, LocalizedFailure {
    /// `backup --out` names the live database itself.
    case wouldReplaceDatabase(String)
    /// The file is not an SQLite database.
    case notABackup(String)
    /// The file is a database but damaged (`PRAGMA integrity_check`), or not a fieldkit site's.
    case damaged(String, why: String)
    /// The backup's log does not verify.
    case chainBroken(String, seq: Int64, problem: String)
    /// The backup is of another device than the home's device key.
    case otherDevice(String, backup: String, home: String)
    /// Neither the home nor the backup (`FILE.key`) holds the device key.
    case noKey(home: String, file: String)
    /// The live database holds more events than the backup: `--force` to replace it anyway.
    case liveIsNewer(live: Int64, backup: Int64)
    /// The live database cannot be read to compare: `--force` to replace it anyway.
    case liveUnreadable(String, why: String)
    /// The kiosk runs on this home: it would keep writing into the database replaced.
    case kioskRunning(String)
    /// No restore waits for the county's high-water.
    case notPending
    /// A county answer not signed by this station's county.
    case answerNotCounty(String)
    /// A county answer for another device.
    case answerOtherDevice(String, device: String)
    /// A county answer older than the backup: it cannot tell what the county holds now.
    case answerStale(String, at: String)
    /// The county holds event `seq` with another content than the backup: the logs have forked.
    case answerFork(seq: Int64)
    /// A restore waits for the county's high-water: no event is written until it is known.
    case restorePending(baseSeq: Int64)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .wouldReplaceDatabase(let f): ("backup.error.same_file", ["file": f])
        case .notABackup(let f): ("backup.error.not_backup", ["file": f])
        case .damaged(let f, let why): ("backup.error.damaged", ["file": f, "why": why])
        case .chainBroken(let f, let seq, let p): ("backup.error.chain", ["file": f, "seq": String(seq), "problem": p])
        case .otherDevice(let f, let b, let h): ("backup.error.other_device", ["file": f, "backup": b, "home": h])
        case .noKey(let home, let f): ("backup.error.no_key", ["home": home, "file": f])
        case .liveIsNewer(let l, let b): ("backup.error.live_newer", ["live": String(l), "backup": String(b)])
        case .liveUnreadable(let p, let why): ("backup.error.live_unreadable", ["path": p, "why": why])
        case .kioskRunning(let home): ("backup.error.kiosk_running", ["home": home])
        case .notPending: ("backup.error.not_pending", [:])
        case .answerNotCounty(let f): ("backup.error.answer_not_county", ["file": f])
        case .answerOtherDevice(let f, let d): ("backup.error.answer_other_device", ["file": f, "device": d])
        case .answerStale(let f, let t): ("backup.error.answer_stale", ["file": f, "time": t])
        case .answerFork(let seq): ("backup.error.answer_fork", ["seq": String(seq)])
        case .restorePending(let base): ("backup.error.pending", ["seq": String(base)])
        }
    }
}
