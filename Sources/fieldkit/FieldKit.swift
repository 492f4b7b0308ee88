import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore
import Logging

/// `fieldkit`: the classroom PC's attendance station.
///
/// Synchronous on purpose: an async `main` starts Swift's cooperative thread pool, and with it
/// a second malloc arena, which costs a one-shot `fieldkit scan` about 1 MB of memory.
@main
struct FieldKit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldkit",
        abstract: helpText("help.fieldkit.abstract"),
        discussion: helpText("help.fieldkit.discussion"),
        subcommands: [
            Init.self, Trust.self, Scan.self, Manual.self, Status.self, Log.self, Export.self, Report.self, Kiosk.self,
            Enroll.self, Sync.self, Video.self, Evidence.self, RetentionCommand.self, Backup.self, Restore.self,
        ]
    )

    /// Parses and runs with help and usage errors in the user's language (see ``runCommandLine(_:arguments:)``).
    static func main() { runCommandLine(FieldKit.self) }
}

/// Flags every command takes.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: .localized("help.fieldkit.home_options.home"))
    var home: String?

    /// The home folder from the flag or the environment.
    func resolvedHome() throws -> String {
        if let home, !home.isEmpty { return home }
        if let env = environment("FIELDKIT_HOME"), !env.isEmpty { return env }
        throw usageError("usage.no_home")
    }

    /// Opens the station in the home folder.
    func openStation() throws -> Station {
        try Station(home: try resolvedHome(), logger: makeLogger())
    }
}

/// The logger for this process.
func makeLogger() -> Logger { makeLogger(label: "fieldkit") }
