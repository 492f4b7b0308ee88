/// The exit codes of `fieldkit` and `fieldkit-county`, documented in the README.
public enum ExitStatus: Int32, Sendable {
    /// Done; for `scan`, accepted.
    case ok = 0
    /// Could not be done; the message says why and what to do.
    case failure = 1
    /// `scan`: a duplicate, nothing new recorded.
    case duplicate = 3
    /// `scan` or `manual`: refused, and the refusal recorded.
    case rejected = 4
    /// `log verify`: the log was altered.
    case verifyFailed = 5
    /// A database written by a newer fieldkit than this one: nothing was opened (install the
    /// newer package, or restore the copy taken before the upgrade).
    case schemaTooNew = 6
    /// Bad flags or arguments (as swift-argument-parser reports them).
    case usage = 64
}
