import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitPolicy
import FieldKitPrint
import FieldKitStore

extension FieldKit {
    /// `fieldkit report`.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.report.abstract"), subcommands: [Day.self, ClassReport.self])

        /// `fieldkit report day`: the day's sign-in sheet.
        struct Day: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.report.day.abstract"),
                discussion: helpText("help.fieldkit.report.day.discussion"))
            @OptionGroup var options: HomeOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: .localized("help.fieldkit.report.day.class_id")) var classID: UInt32
            @Option(help: .localized("help.fieldkit.report.day.date")) var date: String?
            @Option(help: .localized("help.fieldkit.report.day.format")) var format: String = "html"
            @Option(help: .localized("help.fieldkit.report.day.out")) var out: String?
            @Option(help: .localized("help.fieldkit.report.day.instructor")) var instructor: String?

            func validate() throws {
                guard ["html", "csv"].contains(format) else { throw usageError(flag: "--format", expected: "html_csv", value: format) }
                if let date, ClassDay(iso: date) == nil { throw usageError(flag: "--date", expected: "date", value: date) }
                if let instructor {
                    // Printed on a paper an auditor files: no control or bidirectional characters, a name's length.
                    if let c = firstHiddenControl(in: instructor) {
                        throw usageError("usage.hidden_character", ["flag": "--instructor", "char": c.codePoint])
                    }
                    guard instructor.count <= 40 else { throw usageError(flag: "--instructor", expected: "instructor", value: instructor) }
                }
            }

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let day = date.flatMap { ClassDay(iso: $0) } ?? station.clock.now().classDay(utcOffset: station.utcOffset)
                    let sheet = try station.daySheet(classID: classID, day: day, instructor: instructor)
                    let t = language.localizer()
                    try emit(format == "csv" ? DaySheetPage.csv(sheet, localizer: t) : Array(DaySheetPage.html(sheet, localizer: t).utf8), to: out)
                    if let out { say(t("cli.report.written", ["class": "\(classID)", "date": "\(day)", "out": out])) }
                    return .ok
                }
            }
        }

        /// `fieldkit report class --class N`: days, hours and an estimate, before the county's sheet.
        struct ClassReport: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "class",
                abstract: helpText("help.fieldkit.report.class_report.abstract"),
                discussion: helpText("help.fieldkit.report.class_report.discussion"))
            @OptionGroup var options: HomeOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: .localized("help.fieldkit.report.class_report.class_id")) var classID: UInt32
            @OptionGroup var claim: ClaimOptions
            @Option(help: .localized("help.fieldkit.report.class_report.format")) var format: String = "text"
            @Flag(help: .localized("help.fieldkit.report.class_report.json")) var json = false
            @Option(help: .localized("help.fieldkit.report.class_report.out")) var out: String?

            func validate() throws {
                guard ["text", "json", "html", "csv"].contains(format) else {
                    throw usageError(flag: "--format", expected: "report_format", value: format)
                }
            }

            func run() throws {
                try guarded {
                    let t = language.localizer()
                    let station = try options.openStation()
                    guard let info = try station.classInfo(classID) else { throw StationError.unknownClass(classID) }
                    let (policy, programDef) = try Policy.forClass(info, policy: claim.policy, program: claim.program)
                    let programID = programDef.id
                    let roster = try station.roster(classID: classID)
                    // A reissued voucher's trainee holds the attendance of the vouchers it replaced.
                    var current: [UInt64: UInt64] = [:]
                    for entry in roster { for old in entry.replaces ?? [] { current[old] = entry.voucherID } }
                    var attendance: [UInt64: [AttendanceRecord]] = [:]
                    for p in try station.attendancePairs(classID: classID) {
                        attendance[current[p.voucherID] ?? p.voucherID, default: []].append(AttendanceRecord(
                            day: p.day, sessionIndex: p.sessionIndex, signedIn: p.inMs, signedOut: p.outMs,
                            flags: AttendanceFlag.parse(list: p.flags.joined(separator: ","))))
                    }
                    var trainees: [ClaimTrainee] = []
                    for entry in roster {
                        trainees.append(ClaimTrainee(
                            voucherID: entry.voucherID, name: entry.name, idMasked: entry.idMasked, category: entry.category,
                            revoked: try station.revocation(entry.voucherID) != nil))
                    }
                    let given = try claim.employmentRate(
                        required: Set(trainees.filter { !$0.revoked }.map(\.voucherID)), allowed: Set(trainees.map(\.voucherID)),
                        aliases: current)
                    // No rate given: the estimate assumes the condition is met, and says so on the page.
                    let assumed = given == nil && policy.asksForEmployment(programDef)
                    let outcome = ClaimPipeline.work(
                        ClaimInputs(
                            classInfo: info, siteName: try station.heldTrust()?.siteName ?? station.siteID, policy: policy, program: programDef,
                            trainees: trainees, attendance: attendance, recordings: try station.videos().map(\.span),
                            context: claim.context(employmentRate: given ?? (assumed ? Ratio(1, 1) : nil)), employmentAssumed: assumed,
                            now: station.clock.now(), utcOffset: station.utcOffset, isEstimate: true),
                        localizer: t)
                    let rows = outcome.rows, sheet = outcome.sheet
                    struct Report: Encodable {
                        var `class`: UInt32
                        var policy: String
                        var program: String
                        var estimate: Bool
                        var preview: Bool
                        var total: Double
                        var total_capitals: String
                        var warnings: [String]
                        var trainees: [ClaimRow]
                    }
                    switch json ? "json" : format {
                    case "json":
                        try emit(Array((try jsonLine(Report(
                            class: classID, policy: policy.id, program: programID, estimate: true, preview: outcome.isPreview,
                            total: Double(sheet.totalFen) / 100, total_capitals: chineseCapitals(sheet.totalFen), warnings: sheet.warnings,
                            trainees: rows)) + "\n").utf8), to: out)
                    case "html": try emit(Array(ClaimSheetPage.html(sheet, localizer: t).utf8), to: out)
                    case "csv": try emit(ClaimSheetPage.csv(sheet, localizer: t), to: out)
                    default:
                        // One entry per line, each made terminalSafe: names come from the bundle.
                        var text = [t("report.class.head", ["class": "\(classID)", "name": info.name, "policy": policy.id, "program": programDef.name(t)])]
                        text += sheet.warnings.map { "⚠ " + $0 }
                        text += sheet.conditions
                        for (i, r) in rows.enumerated() {
                            text.append("\(i + 1). \(r.name) \(r.id_masked)  " + t("claims.row", [
                                "days": "\(r.days)", "hours": "\(r.hours)", "amount": yuanText(r.amountFen),
                            ]) + (r.flagged_days > 0 ? "  " + t("claims.row.flagged", ["days": "\(r.flagged_days)"]) : ""))
                            for line in r.lines { text.append("     " + line) }
                            if let refusal = r.refusal { text.append("     ✘ " + refusal) }
                        }
                        text.append(t("report.class.total", ["total": yuanText(sheet.totalFen)]) + " " + chineseCapitals(sheet.totalFen))
                        try emit(Array(text.map { terminalSafe($0) + "\n" }.joined().utf8), to: out)
                    }
                    if let out { say(t("claims.written", ["file": out])) }
                    return .ok
                }
            }
        }
    }
}
