import CountyKit
import FieldKitCore
import FieldKitStore
import Testing

@Suite("Station: an expired trust bundle has 7 days' grace, then scans are refused")
struct StaleTrustTests {
    @Test("grace: accepted and flagged with the days left; after it: scans and manual entries refused and recorded; a fresh bundle cures it")
    func graceThenRefusal() throws {
        let f = try Fixture()
        // Given a bundle that expires on 2026-03-11 09:00 (grace until 2026-03-18 09:00)
        _ = try f.station.importTrust(fileBytes: f.county.exportBundle(site: "S01", validDays: 10).fileBytes)

        // Day 2 after expiry: accepted, flagged, warned with the days left (5 days 25 minutes: 6)
        f.clock.set("2026-03-13", "08:35")
        let early = try f.station.scan(f.code(0))
        #expect(early.result == .accepted && early.flags.contains("stale_trust"), "\(early)")
        #expect(early.warnings.contains(.trustExpired(ClassDay(iso: "2026-03-11")!, daysLeft: 6)), "\(early.warnings)")
        #expect(try f.station.trustAge(at: f.clock.now()) == .grace(expired: ClassDay(iso: "2026-03-11")!, daysLeft: 6))
        #expect(try f.station.events().last?.has(.staleTrust) == true)

        // One minute past the grace: the scan is refused, recorded, and the words say what to do
        f.clock.set("2026-03-18", "09:01")
        let late = try f.station.scan(f.code(1))
        #expect(late.result == .rejected && late.reason == .trustStale, "\(late)")
        let zh = late.line(Localizer(.zhHans))
        #expect(zh.contains("信任包已于 2026-03-11 过期超过 7 天，不能再签到") && zh.contains("fieldkit trust import"), "\(zh)")
        #expect(late.line(Localizer(.en)).contains("fieldkit sync"))
        let refused = try #require(try f.station.events().last)
        #expect(refused.kind == .refused && refused.reason == "trust_stale" && refused.voucherID == f.vouchers[1].voucherID)
        #expect(refused.code == f.code(1), "the code is kept: nothing scanned is lost")
        #expect(try f.station.status().warnings.contains { $0.code == "trust_stale" && $0.blocksScans })

        // A manual entry too: refused and recorded with its reason
        let manual = try f.station.manual(voucherID: f.vouchers[2].voucherID, direction: .signIn, reason: "扫码枪坏了")
        #expect(manual.result == .rejected && manual.reason == .trustStale, "\(manual)")
        let manualEvent = try #require(try f.station.events().last)
        #expect(manualEvent.kind == .refused && manualEvent.reason == "trust_stale" && manualEvent.note?.contains("扫码枪坏了") == true)

        // A fresh bundle: accepted again, no flag, no warning
        _ = try f.station.importTrust(fileBytes: f.county.exportBundle(site: "S01").fileBytes)
        let again = try f.station.scan(f.code(1))
        #expect(again.result == .accepted && !again.flags.contains("stale_trust") && again.warnings.isEmpty, "\(again)")
        #expect(try f.station.verifyLog().ok)
    }

    @Test("the grace period's edges", arguments: [
        ("2026-03-11", "08:59", nil), ("2026-03-11", "09:01", 7), ("2026-03-17", "09:00", 1), ("2026-03-18", "08:59", 1),
        ("2026-03-18", "09:00", 0), ("2026-04-30", "09:00", 0),
    ] as [(String, String, Int?)])
    func edges(day: String, time: String, daysLeft: Int?) throws {
        let f = try Fixture()
        _ = try f.station.importTrust(fileBytes: f.county.exportBundle(site: "S01", validDays: 10).fileBytes)
        f.clock.set(day, time)
        let expired = ClassDay(iso: "2026-03-11")!
        let want: TrustAge = switch daysLeft {
        case nil: .current
        case 0: .stale(expired: expired)
        case let n?: .grace(expired: expired, daysLeft: n)
        }
        #expect(try f.station.trustAge(at: f.clock.now()) == want)
    }
}
