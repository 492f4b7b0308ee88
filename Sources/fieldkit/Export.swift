import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKit {
    /// `fieldkit export`.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the log: csv (for Excel/WPS, UTF-8 with BOM) or jsonl (every field and hash).")

        @OptionGroup var options: HomeOptions
        @OptionGroup var language: LanguageOption

        @Option(help: "csv or jsonl.")
        var format: String = "csv"

        @Option(help: "Output file (default: standard output).")
        var out: String?

        func validate() throws {
            guard ["csv", "jsonl"].contains(format) else {
                throw usageError(flag: "--format", expected: "csv_jsonl", value: format)
            }
        }

        func run() throws {
            try guarded {
                let station = try options.openStation()
                try emit(format == "csv" ? try station.exportCSV(localizer: language.localizer()) : try station.exportJSONL(), to: out)
                return .ok
            }
        }
    }
}
