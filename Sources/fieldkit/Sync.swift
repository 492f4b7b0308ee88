import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitSQLite
import FieldKitStore
import FieldKitSync

#if canImport(Glibc)
import Glibc
#endif

extension FieldKit {
    /// `fieldkit enroll`: over the network, or by files carried on a USB stick.
    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.enroll.abstract"),
            discussion: helpText("help.fieldkit.enroll.discussion"))

        @OptionGroup var options: HomeOptions

        @Option(help: .localized("help.fieldkit.enroll.county"))
        var county: String?

        @Option(help: .localized("help.fieldkit.enroll.code"))
        var code: String?

        @Option(help: .localized("help.fieldkit.enroll.file"))
        var file: String?

        @Option(help: .localized("help.fieldkit.enroll.out"))
        var out: String?

        @Option(help: .localized("help.fieldkit.enroll.answer"))
        var answer: String?

        @OptionGroup var language: LanguageOption

        func validate() throws {
            let network = county != nil || code != nil
            let byFile = file != nil || out != nil
            guard [network, byFile, answer != nil].filter({ $0 }).count == 1,
                !network || (county != nil && code != nil), !byFile || (file != nil && out != nil)
            else { throw usageError("usage.enroll_mode") }
        }

        func run() throws {
            try guarded {
                let station = try options.openStation()
                let t = language.localizer()
                if let file, let out {
                    let codeFile = try EnrollmentFile.decode(
                        EnrollmentCodeFile.self, bytes: try readBounded(file, limit: EnrollmentFile.maxBytes), path: file,
                        format: EnrollmentCodeFile.formatName)
                    let request = try station.enrollRequest(codeFile: codeFile, path: file)
                    try Files.writeAtomically(try EnrollmentFile.encode(EnrollmentRequestFile(request: request)), to: out)
                    say(t("cli.enroll.request_written", ["file": out, "device": request.device]))
                    return .ok
                }
                if let answer {
                    let answerFile = try EnrollmentFile.decode(
                        EnrollmentAnswerFile.self, bytes: try readBounded(answer, limit: EnrollmentFile.maxBytes), path: answer,
                        format: EnrollmentAnswerFile.formatName)
                    try station.takeEnrollmentAnswer(answerFile, path: answer)
                    say(t("cli.enroll.done_file", ["device": answerFile.answer.device, "county": answerFile.answer.county]))
                    return .ok
                }
                guard let county, let code else { throw usageError("usage.enroll_mode") }
                let answer = try SyncClient(station: station, county: county, logger: makeLogger()).enroll(code: code)
                say(t("cli.enroll.done", ["device": answer.device, "county": answer.county, "url": county]))
                return .ok
            }
        }
    }

    /// `fieldkit sync`: now, export to a USB stick, take a receipt back.
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.fieldkit.sync.abstract"),
            subcommands: [Now.self, Export.self, Receipt.self], defaultSubcommand: Now.self)

        /// `fieldkit sync [--watch]`.
        struct Now: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "now", abstract: helpText("help.fieldkit.sync.now.abstract"))

            @OptionGroup var options: HomeOptions

            @Option(help: .localized("help.fieldkit.sync.now.county"))
            var county: String?

            @Flag(help: .localized("help.fieldkit.sync.now.watch"))
            var watch = false

            @Option(help: .localized("help.fieldkit.sync.now.interval"))
            var interval: Int = 300

            @Option(help: .localized("help.fieldkit.sync.now.batch"))
            var batch = 1000

            @Flag(help: .localized("help.fieldkit.sync.now.json"))
            var json = false

            @OptionGroup var language: LanguageOption

            func validate() throws {
                guard (5...86_400).contains(interval) else { throw usageError(flag: "--interval", expected: "interval", value: "\(interval)") }
                guard (1...5000).contains(batch) else { throw usageError(flag: "--batch", expected: "batch", value: "\(batch)") }
            }

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    let t = language.localizer()
                    var policy = SyncClient.Policy()
                    policy.batchEvents = max(1, batch)
                    let enrolled = try station.syncState()
                    guard let url = county ?? enrolled.countyURL else {
                        throw enrolled.enrolledAt == nil ? SyncError.notEnrolled : SyncError.noCountyAddress
                    }
                    let client = SyncClient(station: station, county: url, policy: policy, logger: makeLogger(), words: t)
                    repeat {
                        do {
                            let outcome = try client.sync()
                            let state = try station.syncState()
                            if json {
                                say(try jsonLine(SyncReport(acknowledged: outcome.acknowledged, acked_seq: state.ackedSeq,
                                                            unsynced: state.unsynced, requests: outcome.requests,
                                                            new_bundle: outcome.newBundle)))
                            } else {
                                say(t("cli.sync.done", ["sent": "\(outcome.acknowledged)", "seq": "\(state.ackedSeq)"]))
                                if let seq = outcome.newBundle { say(t("cli.sync.bundle", ["seq": "\(seq)"])) }
                                if let why = outcome.bundleError { say("⚠ " + t("cli.sync.bundle_failed", ["why": why])) }
                            }
                            if !watch { return .ok }
                        } catch {
                            if !watch { throw error }
                            _ = fail(error)
                        }
                        sleep(UInt32(max(5, interval)))
                    } while true
                }
            }
        }

        /// `fieldkit sync export --out FILE`.
        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: helpText("help.fieldkit.sync.export.abstract"))

            @OptionGroup var options: HomeOptions

            @Option(help: .localized("help.fieldkit.sync.export.out"))
            var out: String

            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    guard let (file, batch) = try station.transferFile() else { throw SyncError.nothingToSend }
                    try Files.writeAtomically(file, to: out)
                    let left = try station.syncState().headSeq - batch.to
                    say(language.localizer()("cli.sync.exported", [
                        "count": "\(batch.events.count)", "from": "\(batch.from)", "to": "\(batch.to)", "file": out,
                    ]) + (left > 0 ? language.localizer()("cli.sync.exported.more", ["left": "\(left)"]) : ""))
                    return .ok
                }
            }
        }

        /// `fieldkit sync receipt FILE`.
        struct Receipt: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: helpText("help.fieldkit.sync.receipt.abstract"))

            @OptionGroup var options: HomeOptions

            @Argument(help: .localized("help.fieldkit.sync.receipt.file"))
            var file: String

            @OptionGroup var language: LanguageOption

            func run() throws {
                try guarded {
                    let station = try options.openStation()
                    guard let bytes = try? Files.read(file),
                        let receipt = try? SyncWire.decoder().decode(FieldKitCore.Receipt.self, from: bytes)
                    else { throw SyncError.receiptUnreadable(path: file) }
                    switch try station.takeReceipt(receipt) {
                    case .accepted(let seq):
                        say(language.localizer()("cli.sync.receipt", ["seq": "\(seq)"]))
                        return .ok
                    case .badSignature: throw SyncError.receiptNotCounty(path: file)
                    case .otherDevice(let d): throw SyncError.receiptOtherDevice(path: file, device: d)
                    case .ahead(let s): throw SyncError.receiptAhead(path: file, seq: s)
                    case .fork(let s): throw SyncError.fork(detail: "event \(s) differs")
                    }
                }
            }
        }
    }
}

/// `fieldkit sync --json`.
struct SyncReport: Encodable {
    var acknowledged: Int64
    var acked_seq: Int64
    var unsynced: Int64
    var requests: Int
    var new_bundle: Int64?
}
