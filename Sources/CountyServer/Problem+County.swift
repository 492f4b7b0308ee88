import CountyKit
import FieldKitCore

extension Problem {
    /// The answer to a refusal of the county's rules: its `application/problem+json`, the same
    /// status, `type` and words whichever backend the county runs on.
    init(_ refusal: SyncRefusal) {
        switch refusal {
        case .enrollmentCode: self = .enrollmentCode
        case .deviceIDTaken(let device):
            self.init(
                "device-exists", status: 409, title: "This device id is enrolled already",
                detail: "device \(device) is enrolled with another key or was cut off")
        case .keyTaken(let device):
            self.init(
                "device-exists", status: 409, title: "This key is enrolled already",
                detail: "the key of device \(device) is enrolled under another id")
        case .unknownDevice(let device): self = .unknownDevice(device)
        case .gap(let device, let held):
            self.init(
                "gap", status: 409, title: "Events are missing before this batch",
                detail: "the county holds \(device) up to \(held); send from \(held + 1)", expectedSeq: held + 1)
        case .tamperedEvent(let device, let seq):
            self.init(
                "tampered-event", status: 422, title: "An event does not match its hash",
                detail: "event \(seq) of \(device) was altered on the way or on the device")
        case .brokenChain(let device, let seq): self = .fork("event \(seq) of \(device) does not continue the chain the county holds")
        case .differsFromHeld(let device, let seq): self = .fork("event \(seq) of \(device) differs from the one the county holds")
        }
    }

    /// An enrollment code that is unknown, used, expired or for another site: one answer for all.
    static let enrollmentCode = Problem(
        "enrollment-code", status: 403, title: "The enrollment code cannot be used",
        detail: "the code is unknown, used, expired or for another site; check it, or ask the county for a new one")

    /// A device the county does not know.
    static func unknownDevice(_ id: String) -> Problem {
        Problem("unknown-device", status: 401, title: "Unknown device",
                detail: "device \(id) is not enrolled; enroll it with a code from the county")
    }

    /// Events that contradict what the county holds: never retried.
    static func fork(_ detail: String) -> Problem {
        Problem("fork", status: 409, title: "The device's log contradicts what the county holds", detail: detail)
    }
}

extension Problem {
    /// The name of ``tooManyAttempts(_:)``.
    static let tooManyAttemptsName = "too-many-attempts"

    /// Too many failed enrollments from this address or for this code: wait.
    static func tooManyAttempts(_ seconds: Int64) -> Problem {
        var p = Problem(
            tooManyAttemptsName, status: 429, title: "Too many failed enrollment attempts",
            detail: "wait \(seconds) seconds, then check the code with the county")
        p.retryAfter = seconds
        return p
    }
}
