import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore

extension FieldKitCounty {
    /// `fieldkit-county pay (--class N | --voucher ID) --reference R`.
    struct Pay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: helpText("help.county.pay.abstract"))
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(name: .customLong("class"), help: .localized("help.county.pay.class_id")) var classID: UInt32?
        @Option(help: .localized("help.county.pay.voucher")) var voucher: UInt64?
        @Option(help: .localized("help.county.pay.reference")) var reference: String

        func validate() throws {
            if classID == nil && voucher == nil { throw usageError("usage.class_or_voucher") }
        }

        func run() throws {
            try guarded {
                let paid = try options.open().recordPayment(classID: classID, voucherID: voucher, reference: reference)
                say(language.localizer()("cli.pay.done", ["count": "\(paid.count)", "reference": reference]))
                return .ok
            }
        }
    }

    /// `fieldkit-county write-off (--class N | --voucher ID)`.
    struct WriteOff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "write-off",
            abstract: helpText("help.county.write_off.abstract"))
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(name: .customLong("class"), help: .localized("help.county.write_off.class_id")) var classID: UInt32?
        @Option(help: .localized("help.county.write_off.voucher")) var voucher: UInt64?

        func validate() throws {
            if classID == nil && voucher == nil { throw usageError("usage.class_or_voucher") }
        }

        func run() throws {
            try guarded {
                let done = try options.open().writeOff(classID: classID, voucherID: voucher)
                say(language.localizer()("cli.write_off.done", ["count": "\(done.count)"]))
                return .ok
            }
        }
    }
}
