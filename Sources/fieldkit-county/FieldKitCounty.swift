import ArgumentParser
import CountyKit
import Dispatch
import FieldKitCLI
import FieldKitCore
import Logging

/// `fieldkit-county`: the county office's keys, classes, vouchers and trust bundles.
@main
struct FieldKitCounty: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldkit-county",
        abstract: helpText("help.county.abstract"),
        discussion: helpText("help.county.discussion"),
        subcommands: [
            Init.self, Site.self, Class.self, Voucher.self, Key.self, Bundle.self, Device.self, Serve.self, Import.self,
            Attendance.self, Claims.self, Pay.self, WriteOff.self, Province.self,
        ]
    )

    /// Parses and runs with help and usage errors in the user's language (see ``runCommandLine(_:arguments:)``).
    static func main() { runCommandLine(FieldKitCounty.self) }
}

/// Flags every command takes.
struct CountyOptions: ParsableArguments {
    @Option(name: .long, help: .localized("help.county.county_options.home"))
    var home: String?

    /// The home folder from the flag or the environment.
    func resolvedHome() throws -> String {
        if let home, !home.isEmpty { return home }
        if let env = environment("FIELDKIT_COUNTY_HOME"), !env.isEmpty { return env }
        throw usageError("usage.no_county_home")
    }

    /// Opens the county office.
    func open() throws -> CountyOffice { try CountyOffice(home: try resolvedHome(), logger: makeLogger()) }
}

/// The logger for this process.
func makeLogger() -> Logger { makeLogger(label: "fieldkit-county") }

/// Runs async work (the county store's) to its end from a command: the command's thread
/// waits, the work runs on the pool and the store's own thread.
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let outcome = Outcome<T>()
    Task {
        do { outcome.result = .success(try await body()) } catch { outcome.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

/// What ``waitFor(_:)`` hands back: written by the task before the signal, read after the wait.
private final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

extension FieldKitCounty {
    /// `fieldkit-county init`.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.init.abstract"))

        @OptionGroup var options: CountyOptions

        @Option(help: .localized("help.county.init.county"))
        var county: String

        @OptionGroup var language: LanguageOption

        func run() throws {
            try guarded {
                let home = try options.resolvedHome()
                let office = try CountyOffice.initialize(home: home, countyID: county, logger: makeLogger())
                let t = language.localizer()
                say(t("cli.county.ready", ["county": office.countyID, "home": home]))
                say(t("cli.county.root_key", ["path": "\(home)/\(CountyOffice.Layout.rootPublicKey)"]))
                return .ok
            }
        }
    }

    /// `fieldkit-county site add`.
    struct Site: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: helpText("help.county.site.abstract"), subcommands: [Add.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.site.add.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Option(help: .localized("help.county.site.add.id")) var id: String
            @Option(help: .localized("help.county.site.add.name")) var name: String

            func validate() throws { try refuseHiddenControl(flag: "--name", name) }

            func run() throws {
                try guarded {
                    try options.open().addSite(id: id, name: name)
                    say(language.localizer()("cli.site.added", ["id": id, "name": name]))
                    return .ok
                }
            }
        }
    }

    /// `fieldkit-county key list|rotate`.
    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.key.abstract"), subcommands: [List.self, Rotate.self, Revoke.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.county.key.list.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Flag(help: .localized("help.county.key.list.json")) var json = false

            func run() throws {
                try guarded {
                    let keys = try options.open().listKeys()
                    if json {
                        say(try jsonLine(keys))
                    } else {
                        let t = language.localizer()
                        for k in keys {
                            var values = [
                                "kid": "\(k.kid)", "status": t("cli.key.status.\(k.status.rawValue)"), "from": "\(k.validFrom)",
                                "key": k.publicKey,
                            ]
                            if let to = k.validTo { values["to"] = "\(to)" }
                            say(t(k.validTo == nil ? "cli.key.line.open" : "cli.key.line", values))
                        }
                    }
                    return .ok
                }
            }
        }

        struct Rotate: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.county.key.rotate.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let k = try options.open().rotateKey()
                    say(language.localizer()("cli.key.rotated", ["kid": "\(k.kid)"]))
                    return .ok
                }
            }
        }

        /// `fieldkit-county key revoke`, for a compromised key.
        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.county.key.revoke.abstract"))
            @OptionGroup var options: CountyOptions
            @OptionGroup var language: LanguageOption
            @Argument(help: .localized("help.county.key.revoke.kid")) var kid: String

            func validate() throws {
                guard KeyID(hex: kid) != nil else { throw usageError(flag: "KID", expected: "kid", value: kid) }
            }

            func run() throws {
                try guarded {
                    guard let key = KeyID(hex: kid) else { throw usageError(flag: "KID", expected: "kid", value: kid) }
                    try options.open().revokeKey(key)
                    say(language.localizer()("cli.key.revoked", ["kid": kid]))
                    return .ok
                }
            }
        }
    }

    /// `fieldkit-county bundle`.
    struct Bundle: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: helpText("help.county.bundle.abstract"))
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(help: .localized("help.county.bundle.site")) var site: String
        @Option(help: .localized("help.county.bundle.out")) var out: String
        @Option(help: .localized("help.county.bundle.valid_days")) var validDays: Int = 30

        func validate() throws {
            guard (1...366).contains(validDays) else { throw usageError(flag: "--valid-days", expected: "valid_days", value: "\(validDays)") }
        }

        func run() throws {
            try guarded {
                let signed = try options.open().exportBundle(site: site, validDays: validDays)
                try emit(signed.fileBytes, to: out)
                say(language.localizer()("cli.bundle.written", ["site": site, "out": out]))
                return .ok
            }
        }
    }
}
