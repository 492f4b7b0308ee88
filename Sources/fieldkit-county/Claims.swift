import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore
import FieldKitPolicy
import FieldKitPrint
import FieldKitStore
import FoundationEssentials

extension FieldKitCounty {
    /// `fieldkit-county claims --class N [--policy ID] [--employment-rate R | --employment FILE.csv] …`.
    struct Claims: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.claims.abstract"),
            discussion: helpText("help.county.claims.discussion", ["policies": Policy.builtInIDs.joined(separator: ", ")]))
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(name: .customLong("class"), help: .localized("help.county.claims.class_id")) var classID: UInt32
        @OptionGroup var claim: ClaimOptions
        @Flag(help: .localized("help.county.claims.json")) var json = false
        @Option(help: .localized("help.county.claims.csv")) var csv: String?
        @Option(help: .localized("help.county.claims.html")) var html: String?
        @Flag(help: .localized("help.county.claims.submit")) var submit = false

        func run() throws {
            try guarded {
                let t = language.localizer()
                let office = try options.open()
                guard let (info, site) = try office.classInfo(classID) else { throw CountyError.unknownClass(classID) }
                let (policy, programDef) = try Policy.forClass(info, policy: claim.policy, program: claim.program)
                let holders = try office.holders(classID: classID)
                let rate = try claim.employmentRate(
                    required: Set(holders.filter { !$0.revoked }.map(\.voucherID)), allowed: Set(holders.map(\.voucherID)),
                    aliases: try office.currentVouchers(classID: classID))
                var attendance: [UInt64: [AttendanceRecord]] = [:]
                for h in try office.heldAttendance(classID: classID) {
                    attendance[h.voucherID, default: []].append(AttendanceRecord(
                        day: h.day, sessionIndex: h.sessionIndex, signedIn: h.inMs, signedOut: h.outMs,
                        flags: AttendanceFlag.parse(list: h.flags.sorted().joined(separator: ","))))
                }
                var priors: [Int64: [PriorClaim]] = [:]
                for c in try office.claims(traineeRefs: holders.map(\.traineeRef)) {
                    priors[c.traineeRef, default: []].append(PriorClaim(
                        voucherID: c.voucherID, program: c.program, trade: c.trade, level: c.level, year: c.year,
                        paysFor: Policy.Program.PaysFor(rawValue: c.paysFor) ?? .training))
                }
                let trainees = holders.map {
                    ClaimTrainee(
                        voucherID: $0.voucherID, name: $0.name, idMasked: $0.idMasked, category: $0.category, revoked: $0.revoked,
                        priorClaims: priors[$0.traineeRef] ?? [])
                }
                let outcome = ClaimPipeline.work(
                    ClaimInputs(
                        classInfo: info, siteName: try office.siteName(site) ?? site, policy: policy, program: programDef, trainees: trainees,
                        attendance: attendance, recordings: try office.recordings(site: site), context: claim.context(employmentRate: rate),
                        now: office.now()),
                    localizer: t)
                let rows = outcome.rows, sheet = outcome.sheet
                if let csv { try emit(ClaimSheetPage.csv(sheet, localizer: t), to: csv) }
                if let html { try emit(Array(ClaimSheetPage.html(sheet, localizer: t).utf8), to: html) }
                // The preview is written; recording it is refused.
                if submit && outcome.isPreview { throw CountyError.classRunning(classID, ends: outcome.classEnds) }
                var recorded: [UInt64] = []
                if submit {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    recorded = try office.recordClaims(try rows.filter { $0.refused == nil && $0.amountFen > 0 }.compactMap { row in
                        guard let h = holders.first(where: { $0.voucherID == row.voucher_id }) else { return nil }
                        return ClaimRecord(
                            voucherID: row.voucher_id, classID: classID, traineeRef: h.traineeRef, policyID: policy.id, program: row.program,
                            trade: info.trade.description, level: Int(info.level), year: info.endDate.components.year, amountFen: row.amountFen,
                            detail: String(decoding: try encoder.encode(row), as: UTF8.self), paysFor: programDef.paysFor.rawValue)
                    })
                }
                if json {
                    say(try jsonLine(rows))
                    return .ok
                }
                for warning in sheet.warnings { say("⚠ " + warning) }
                for (i, r) in rows.enumerated() {
                    say("\(i + 1). \(r.name) \(r.id_masked) \(r.voucher_id)  " + t("claims.row", [
                        "days": "\(r.days)", "hours": "\(r.hours)", "amount": yuanText(r.amountFen),
                    ]) + (r.flagged_days > 0 ? "  " + t("claims.row.flagged", ["days": "\(r.flagged_days)"]) : ""))
                    for line in r.lines { say("     " + line) }
                    if let refusal = r.refusal { say("     ✘ " + refusal) }
                }
                say(t("claims.summary", [
                    "trainees": "\(rows.count)", "paid": "\(rows.filter { $0.amountFen > 0 }.count)",
                    "total": yuanText(sheet.totalFen), "policy": policy.id, "program": programDef.name(t),
                ]) + " " + chineseCapitals(sheet.totalFen))
                let audit = try office.attendanceSummary(classID: classID)
                if audit.quarantined > 0 { say(t("audit.claims", ["quarantined": "\(audit.quarantined)", "class": "\(classID)"])) }
                say(t("audit.summary", [
                    "class": "\(classID)", "scanned": "\(audit.scanned)", "manual": "\(audit.manual)",
                    "share": perMille(audit.manual_per_mille), "quarantined": "\(audit.quarantined)", "reasons": "",
                ]))
                if submit { say(t("claims.submitted", ["count": "\(recorded.count)"])) }
                for file in [csv, html].compactMap({ $0 }) { say(t("claims.written", ["file": file])) }
                return .ok
            }
        }
    }
}
