import FieldKitCore

/// Why a sync, an enrollment or a transfer did not complete. What was recorded is never touched.
public enum SyncError: Error, Equatable, LocalizedFailure {
    /// No county address: the device is not enrolled.
    case notEnrolled
    /// Enrolled by USB: no county address is known.
    case noCountyAddress
    /// The county could not be reached, after retrying.
    case unreachable(url: String, detail: String)
    /// Something answered that is not the county (a captive portal, a proxy page).
    case notCounty(url: String)
    /// The county refused the request; `problem` is its problem type.
    case refused(problem: String, detail: String)
    /// The county holds a log that contradicts this one: syncing stops until someone looks.
    case fork(detail: String)
    /// Syncing was stopped earlier for this reason.
    case stopped(String)
    /// The enrollment answered with another county's key than the one this site pinned.
    case wrongCounty
    /// A receipt file that is not a receipt.
    case receiptUnreadable(path: String)
    /// A receipt not signed by this station's county.
    case receiptNotCounty(path: String)
    /// A receipt for another device.
    case receiptOtherDevice(path: String, device: String)
    /// A receipt acknowledging events this station never wrote.
    case receiptAhead(path: String, seq: Int64)
    /// Nothing to carry: the county holds every event.
    case nothingToSend

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .notEnrolled: ("error.sync.not_enrolled", [:])
        case .noCountyAddress: ("error.sync.no_address", [:])
        case .unreachable(let url, let detail): ("error.sync.unreachable", ["url": url, "detail": detail])
        case .notCounty(let url): ("error.sync.not_county", ["url": url])
        case .refused(let problem, let detail): ("error.sync.refused", ["problem": problem, "detail": detail])
        case .fork(let detail): ("error.sync.fork", ["detail": detail])
        case .stopped(let why): ("error.sync.stopped", ["why": why])
        case .wrongCounty: ("error.sync.wrong_county", [:])
        case .receiptUnreadable(let path): ("error.sync.receipt.unreadable", ["path": path])
        case .receiptNotCounty(let path): ("error.sync.receipt.not_county", ["path": path])
        case .receiptOtherDevice(let path, let device): ("error.sync.receipt.other_device", ["path": path, "device": device])
        case .receiptAhead(let path, let seq): ("error.sync.receipt.ahead", ["path": path, "seq": String(seq)])
        case .nothingToSend: ("error.sync.nothing", [:])
        }
    }
}
