import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitPrint
import FieldKitStore

extension FieldKit {
    /// `fieldkit report`.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Printable reports.", subcommands: [Day.self])

        /// `fieldkit report day`: the day's sign-in sheet.
        struct Day: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The day's sign-in sheet (签到表) of a class: A4 HTML to print, or CSV for Excel/WPS.")
            @OptionGroup var options: HomeOptions
            @OptionGroup var language: LanguageOption
            @Option(name: .customLong("class"), help: "The class.") var classID: UInt32
            @Option(help: "The day, YYYY-MM-DD (default: today).") var date: String?
            @Option(help: "html or csv.") var format: String = "html"
            @Option(help: "Output file (default: standard output).") var out: String?

            func validate() throws {
                guard ["html", "csv"].contains(format) else { throw usageError(flag: "--format", expected: "html_csv", value: format) }
                if let date, ClassDay(iso: date) == nil { throw usageError(flag: "--date", expected: "date", value: date) }
            }

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let day = date.flatMap { ClassDay(iso: $0) } ?? station.clock.now().classDay(utcOffset: station.utcOffset)
                    let sheet = try station.daySheet(classID: classID, day: day)
                    let t = language.localizer()
                    try emit(format == "csv" ? DaySheetPage.csv(sheet, localizer: t) : Array(DaySheetPage.html(sheet, localizer: t).utf8), to: out)
                    if let out { say(t("cli.report.written", ["class": "\(classID)", "date": "\(day)", "out": out])) }
                    return .ok
                }
            }
        }
    }
}
