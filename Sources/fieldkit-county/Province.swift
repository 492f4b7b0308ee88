import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore
import FieldKitPrint
import FieldKitSQLite

extension FieldKitCounty {
    /// `fieldkit-county province key|join|link|report`: one person's claims across counties.
    struct Province: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.province.abstract"),
            discussion: helpText("help.county.province.discussion"),
            subcommands: [Key.self, Join.self, Link.self, Report.self])

        /// `province key --out FILE`: the province office makes its key once.
        struct Key: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.province.key.abstract"))
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.province.key.out")) var out: String

            func run() throws {
                try guarded {
                    let fingerprint = try ProvinceKey.create(at: out)
                    say(language.localizer()("cli.province.key", ["file": out, "fingerprint": fingerprint]))
                    return .ok
                }
            }
        }

        /// `province join --province 14 --key FILE`: a county takes the province's key.
        struct Join: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.province.join.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.province.join.province")) var province: String
            @Option(help: .localized("help.county.province.join.key")) var key: String

            func run() throws {
                try guarded {
                    let (membership, unlinked) = try options.open().joinProvince(province, keyFile: key)
                    let t = language.localizer()
                    say(t("cli.province.joined", ["province": membership.province, "fingerprint": membership.fingerprint]))
                    if unlinked > 0 { say(t("cli.province.unlinked", ["count": "\(unlinked)"])) }
                    return .ok
                }
            }
        }

        /// `province link --class N --roster FILE`: vouchers issued before joining get their
        /// province pseudonyms from the roster they were issued from.
        struct Link: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.province.link.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: .localized("help.county.province.link.class_id")) var classID: UInt32
            @Option(help: .localized("help.county.province.link.roster")) var roster: String

            func run() throws {
                try guarded {
                    let office = try options.open()
                    let (linked, unmatched) = try office.linkProvince(classID: classID, roster: try Files.read(roster))
                    let t = language.localizer()
                    say(t("cli.province.linked", ["class": "\(classID)", "count": "\(linked)"]))
                    if !unmatched.isEmpty {
                        say(t("cli.province.unmatched", ["lines": unmatched.map(String.init).joined(separator: ", ")]))
                    }
                    return .ok
                }
            }
        }

        /// `province report`: per county classes, trainees, days, amounts and flags, and the
        /// repeat claims across counties.
        struct Report: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.county.province.report.abstract"),
                discussion: helpText("help.county.province.report.discussion"))
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("county-home"), help: .localized("help.county.province.report.county_home"))
            var countyHomes: [String] = []
            @Option(name: .customLong("county-db"), help: .localized("help.county.province.report.county_db"))
            var countyFiles: [String] = []
            @Option(help: .localized("help.county.province.report.year")) var year: Int?
            @Flag(help: .localized("help.county.province.report.json")) var json = false
            @Option(help: .localized("help.county.province.report.csv")) var csv: String?

            func validate() throws {
                if let year, !(2000...2199).contains(year) { throw usageError(flag: "--year", expected: "year", value: "\(year)") }
                if countyHomes.isEmpty && countyFiles.isEmpty { throw usageError("usage.province.no_counties") }
            }

            func run() throws {
                try guarded {
                    let files = countyHomes.map { $0 + "/" + CountyOffice.Layout.database } + countyFiles
                    let facts = try files.map { try CountyOffice.provinceFacts(databaseFile: $0, year: year) }
                    let report = ProvinceReport(facts: facts, year: year)
                    let t = language.localizer()
                    if let csv { try emit(Array(ProvinceReportText.csv(report, localizer: t).utf8), to: csv) }
                    if json {
                        say(try jsonLine(report))
                    } else {
                        for line in ProvinceReportText.lines(report, localizer: t) { say(line) }
                    }
                    return .ok
                }
            }
        }
    }
}

