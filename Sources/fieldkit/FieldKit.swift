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
        abstract: "Offline voucher sign-in and sign-out for a training classroom.",
        discussion: """
            Exit codes: 0 done (scan: accepted), 1 could not be done, 3 duplicate scan, 4 refused scan,
            5 log verification failed, 64 bad arguments.
            """,
        subcommands: [
            Init.self, Trust.self, Scan.self, Manual.self, Status.self, Log.self, Export.self, Report.self, Kiosk.self,
            Enroll.self, Sync.self, Video.self, Evidence.self, RetentionCommand.self,
        ]
    )
}

/// Flags every command takes.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: "The station's folder (or set FIELDKIT_HOME).")
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
