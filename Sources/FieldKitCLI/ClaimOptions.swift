import ArgumentParser
import FieldKitCore
import FieldKitPolicy
import FieldKitStore

/// What a claim is worked out under beyond attendance, the same options for the county's sheet
/// (`fieldkit-county claims`) and the institution's estimate (`fieldkit report class`), so the
/// same options give the same amounts.
public struct ClaimOptions: ParsableArguments {
    @Option(help: "Policy id or file (default: the class's).")
    public var policy: String?
    @Option(help: "Programme in the policy (default: the class's), e.g. order_project.")
    public var program: String?
    @Option(help: "The class's employment rate after training: 0.85, 85% or 34/40.")
    public var employmentRate: String?
    @Option(help: "Employment per trainee, CSV voucher_id,employed (是/否, yes/no, 1/0); every trainee of the class must be listed.")
    public var employment: String?
    @Option(help: "Extra days the bureau approved (普惠制).")
    public var extraDays: Int = 0
    @Option(help: "For online training: the share of online learners that went on offline (required by the online programme).")
    public var offlineShare: String?
    @Option(help: "The catalogue's amount for the trade and level, yuan.")
    public var catalogueAmount: String?
    @Flag(help: "The trainees obtained the certificate the programme asks for.")
    public var certificateObtained = false
    @Flag(help: "Count flagged attendance too (after review).")
    public var acceptFlagged = false
    @Flag(help: "Work the claim out under the policy although the class lies outside the policy's effective dates (the sheet says so).")
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
    public func employmentRate(required: Set<UInt64>, allowed: Set<UInt64>) throws -> Ratio? {
        if let employment {
            return try EmploymentFile.rate(bytes: try Files.read(employment), file: employment, required: required, allowed: allowed)
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
