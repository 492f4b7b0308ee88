import ArgumentParser
import FieldKitCLI
import FieldKitCore
import FieldKitStore
import FieldKitSync

#if canImport(Glibc)
import Glibc
#endif

extension FieldKit {
    /// `fieldkit enroll`: over the network, or by files carried on a USB stick.
    struct Enroll: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register this station with the county using a one-time code from the county office.",
            discussion: """
                With a link: fieldkit enroll --county URL --code CODE.
                Without (USB stick): fieldkit enroll --file CODE.json --out REQUEST.json, carry REQUEST.json to the county \
                (fieldkit-county device enroll), then fieldkit enroll --answer ANSWER.json.
                """)

        @OptionGroup var options: HomeOptions

        @Option(help: "The county server's address, e.g. http://county.example:8080.")
        var county: String?

        @Option(help: "The enrollment code, e.g. 4821-0937-5512.")
        var code: String?

        @Option(help: "The code file from the county (fieldkit-county device code --file).")
        var file: String?

        @Option(help: "With --file: the request file to write and carry to the county.")
        var out: String?

        @Option(help: "The county's answer file (fieldkit-county device enroll --out).")
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
            abstract: "Send the log to the county, or carry it on a USB stick.",
            subcommands: [Now.self, Export.self, Receipt.self], defaultSubcommand: Now.self)

        /// `fieldkit sync [--watch]`.
        struct Now: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "now", abstract: "Send every unacknowledged event; exits 0 only when the county holds them all.")

            @OptionGroup var options: HomeOptions

            @Option(help: "The county server's address (default: the one from enrollment).")
            var county: String?

            @Flag(help: "Keep syncing in the background every --interval seconds (until stopped).")
            var watch = false

            @Option(help: "Seconds between syncs with --watch (5 to 86400).")
            var interval: Int = 300

            @Option(help: "Most events per request, 1 to 5000 (smaller for a very slow link).")
            var batch = 1000

            @Flag(help: "Print a JSON object.")
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
                abstract: "Write the unacknowledged events to a signed transfer file (for a USB stick).")

            @OptionGroup var options: HomeOptions

            @Option(help: "The transfer file to write.")
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
            static let configuration = CommandConfiguration(abstract: "Take a receipt file the county gave for a transfer.")

            @OptionGroup var options: HomeOptions

            @Argument(help: "The receipt file.")
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
