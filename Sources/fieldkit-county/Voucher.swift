import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore
import FieldKitLabel
import FieldKitPrint
import FieldKitQR
import FieldKitSQLite
import FieldKitStore

extension FieldKitCounty {
    /// `fieldkit-county voucher issue|revoke|list`.
    struct Voucher: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.voucher.abstract"), subcommands: [Issue.self, Reissue.self, Revoke.self, List.self, Status.self, Cards.self])

        struct Issue: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.county.voucher.issue.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: .localized("help.county.voucher.issue.class_id")) var classID: UInt32
            @Option(help: .localized("help.county.voucher.issue.roster")) var roster: String
            @Option(help: .localized("help.county.voucher.issue.valid_from")) var validFrom: String?
            @Option(help: .localized("help.county.voucher.issue.valid_to")) var validTo: String?
            @Flag(help: .localized("help.county.voucher.issue.test")) var test = false
            @Flag(help: .localized("help.county.voucher.issue.json")) var json = false

            func validate() throws {
                if let v = validFrom, ClassDay(iso: v) == nil { throw usageError(flag: "--valid-from", expected: "date", value: v) }
                if let v = validTo, ClassDay(iso: v) == nil { throw usageError(flag: "--valid-to", expected: "date", value: v) }
            }

            func run() throws {
                try guarded {
                    let issued = try options.open().issueVouchers(
                        classID: classID, roster: try Files.read(roster), validFrom: validFrom.flatMap { ClassDay(iso: $0) },
                        validTo: validTo.flatMap { ClassDay(iso: $0) }, test: test)
                    if json {
                        say(try jsonLine(issued))
                    } else {
                        let t = language.localizer()
                        for v in issued {
                            say(t("cli.voucher.issued.line", [
                                "voucher": "\(v.voucherID)", "name": v.name, "id": v.idMasked, "from": "\(v.validFrom)",
                                "to": "\(v.validTo)",
                            ]))
                        }
                        say(t("cli.voucher.issued", ["count": "\(issued.count)", "class": "\(classID)"]))
                    }
                    return .ok
                }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.voucher.revoke.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Argument(help: .localized("help.county.voucher.revoke.id")) var id: UInt64
            @Option(help: .localized("help.county.voucher.revoke.reason")) var reason: String

            func run() throws {
                try guarded {
                    try options.open().revokeVoucher(id, reason: reason)
                    say(language.localizer()("cli.voucher.revoked", ["voucher": "\(id)"]))
                    return .ok
                }
            }
        }

        /// `fieldkit-county voucher reissue VOUCHER --reason TEXT [--png DIR]`.
        struct Reissue: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.county.voucher.reissue.abstract"),
                discussion: helpText("help.county.voucher.reissue.discussion"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Argument(help: .localized("help.county.voucher.reissue.id")) var id: UInt64
            @Option(help: .localized("help.county.voucher.reissue.reason")) var reason: String
            @Option(help: .localized("help.county.voucher.reissue.png")) var png: String?
            @Flag(help: .localized("help.county.voucher.reissue.json")) var json = false

            func run() throws {
                try guarded {
                    let t = language.localizer()
                    let new = try options.open().reissueVoucher(id, reason: reason)
                    var file: String?
                    if let png {
                        try Files.makeDirectory(png, mode: 0o755)
                        file = "\(png)/voucher-\(new.voucherID).png"
                        try Files.writeAtomically(try QRCode(new.code, level: .quartile).png(scale: 8), to: file!)
                    }
                    if json {
                        say(try jsonLine(new))
                        return .ok
                    }
                    say(t("cli.voucher.reissued", [
                        "old": "\(id)", "voucher": "\(new.voucherID)", "name": new.name, "id": new.idMasked, "from": "\(new.validFrom)",
                        "to": "\(new.validTo)",
                    ]))
                    say(file.map { t("cli.voucher.reissued.png", ["file": $0]) }
                        ?? t("cli.voucher.reissued.next", ["class": "\(new.classID)"]))
                    return .ok
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.voucher.list.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: .localized("help.county.voucher.list.class_id")) var classID: UInt32?
            @Flag(help: .localized("help.county.voucher.list.json")) var json = false

            func run() throws {
                try guarded {
                    let list = try options.open().vouchers(classID: classID)
                    if json {
                        say(try jsonLine(list))
                    } else {
                        let t = language.localizer()
                        for v in list {
                            say(t("cli.voucher.line", ["voucher": "\(v.voucherID)", "class": "\(v.classID)", "name": v.name, "id": v.idMasked])
                                + (v.revokedAt.map {
                                    t("cli.voucher.line.revoked", ["date": "\($0.classDay())", "why": v.revokeReason ?? ""])
                                } ?? "")
                                + (v.replaces.map { t("cli.voucher.line.replaces", ["voucher": "\($0)"]) } ?? "")
                                + (v.replacedBy.map { t("cli.voucher.line.replaced_by", ["voucher": "\($0)"]) } ?? ""))
                        }
                    }
                    return .ok
                }
            }
        }

        /// `fieldkit-county voucher status (--class N | --voucher ID)`.
        struct Status: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.county.voucher.status.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: .localized("help.county.voucher.status.class_id")) var classID: UInt32?
            @Option(help: .localized("help.county.voucher.status.voucher")) var voucher: UInt64?
            @Flag(help: .localized("help.county.voucher.status.json")) var json = false

            func validate() throws {
                if classID == nil && voucher == nil { throw usageError("usage.class_or_voucher") }
            }

            func run() throws {
                try guarded {
                    let office = try options.open()
                    let list: [VoucherStatus]
                    if let voucher {
                        list = [try office.voucherStatus(voucherID: voucher)]
                    } else if let classID {
                        list = try office.voucherStatus(classID: classID)
                    } else {
                        throw usageError("usage.class_or_voucher")
                    }
                    if json {
                        say(try jsonLine(list))
                        return .ok
                    }
                    let t = language.localizer()
                    for v in list {
                        say(t("cli.voucher.status.line", [
                            "voucher": "\(v.voucher_id)", "class": "\(v.class_id)", "name": v.name, "id": v.id_masked,
                            "state": t("voucher.state.\(v.state.rawValue)"), "events": "\(v.events)",
                        ]) + (v.amount_fen.map { "  " + t("cli.voucher.status.amount", ["amount": yuanText($0)]) } ?? ""))
                    }
                    var counts: [VoucherState: Int] = [:]
                    for v in list { counts[v.state, default: 0] += 1 }
                    say(VoucherState.allCases.compactMap { s in counts[s].map { "\(t("voucher.state.\(s.rawValue)")) \($0)" } }
                        .joined(separator: " · "))
                    return .ok
                }
            }
        }

        struct Cards: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.county.voucher.cards.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: .localized("help.county.voucher.cards.class_id")) var classID: UInt32
            @Option(help: .localized("help.county.voucher.cards.out")) var out: String?
            @Option(help: .localized("help.county.voucher.cards.png"))
            var png: String?
            @Option(help: .localized("help.county.voucher.cards.font"))
            var font: String?

            func validate() throws {
                if out == nil && png == nil { throw usageError("usage.cards_output") }
            }

            func run() throws {
                try guarded {
                    let t = language.localizer()
                    let office = try options.open()
                    guard let (info, _) = try office.classInfo(classID) else { throw CountyError.unknownClass(classID) }
                    let vouchers = try office.vouchers(classID: classID).filter { $0.revokedAt == nil }
                    guard !vouchers.isEmpty else { throw CLIMessage(t("cli.voucher.cards.none", ["class": "\(classID)"])) }
                    // The font first: a font named but unusable is an error before anything is written;
                    // none found is a warning, and the PNGs carry the voucher number alone.
                    let face = try png == nil ? nil : (font ?? FontLocator.find()).map { try FontFace(path: $0) }
                    if png != nil && face == nil { say(t("cli.voucher.png.nofont", ["packages": FontLocator.packages])) }
                    if let out {
                        let cards = vouchers.map {
                            VoucherCard(
                                voucherID: $0.voucherID, name: $0.name, idMasked: $0.idMasked, className: info.name,
                                trade: info.trade, level: info.level, validFrom: $0.validFrom, validTo: $0.validTo, code: $0.code)
                        }
                        try emit(Array(try VoucherCardsPage.html(cards, localizer: t).utf8), to: out)
                        say(t("cli.voucher.cards", ["count": "\(cards.count)", "out": out]))
                    }
                    if let png {
                        try Files.makeDirectory(png, mode: 0o755)
                        for v in vouchers {
                            let lines = [
                                LabelledCode.Line(v.name, pixelHeight: 44),
                                LabelledCode.Line(t("label.voucher", ["id": "\(v.voucherID)"]), pixelHeight: 34),
                                LabelledCode.Line(t("label.class", ["name": info.name, "id": "\(info.id)"]), pixelHeight: 28),
                                LabelledCode.Line(t("label.dates", ["from": "\(info.startDate)", "to": "\(info.endDate)"]), pixelHeight: 28),
                            ]
                            let image = try LabelledCode.png(
                                code: try QRCode(v.code, level: .quartile), scale: 8, lines: lines, font: face, digits: "\(v.voucherID)")
                            try Files.writeAtomically(image, to: "\(png)/voucher-\(v.voucherID).png")
                        }
                        say(t("cli.voucher.png", ["count": "\(vouchers.count)", "dir": png]))
                    }
                    return .ok
                }
            }
        }
    }
}
