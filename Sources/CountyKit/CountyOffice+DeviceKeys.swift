import FieldKitCore
import FoundationEssentials
import Logging

extension CountyOffice {
    /// The list of every enrolled device key (revoked ones too, with when), signed by the county
    /// root key: what an auditor gives `fieldkit evidence verify --expect-key` to check that an
    /// evidence bag was signed by a device the county enrolled. The format and the signed bytes
    /// are in ``DeviceKeyList``.
    /// - Returns: the list and the file's bytes.
    public func exportDeviceKeys() throws -> (list: DeviceKeyList, file: [UInt8]) {
        var devices: [DeviceKeyList.Device] = []
        for d in try listDevices() {
            guard let raw = Base64.decode(d.publicKey), raw.count == 32 else {
                throw CountyError.badKeyFile("device \(d.id) has no readable public key in the county database")
            }
            devices.append(DeviceKeyList.Device(
                id: d.id, site: d.site, publicKey: raw, status: d.status, enrolledMs: d.enrolledAt.milliseconds,
                revokedMs: d.revokedAt?.milliseconds))
        }
        let list = DeviceKeyList(county: countyID, issuedMs: now().milliseconds, devices: devices)
        let file = try list.signedFile(with: rootKey)
        logger.info("device keys exported", metadata: ["devices": "\(devices.count)"])
        return (list, file)
    }
}
