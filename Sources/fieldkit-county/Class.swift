import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore
import FieldKitPolicy

extension FieldKitCounty {
    /// `fieldkit-county class add`.
    struct Class: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: helpText("help.county.class.abstract"), subcommands: [Add.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.class.add.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.class.add.id")) var id: UInt32
            @Option(help: .localized("help.county.class.add.site")) var site: String
            @Option(help: .localized("help.county.class.add.name")) var name: String
            @Option(help: .localized("help.county.class.add.trade")) var trade: String
            @Option(help: .localized("help.county.class.add.level")) var level: UInt8
            @Option(help: .localized("help.county.class.add.start")) var start: String
            @Option(help: .localized("help.county.class.add.end")) var end: String
            @Option(help: .localized("help.county.class.add.sessions")) var sessions: String
            @Option(help: .localized("help.county.class.add.location")) var location: String = ""
            @Option(help: .localized("help.county.class.add.policy", ["policies": Policy.builtInIDs.joined(separator: ", ")])) var policy: String?
            @Option(help: .localized("help.county.class.add.program")) var program: String?

            func validate() throws {
                guard id >= 1 else { throw usageError(flag: "--id", expected: "id", value: "\(id)") }
                try refuseHiddenControl(flag: "--name", name)
                try refuseHiddenControl(flag: "--location", location)
                guard OccupationCode(trade) != nil else {
                    throw usageError(flag: "--trade", expected: "trade", value: trade)
                }
                guard level <= 5 else { throw usageError(flag: "--level", expected: "level", value: "\(level)") }
                guard let s = ClassDay(iso: start) else { throw usageError(flag: "--start", expected: "date", value: start) }
                guard let e = ClassDay(iso: end) else { throw usageError(flag: "--end", expected: "date", value: end) }
                guard s <= e else { throw usageError("usage.end_before_start", ["end": end, "start": start]) }
                guard SessionWindow.parseList(sessions) != nil else {
                    throw usageError(flag: "--sessions", expected: "sessions", value: sessions)
                }
                if program != nil && policy == nil { throw usageError("usage.class.program_without_policy") }
            }

            func run() throws {
                try guarded {
                    if let policy {
                        let p = try Policy.resolve(policy)
                        if let program, p.program(program) == nil {
                            throw usageError("usage.class.unknown_program", [
                                "program": program, "policy": p.id, "programs": p.programs.map(\.id).joined(separator: ", "),
                            ])
                        }
                    }
                    // validate() checked each of these; the guard keeps a bad value a usage error, never a trap
                    guard let trade = OccupationCode(trade), let startDay = ClassDay(iso: start), let endDay = ClassDay(iso: end),
                        let windows = SessionWindow.parseList(sessions)
                    else { throw usageError(flag: "--trade/--start/--end/--sessions", expected: "date", value: "\(start) \(end)") }
                    let info = ClassInfo(
                        id: id, name: name, trade: trade, level: level, location: location, startDate: startDay, endDate: endDay,
                        sessions: windows, program: program, policy: policy)
                    try options.open().addClass(info, site: site)
                    say(language.localizer()("cli.class.added", [
                        "id": "\(id)", "site": site, "name": name, "start": start, "end": end, "sessions": sessions,
                    ]))
                    return .ok
                }
            }
        }
    }
}

/// Refuses a name that holds a control or bidirectional character (it would go into every
/// bundle, sheet and screen): a usage error naming the flag and the character as `U+202E`.
func refuseHiddenControl(flag: String, _ value: String) throws {
    if let c = firstHiddenControl(in: value) {
        throw usageError("usage.hidden_character", ["flag": flag, "char": c.codePoint])
    }
}
