import FieldKitCore

/// Why a sync, an enrollment or a transfer did not complete. What was recorded is never touched.
public enum SyncError: Error, Equatable, LocalizedFailure {
    /// No county address: the device is not enrolled.
    case notEnrolled
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
    /// A receipt file that cannot be taken.
    case badReceipt(path: String, why: String)
    /// Nothing to carry: the county holds every event.
    case nothingToSend

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .notEnrolled: ("error.sync.not_enrolled", [:])
        case .unreachable(let url, let detail): ("error.sync.unreachable", ["url": url, "detail": detail])
        case .notCounty(let url): ("error.sync.not_county", ["url": url])
        case .refused(let problem, let detail): ("error.sync.refused", ["problem": problem, "detail": detail])
        case .fork(let detail): ("error.sync.fork", ["detail": detail])
        case .stopped(let why): ("error.sync.stopped", ["why": why])
        case .wrongCounty: ("error.sync.wrong_county", [:])
        case .badReceipt(let path, let why): ("error.sync.bad_receipt", ["path": path, "why": why])
        case .nothingToSend: ("error.sync.nothing", [:])
        }
    }
}
