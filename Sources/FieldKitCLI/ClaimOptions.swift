import ArgumentParser
import FieldKitCore
import FieldKitPolicy
import FieldKitSQLite
import FieldKitStore

/// What a claim is worked out under beyond attendance, the same options for the county's sheet
/// (`fieldkit-county claims`) and the institution's estimate (`fieldkit report class`), so the
/// same options give the same amounts.
public struct ClaimOptions: ParsableArguments {
    @Option(help: .localized("help.cli.claim_options.policy"))
    public var policy: String?
    @Option(help: .localized("help.cli.claim_options.program"))
    public var program: String?
    @Option(help: .localized("help.cli.claim_options.employment_rate"))
    public var employmentRate: String?
    @Option(help: .localized("help.cli.claim_options.employment"))
    public var employment: String?
    @Option(help: .localized("help.cli.claim_options.extra_days"))
    public var extraDays: Int = 0
    @Option(help: .localized("help.cli.claim_options.offline_share"))
    public var offlineShare: String?
    @Option(help: .localized("help.cli.claim_options.catalogue_amount"))
    public var catalogueAmount: String?
    @Flag(help: .localized("help.cli.claim_options.certificate_obtained"))
    public var certificateObtained = false
    @Flag(help: .localized("help.cli.claim_options.accept_flagged"))
    public var acceptFlagged = false
    @Flag(help: .localized("help.cli.claim_options.outside_policy_dates"))
    public var outsidePolicyDates = false

    public init() {}

    public func validate() throws {
        if employmentRate != nil && employment != nil { throw usageError("usage.claims.one_employment") }
        if let r = employmentRate, Ratio(parsing: r).map({ $0.numerator <= $0.denominator }) != true {
            throw usageError(flag: "--employment-rate", expected: "ratio", value: r)
        }
        if let r = offlineShare, Ratio(parsing: r).map({ $0.numerator <= $0.denominator }) != true {
            throw usageError(flag: "--offline-share", expected: "ratio", value: r)
        }
        if let a = catalogueAmount, Ratio(parsing: a).map({ $0 <= Ratio(Int64(Policy.largestYuan), 1)! }) != true {
            throw usageError(flag: "--catalogue-amount", expected: "yuan", value: a)
        }
        guard (0...30).contains(extraDays) else { throw usageError(flag: "--extra-days", expected: "extra_days", value: "\(extraDays)") }
    }

    /// The employment rate given, from the flag or the file.
    /// - Parameters:
    ///   - required: the class's vouchers that must be in the file (not revoked).
    ///   - allowed: every voucher of the class.
    /// - Throws: ``EmploymentFileError``, `FileError`.
    public func employmentRate(required: Set<UInt64>, allowed: Set<UInt64>, aliases: [UInt64: UInt64] = [:]) throws -> Ratio? {
        if let employment {
            return try EmploymentFile.rate(
                bytes: try Files.read(employment), file: employment, required: required, allowed: allowed, aliases: aliases)
        }
        return employmentRate.flatMap { Ratio(parsing: $0) }
    }

    /// The claim's context with the given employment rate.
    public func context(employmentRate: Ratio?) -> ClaimContext {
        ClaimContext(
            employmentRate: employmentRate, extraApprovedDays: extraDays, offlineShare: offlineShare.flatMap { Ratio(parsing: $0) },
            certificateObtained: certificateObtained, catalogueAmount: catalogueAmount.flatMap { Ratio(parsing: $0)?.times(100) },
            acceptFlagged: acceptFlagged, outsideEffectiveDates: outsidePolicyDates)
    }
}
