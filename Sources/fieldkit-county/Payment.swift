import ArgumentParser
import CountyKit
import FieldKitCLI
import FieldKitCore

extension FieldKitCounty {
    /// `fieldkit-county pay (--class N | --voucher ID) --reference R`.
    struct Pay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record that claimed subsidies were paid (兑现): one voucher, or every claimed voucher of a class.")
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(name: .customLong("class"), help: "Every claimed voucher of this class.") var classID: UInt32?
        @Option(help: "One voucher.") var voucher: UInt64?
        @Option(help: "The payment's reference, e.g. the bank transfer number.") var reference: String

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
            abstract: "Close paid vouchers (核销): final; a written-off voucher is never claimed again.")
        @OptionGroup var options: CountyOptions
        @OptionGroup var language: LanguageOption
        @Option(name: .customLong("class"), help: "Every paid voucher of this class.") var classID: UInt32?
        @Option(help: "One voucher.") var voucher: UInt64?

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
