import FieldKitCore
import FieldKitPolicy
import FoundationEssentials

/// Policy files: loaded as `--policy FILE` loads them (JSON, then the checks JSON cannot say),
/// then every programme worked out for a small class under a few contexts. A refusal must be a
/// ``PolicyError`` with words; an amount must be what its lines add up to, never negative.
enum PolicyHarness {
    static func run(_ data: [UInt8]) {
        let policy: Policy
        do {
            policy = try Policy(bytes: data, source: "fuzz.json")
        } catch let error as PolicyError {
            expect(!error.text(english).isEmpty, "policy: \(error) has no words")
            return
        } catch {
            expect(false, "policy: unexpected error \(error)")
            return
        }
        _ = policy.categories(from: "失业人员;脱贫劳动力, poor_labour")
        let tally = AttendanceTally(records: records, of: classInfo, settings: policy.settings)
        let categories = policy.categories(from: policy.categories.first?.words.first)
        for program in policy.programs.prefix(8) {
            _ = program.name(english)
            for context in contexts {
                for priors in [[], [PriorClaim(voucherID: 9, program: program.id, trade: "4-03-02-01", level: 5, year: 2026)]] {
                    let result = policy.evaluate(ClaimRequest(
                        voucherID: 1_000_001, classInfo: classInfo, program: program.id, tally: tally, categories: categories,
                        priorClaims: priors, context: context))
                    for line in result.lines { _ = line.text(english) }
                    _ = result.refusalText(english)
                    if result.refused == nil {
                        expect(result.amount >= 0, "policy: \(program.id) pays a negative amount \(result.amount)")
                        let sum = result.lines.reduce(into: Money(0)) { s, l in s = s.addingReportingOverflow(l.amount).partialValue }
                        expect(sum == result.amount, "policy: \(program.id) lines add up to \(sum), the amount is \(result.amount)")
                    }
                }
            }
        }
    }

    /// Class 12 of the test vectors: 30 days in March 2026, two sessions of three hours.
    static let classInfo = FixedTrust.classInfo

    /// Ten days: eight whole, one with a manual sign-in, one signed in and never out.
    static let records: [AttendanceRecord] = (0..<10).flatMap { d -> [AttendanceRecord] in
        let day = classInfo.startDate.adding(days: d)
        return classInfo.sessions.enumerated().map { i, w in
            let signedIn = day.at(w.start).adding(minutes: 2).milliseconds
            let signedOut = d == 9 ? nil : Optional(day.at(w.end).adding(minutes: 5).milliseconds)
            return AttendanceRecord(day: day, sessionIndex: i, signedIn: signedIn, signedOut: signedOut, flags: d == 8 ? [.manual] : [])
        }
    }

    /// No facts (a policy out of force refuses); everything good; employment too low, flagged
    /// accepted (both worked out whatever the policy's dates).
    static let contexts: [ClaimContext] = [
        ClaimContext(),
        ClaimContext(
            employmentRate: Ratio(17, 20), extraApprovedDays: 3, offlineShare: Ratio(1, 4), certificateObtained: true,
            catalogueAmount: 120_000, outsideEffectiveDates: true),
        ClaimContext(employmentRate: Ratio(1, 2), offlineShare: Ratio(1, 20), acceptFlagged: true, outsideEffectiveDates: true),
    ]
}
