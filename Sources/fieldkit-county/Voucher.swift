import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore
import FieldKitStore

extension FieldKitCounty {
    /// `fieldkit-county voucher issue|revoke|list`.
    struct Voucher: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Electronic training vouchers.", subcommands: [Issue.self, Revoke.self, List.self])

        struct Issue: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Issue vouchers to a class from a roster CSV (name,id_number[,category]); all or none.")
            @OptionGroup var options: CountyOptions
            @Option(name: .customLong("class"), help: "The class.") var classID: UInt32
            @Option(help: "Roster CSV, UTF-8.") var roster: String
            @Option(help: "First valid day (default: the class's start).") var validFrom: String?
            @Option(help: "Last valid day (default: the class's end).") var validTo: String?
            @Flag(help: "Mark as test vouchers (drills; never counted).") var test = false
            @Flag(help: "Print JSON.") var json = false

            func validate() throws {
                if let v = validFrom, ClassDay(iso: v) == nil { throw ValidationError("--valid-from must be YYYY-MM-DD, not '\(v)'") }
                if let v = validTo, ClassDay(iso: v) == nil { throw ValidationError("--valid-to must be YYYY-MM-DD, not '\(v)'") }
            }

            func run() async throws {
                try guarded {
                    let issued = try options.open().issueVouchers(
                        classID: classID, roster: try Files.read(roster), validFrom: validFrom.flatMap { ClassDay(iso: $0) },
                        validTo: validTo.flatMap { ClassDay(iso: $0) }, test: test)
                    if json {
                        say(try jsonLine(issued))
                    } else {
                        for v in issued { say("\(v.voucherID)  \(v.name)  \(v.idMasked)  valid \(v.validFrom) to \(v.validTo)") }
                        say("\(issued.count) vouchers issued for class \(classID)")
                    }
                    return .ok
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Withdraw a voucher.")
            @OptionGroup var options: CountyOptions
            @Argument(help: "The voucher number.") var id: UInt64
            @Option(help: "Why (e.g. reissued, left the class).") var reason: String

            func run() async throws {
                try guarded {
                    try options.open().revokeVoucher(id, reason: reason)
                    say("voucher \(id) revoked; sites refuse it after importing the next trust bundle")
                    return .ok
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List vouchers.")
            @OptionGroup var options: CountyOptions
            @Option(name: .customLong("class"), help: "Only this class.") var classID: UInt32?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                try guarded {
                    let list = try options.open().vouchers(classID: classID)
                    if json {
                        say(try jsonLine(list))
                    } else {
                        for v in list {
                            say("\(v.voucherID)  class \(v.classID)  \(v.name)  \(v.idMasked)"
                                + (v.revokedAt.map { "  REVOKED \($0.classDay()) (\(v.revokeReason ?? ""))" } ?? ""))
                        }
                    }
                    return .ok
                }
            }
        }
    }
}
