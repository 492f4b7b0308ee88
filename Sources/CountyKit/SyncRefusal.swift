import FieldKitCore

/// Why the county refuses a device's enrollment or upload. CountyKit's rules decide it,
/// whichever backend keeps the records; nothing is stored when one is thrown. CountyServer
/// answers each with its `application/problem+json` (the `type` slug is named on each case).
public enum SyncRefusal: Error, Equatable, Sendable {
    /// `enrollment-code`: the code is unknown, used, expired or for another site. One answer
    /// for every reason, so a guesser learns nothing; the log says which.
    case enrollmentCode
    /// `device-exists`: the device id is enrolled with another key, or was cut off.
    case deviceIDTaken(String)
    /// `device-exists`: the key is enrolled under another device id (the one asking is named).
    case keyTaken(String)
    /// `unknown-device`: the county does not know the device.
    case unknownDevice(String)
    /// `gap`: events are missing before the batch; the county holds the device up to `held`.
    case gap(device: String, held: Int64)
    /// `tampered-event`: an event does not match its hash.
    case tamperedEvent(device: String, seq: Int64)
    /// `fork`: an event does not continue the chain the county holds.
    case brokenChain(device: String, seq: Int64)
    /// `fork`: an event differs from the one the county holds under its number.
    case differsFromHeld(device: String, seq: Int64)
}
