import FieldKitCore
import FieldKitSQLite

extension Database {
    /// Inserts an event into `events` with exactly the values its hash covers, so what is
    /// stored is what was hashed. The caller holds the transaction and the chain's order.
    public func insert(_ event: SiteEvent) throws {
        let values: [SQLValue] = event.canonicalFields.map {
            switch $0 {
            case .null: .null
            case .integer(let v): .integer(v)
            case .textBytes(let b): .text(String(decoding: b, as: UTF8.self))
            case .blob(let b): .blob(b)
            }
        }
        try run(Database.insertEventSQL, values + [.blob(event.hash)])
    }

    static let insertEventSQL =
        "INSERT INTO events(\(EventHash.columns.joined(separator: ", ")), hash) VALUES ("
        + Array(repeating: "?", count: EventHash.columns.count + 1).joined(separator: ", ") + ")"
}