/// The province report in words and as CSV.
enum ProvinceReportText {
    static func lines(_ r: ProvinceReport, localizer t: Localizer) -> [String] {
        var out: [String] = []
        var head = t("cli.province.report.head", ["province": r.province ?? "—", "fingerprint": r.fingerprint ?? "—"])
        if let year = r.year { head += t("cli.province.report.year", ["year": "\(year)"]) }
        out.append(head)
        func line(_ c: CountyRollup, _ name: String) -> String {
            t(
                "cli.province.report.county",
                [
                    "county": name, "classes": "\(c.classes)", "trainees": "\(c.trainees)", "days": "\(c.days)",
                    "claims": "\(c.claims)", "claimed": yuanText(c.claimedFen), "paid": yuanText(c.paidFen),
                    "written_off": yuanText(c.writtenOffFen), "held": "\(c.heldApart)", "conflicts": "\(c.siteConflicts)",
                    "repeated": "\(c.repeatedClaims)", "unlinked": "\(c.unlinkedVouchers)",
                ])
        }
        for c in r.counties { out.append(line(c, t("cli.province.report.county_name", ["county": c.county]))) }
        out.append(line(r.total, t("cli.province.report.total")))
        if r.repeats.isEmpty {
            out.append(t("cli.province.report.no_repeats"))
        } else {
            out.append(t("cli.province.report.repeats", ["count": "\(r.repeats.count)"]))
            for rep in r.repeats {
                let first = rep.claims[0]
                out.append(
                    "  "
                        + t(
                            "cli.province.report.person",
                            ["rule": t("cli.province.rule.\(rep.rule)"), "name": terminalSafe(first.name), "id": first.idMasked]))
                for c in rep.claims {
                    out.append(
                        "    "
                            + t(
                                "cli.province.report.claim",
                                [
                                    "county": c.county, "voucher": "\(c.voucherID)", "class": "\(c.classID)", "trade": c.trade,
                                    "level": t("level.\(c.level)"), "year": "\(c.year)", "amount": yuanText(c.amountFen),
                                    "state": t("voucher.state.\(c.state)"), "pays_for": t("cli.province.pays_for.\(c.paysFor)"),
                                ]))
                }
            }
        }
        if !r.notCompared.isEmpty {
            out.append(t("cli.province.report.not_compared", ["counties": r.notCompared.joined(separator: ", ")]))
        }
        return out
    }

    static func csv(_ r: ProvinceReport, localizer t: Localizer) -> String {
        var rows: [String] = []
        rows.append(
            ["county", "classes", "trainees", "days", "claims", "claimed", "paid", "written_off", "held_apart", "site_conflicts",
             "repeated_claims", "unlinked_vouchers"].map { csvField(t("cli.province.csv.\($0)")) }.joined(separator: ","))
        var total = r.total
        total.county = t("cli.province.report.total")
        for c in r.counties + [total] {
            rows.append(
                [csvField(c.county), csvNumber(c.classes), csvNumber(c.trainees), csvNumber(c.days), csvNumber(c.claims),
                 csvNumber(yuanText(c.claimedFen)), csvNumber(yuanText(c.paidFen)), csvNumber(yuanText(c.writtenOffFen)),
                 csvNumber(c.heldApart), csvNumber(c.siteConflicts), csvNumber(c.repeatedClaims), csvNumber(c.unlinkedVouchers)]
                    .joined(separator: ","))
        }
        rows.append("")
        rows.append(
            ["rule", "name", "id_masked", "county", "voucher", "class", "trade", "level", "year", "pays_for", "amount", "state"]
                .map { csvField(t("cli.province.csv.\($0)")) }.joined(separator: ","))
        for rep in r.repeats {
            for c in rep.claims {
                rows.append(
                    [csvField(t("cli.province.rule.\(rep.rule)")), csvField(c.name), csvField(c.idMasked), csvField(c.county),
                     csvNumber(c.voucherID), csvNumber(c.classID), csvField(c.trade), csvField(t("level.\(c.level)")),
                     csvNumber(c.year), csvField(t("cli.province.pays_for.\(c.paysFor)")), csvNumber(yuanText(c.amountFen)),
                     csvField(t("voucher.state.\(c.state)"))].joined(separator: ","))
            }
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }
}
