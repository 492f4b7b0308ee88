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
            abstract: "The claim sheet of a class: each trainee's days, hours, flags and amount, rule by rule (兑现).",
            discussion: """
                Attendance is what the sites synced. Policies: \(Policy.builtInIDs.joined(separator: ", ")), or a policy file.
                --submit records the claims that are paid (a voucher is claimed once; a written-off voucher never again).
                """)
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(name: .customLong("class"), help: "The class.") var classID: UInt32
        @Option(help: "Policy id or file (default: the class's).") var policy: String?
        @Option(help: "Programme in the policy (default: the class's), e.g. order_project.") var program: String?
        @Option(help: "The class's employment rate after training: 0.85, 85% or 34/40.") var employmentRate: String?
        @Option(help: "Employment per trainee, CSV voucher_id,employed (是/否, yes/no, 1/0).") var employment: String?
        @Option(help: "Extra days the bureau approved (普惠制).") var extraDays: Int = 0
        @Option(help: "For online training: the share that went on offline.") var offlineShare: String?
        @Option(help: "The catalogue's amount for the trade and level, yuan.") var catalogueAmount: String?
        @Flag(help: "The trainees obtained the certificate the programme asks for.") var certificateObtained = false
        @Flag(help: "Count flagged attendance too (after review).") var acceptFlagged = false
        @Flag(help: "Print JSON: one object per trainee.") var json = false
        @Option(help: "Also write the sheet as CSV (UTF-8 with BOM) to this file.") var csv: String?
        @Option(help: "Also write the printable sheet (A4 HTML) to this file.") var html: String?
        @Flag(help: "Record the claims that are paid.") var submit = false

        func validate() throws {
            if employmentRate != nil && employment != nil { throw usageError("usage.claims.one_employment") }
            if let r = employmentRate, Ratio(parsing: r).map({ $0.numerator <= $0.denominator }) != true {
                throw usageError(flag: "--employment-rate", expected: "ratio", value: r)
            }
            if let r = offlineShare, Ratio(parsing: r).map({ $0.numerator <= $0.denominator }) != true {
                throw usageError(flag: "--offline-share", expected: "ratio", value: r)
            }
            if let a = catalogueAmount, Ratio(parsing: a).map({ $0 <= Ratio(Int64(Policy.largestYuan), 1)! }) != true {
                throw usageError(flag: "--catalogue-amount", expected: "yuan", value: a)
            }
            guard (0...30).contains(extraDays) else { throw usageError(flag: "--extra-days", expected: "extra_days", value: "\(extraDays)") }
        }

        func run() throws {
            try guarded {
                let t = language.localizer()
                let office = try options.open()
                guard let (info, site) = try office.classInfo(classID) else { throw CountyError.unknownClass(classID) }
                let (policy, programDef) = try Policy.forClass(info, policy: policy, program: program)
                let programID = programDef.id
                let holders = try office.holders(classID: classID)
                var rate = employmentRate.flatMap { Ratio(parsing: $0) }
                if let employment { rate = try employmentRate(file: employment, vouchers: Set(holders.map(\.voucherID))) }
                var byVoucher: [UInt64: [AttendanceRecord]] = [:]
                for h in try office.heldAttendance(classID: classID) {
                    byVoucher[h.voucherID, default: []].append(AttendanceRecord(
                        day: h.day, sessionIndex: h.sessionIndex, signedIn: h.inMs, signedOut: h.outMs,
                        flags: AttendanceFlag.parse(list: h.flags.sorted().joined(separator: ","))))
                }
                var priors: [Int64: [PriorClaim]] = [:]
                for c in try office.claims(traineeRefs: holders.map(\.traineeRef)) {
                    priors[c.traineeRef, default: []].append(
                        PriorClaim(voucherID: c.voucherID, program: c.program, trade: c.trade, level: c.level, year: c.year))
                }
                let context = ClaimContext(
                    employmentRate: rate, extraApprovedDays: extraDays, offlineShare: offlineShare.flatMap { Ratio(parsing: $0) },
                    certificateObtained: certificateObtained,
                    catalogueAmount: catalogueAmount.flatMap { Ratio(parsing: $0)?.times(100) },
                    acceptFlagged: acceptFlagged)
                var rows: [ClaimRow] = []
                for h in holders {
                    let tally = AttendanceTally(records: byVoucher[h.voucherID] ?? [], of: info, settings: policy.settings)
                    let result = policy.evaluate(ClaimRequest(
                        voucherID: h.voucherID, classInfo: info, program: programID, tally: tally,
                        categories: policy.categories(from: h.category), priorClaims: priors[h.traineeRef] ?? [], context: context))
                    let revoked = h.revoked ? (code: "revoked", text: t("claims.refused.revoked")) : nil
                    rows.append(ClaimRow(
                        result: result, voucherID: h.voucherID, name: h.name, idMasked: h.idMasked, category: h.category, localizer: t,
                        refused: revoked))
                }
                var conditions: [String] = []
                if let rate { conditions.append(t("claims.condition.employment", ["rate": rate.description])) }
                if extraDays > 0 { conditions.append(t("claims.condition.extra_days", ["days": "\(extraDays)"])) }
                if acceptFlagged { conditions.append(t("claims.condition.accept_flagged")) }
                let siteName = try office.db.first("SELECT name FROM sites WHERE id = ?", [.text(site)]) { $0.text(0) } ?? nil
                let sheet = ClaimSheet(
                    classInfo: info, siteName: siteName ?? site, policyTitle: "\(policy.title)（\(policy.document)）", program: programDef.name(t),
                    conditions: conditions, rows: rows.map { $0.sheetRow(t) }, generatedAt: office.now())
                if let csv { try emit(ClaimSheetPage.csv(sheet, localizer: t), to: csv) }
                if let html { try emit(Array(ClaimSheetPage.html(sheet, localizer: t).utf8), to: html) }
                var recorded: [UInt64] = []
                if submit {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    recorded = try office.recordClaims(try rows.filter { $0.refused == nil && $0.amountFen > 0 }.compactMap { row in
                        guard let h = holders.first(where: { $0.voucherID == row.voucher_id }) else { return nil }
                        return ClaimRecord(
                            voucherID: row.voucher_id, classID: classID, traineeRef: h.traineeRef, policyID: policy.id, program: row.program,
                            trade: info.trade.description, level: Int(info.level), year: info.endDate.components.year, amountFen: row.amountFen,
                            detail: String(decoding: try encoder.encode(row), as: UTF8.self))
                    })
                }
                if json {
                    say(try jsonLine(rows))
                    return .ok
                }
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
                ]))
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

        /// The employment rate from a CSV of `voucher_id,employed`, over this class's vouchers.
        func employmentRate(file: String, vouchers: Set<UInt64>) throws -> Ratio {
            var text = String(decoding: try Files.read(file), as: UTF8.self)
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            var employed: Int64 = 0, counted: Int64 = 0
            for (n, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
                let cells = raw.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
                if n == 0, UInt64(cells[0]) == nil { continue }  // a header
                guard cells.count >= 2, let id = UInt64(cells[0]) else {
                    throw ClaimsInputError(file: file, line: n + 1, text: String(raw.prefix(40)), reason: "voucher_id,employed")
                }
                guard vouchers.contains(id) else { throw ClaimsInputError(file: file, line: n + 1, text: cells[0], reason: "class") }
                switch cells[1].lowercased() {
                case "是", "yes", "y", "1", "true", "已就业": employed += 1
                case "否", "no", "n", "0", "false", "未就业": break
                default: throw ClaimsInputError(file: file, line: n + 1, text: cells[1], reason: "employed")
                }
                counted += 1
            }
            guard counted > 0, let rate = Ratio(employed, counted) else {
                throw ClaimsInputError(file: file, line: 0, text: "", reason: "empty")
            }
            return rate
        }
    }
}

/// A line of an employment file that cannot be used.
struct ClaimsInputError: Error, LocalizedFailure {
    var file: String
    var line: Int
    var text: String
    var reason: String
    var words: (key: String, values: [String: String]) {
        ("error.claims.employment.\(reason.contains(",") ? "form" : reason)", ["file": file, "line": "\(line)", "value": text])
    }
}
