import FieldKitCore

/// A subsidy already claimed for the same person (found by the county's pseudonym).
public struct PriorClaim: Sendable, Equatable {
    /// Its voucher.
    public var voucherID: UInt64
    /// Its programme.
    public var program: String
    /// Occupation code.
    public var trade: String
    /// Skill level.
    public var level: Int
    /// Year of the class's last day.
    public var year: Int

    /// A prior claim.
    public init(voucherID: UInt64, program: String, trade: String, level: Int, year: Int) {
        self.voucherID = voucherID
        self.program = program
        self.trade = trade
        self.level = level
        self.year = year
    }
}

/// What the claim knows beyond attendance.
public struct ClaimContext: Sendable {
    /// The class's employment rate after training, when reported.
    public var employmentRate: Ratio?
    /// Extra days the bureau approved (普惠制, weak base), 0 when none.
    public var extraApprovedDays: Int
    /// For online training: the share of online learners who went on offline.
    public var offlineShare: Ratio?
    /// The trainee obtained the certificate the rule asks for.
    public var certificateObtained: Bool
    /// The subsidy catalogue's amount for the trade and level, fen.
    public var catalogueAmount: Money?
    /// Count flagged attendance (after review) as well.
    public var acceptFlagged: Bool

    /// A context.
    public init(
        employmentRate: Ratio? = nil, extraApprovedDays: Int = 0, offlineShare: Ratio? = nil, certificateObtained: Bool = false,
        catalogueAmount: Money? = nil, acceptFlagged: Bool = false
    ) {
        self.employmentRate = employmentRate
        self.extraApprovedDays = extraApprovedDays
        self.offlineShare = offlineShare
        self.certificateObtained = certificateObtained
        self.catalogueAmount = catalogueAmount
        self.acceptFlagged = acceptFlagged
    }
}

/// One claim to work out.
public struct ClaimRequest: Sendable {
    /// The voucher.
    public var voucherID: UInt64
    /// The class.
    public var classInfo: ClassInfo
    /// The programme it is funded under.
    public var program: String
    /// The trainee's attendance in it.
    public var tally: AttendanceTally
    /// The trainee's categories (policy category ids).
    public var categories: Set<String>
    /// Subsidies already claimed for the same person (any class).
    public var priorClaims: [PriorClaim]
    /// The rest.
    public var context: ClaimContext

    /// A request.
    public init(
        voucherID: UInt64, classInfo: ClassInfo, program: String, tally: AttendanceTally, categories: Set<String> = [],
        priorClaims: [PriorClaim] = [], context: ClaimContext = ClaimContext()
    ) {
        self.voucherID = voucherID
        self.classInfo = classInfo
        self.program = program
        self.tally = tally
        self.categories = categories
        self.priorClaims = priorClaims
        self.context = context
    }
}

/// Why nothing is paid.
public enum RefusalCode: String, Sendable, Encodable, CaseIterable {
    /// This voucher was claimed before.
    case alreadyClaimed = "already_claimed"
    /// The same person, trade, level and year was paid before (another voucher).
    case repeatClaim = "repeat_claim"
    /// The person has had the most subsidies a year allows.
    case yearlyLimit = "yearly_limit"
    /// Too few days count.
    case notEnoughDays = "not_enough_days"
    /// Too few class hours.
    case notEnoughHours = "not_enough_hours"
    /// The programme's conditions are not met (a certificate, a category).
    case notEligible = "not_eligible"
    /// The employment rate is needed and was not given.
    case employmentRateMissing = "employment_rate_missing"
    /// The employment rate is below the condition and nothing falls back.
    case employmentRateLow = "employment_rate_low"
    /// A test voucher.
    case testVoucher = "test_voucher"
    /// The class's programme is not in the policy.
    case unknownProgram = "unknown_program"
    /// The amount does not fit in the money type (a hand-made policy's amounts, absurd class
    /// dates): refused instead of wrapped round.
    case amountTooLarge = "amount_too_large"
}

/// One line of how an amount was reached: a translation key (`policy.line.*`) and its values.
public struct RuleLine: Sendable, Equatable {
    /// The key.
    public var key: String
    /// Its values (amounts in yuan text).
    public var values: [String: String]
    /// What the line adds, fen (0 for notes).
    public var amount: Money

    /// The line in words.
    public func text(_ t: Localizer) -> String { t("policy.line.\(key)", values) }
}

/// The worked-out claim of one trainee.
public struct ClaimResult: Sendable {
    /// The voucher.
    public var voucherID: UInt64
    /// The programme the amount was worked out under (the fall-back's when it applied).
    public var program: String
    /// Days and class hours that count (clean, or with flagged when accepted).
    public var days: Int
    /// Class hours.
    public var hours: Int
    /// What flags held back.
    public var flagged: AttendanceTally.Totals
    /// Flagged items to review.
    public var reviewItems: [AttendanceTally.ReviewItem]
    /// The amount, fen.
    public var amount: Money
    /// How, line by line.
    public var lines: [RuleLine]
    /// Why nothing is paid, when so.
    public var refused: RefusalCode?
    /// Values for the refusal's words.
    public var refusalValues: [String: String]

    /// The refusal in words.
    public func refusalText(_ t: Localizer) -> String? { refused.map { t("policy.refused.\($0.rawValue)", refusalValues) } }
}

extension Policy {
    /// Works out one trainee's claim under this policy.
    public func evaluate(_ request: ClaimRequest) -> ClaimResult {
        let tally = request.tally
        let counted = request.context.acceptFlagged ? tally.withFlagged : tally.clean
        var result = ClaimResult(
            voucherID: request.voucherID, program: request.program, days: counted.days, hours: counted.hours, flagged: tally.flagged,
            reviewItems: tally.reviewItems, amount: 0, lines: [], refused: nil, refusalValues: [:])
        func refuse(_ code: RefusalCode, _ values: [String: String] = [:]) -> ClaimResult {
            var r = result
            r.amount = 0
            r.refused = code
            r.refusalValues = values
            return r
        }
        if tally.isTest { return refuse(.testVoucher) }
        let info = request.classInfo
        let year = info.endDate.components.year
        let trade = info.trade.description
        if let prior = request.priorClaims.first(where: { $0.voucherID == request.voucherID }) {
            return refuse(.alreadyClaimed, ["voucher": String(prior.voucherID)])
        }
        if limits.sameTradeLevelYear,
            let prior = request.priorClaims.first(where: { $0.trade == trade && $0.level == Int(info.level) && $0.year == year })
        {
            return refuse(.repeatClaim, ["voucher": String(prior.voucherID), "trade": trade, "level": String(info.level), "year": String(year), "clause": limits.clause])
        }
        if let most = limits.perPersonPerYear, request.priorClaims.filter({ $0.year == year }).count >= most {
            return refuse(.yearlyLimit, ["most": String(most), "year": String(year), "clause": limits.clause])
        }
        guard var program = program(request.program) else {
            return refuse(.unknownProgram, ["program": request.program, "policy": id])
        }
        var lines: [RuleLine] = []
        var total: Money = 0
        // Money arithmetic reports overflow instead of trapping; an amount that does not fit
        // (absurd dates or a hand-made policy) refuses the claim after the rules have run.
        var overflowed = false
        func plus(_ a: Money, _ b: Money) -> Money {
            let (r, o) = a.addingReportingOverflow(b)
            if o { overflowed = true }
            return o ? 0 : r
        }
        func times(_ a: Money, _ b: Money) -> Money {
            let (r, o) = a.multipliedReportingOverflow(by: b)
            if o { overflowed = true }
            return o ? 0 : r
        }
        var rules = program.rules[...]
        while let rule = rules.popFirst() {
            switch rule {
            case .tieredPerDay(let r):
                if let min = r.employmentRateMinPercent {
                    guard let rate = request.context.employmentRate else { return refuse(.employmentRateMissing, ["percent": String(min), "clause": r.clause]) }
                    if !rate.atLeast(percent: min) {
                        guard let other = r.otherwise, let fallback = self.program(other) else {
                            return refuse(.employmentRateLow, ["rate": rate.description, "percent": String(min), "clause": r.clause])
                        }
                        lines.append(RuleLine(
                            key: "fallback", values: ["rate": rate.description, "percent": String(min), "program": fallback.name, "clause": r.clause],
                            amount: 0))
                        program = fallback
                        result.program = fallback.id
                        rules = fallback.rules[...]
                        continue
                    }
                    lines.append(RuleLine(key: "employment_ok", values: ["rate": rate.description, "percent": String(min), "clause": r.clause], amount: 0))
                }
                guard counted.days > 0 else { return refuse(.notEnoughDays, ["days": "0", "min": "1"]) }
                var left = counted.days
                var sum: Money = 0
                for tier in r.tiers where left > 0 {
                    let n = tier.days.map { min($0, left) } ?? left
                    let amount = times(Money(n), fen(yuan: tier.perDay))
                    lines.append(RuleLine(
                        key: "per_day", values: ["days": String(n), "rate": yuanString(fen(yuan: tier.perDay)), "amount": yuanString(amount), "clause": r.clause],
                        amount: amount))
                    sum = plus(sum, amount)
                    left -= n
                }
                total = plus(total, capped(sum, fen(yuan: r.cap), r.clause, &lines))
            case .perDay(let r):
                guard counted.days > 0 else { return refuse(.notEnoughDays, ["days": "0", "min": "1"]) }
                let extra = min(max(0, request.context.extraApprovedDays), r.extraDaysMax ?? 0)
                let amount = times(Money(counted.days), fen(yuan: r.perDay))
                lines.append(RuleLine(
                    key: "per_day", values: ["days": String(counted.days), "rate": yuanString(fen(yuan: r.perDay)), "amount": yuanString(amount), "clause": r.clause],
                    amount: amount))
                var cap = fen(yuan: r.cap)
                if extra > 0 {
                    cap = plus(cap, times(Money(extra), fen(yuan: r.perDay)))
                    lines.append(RuleLine(key: "extra_days", values: ["extra": String(extra), "cap": yuanString(cap), "clause": r.clause], amount: 0))
                }
                total = plus(total, capped(amount, cap, r.clause, &lines))
            case .flat(let r):
                let byDays = r.minDays.map { counted.days >= $0 } ?? false
                let byHours = r.minHours.map { counted.hours >= $0 } ?? false
                if (r.minDays != nil || r.minHours != nil) && !byDays && !byHours {
                    if let d = r.minDays {
                        return refuse(.notEnoughDays, ["days": String(counted.days), "min": String(d), "hours": String(counted.hours), "min_hours": r.minHours.map(String.init) ?? "—"])
                    }
                    return refuse(.notEnoughHours, ["hours": String(counted.hours), "min": String(r.minHours ?? 0)])
                }
                let amount = fen(yuan: r.amount)
                let key = byDays ? "flat_days" : byHours ? "flat_hours" : "flat"
                lines.append(RuleLine(
                    key: key, values: ["amount": yuanString(amount), "days": String(counted.days), "hours": String(counted.hours),
                                       "min_days": r.minDays.map(String.init) ?? "", "min_hours": r.minHours.map(String.init) ?? "", "clause": r.clause],
                    amount: amount))
                total = plus(total, amount)
            case .perHour(let r):
                if r.requiresCertificate == true && !request.context.certificateObtained { return refuse(.notEligible, ["what": "certificate", "clause": r.clause]) }
                guard counted.hours > 0 else { return refuse(.notEnoughHours, ["hours": "0", "min": "1"]) }
                let level = String(info.level)
                guard let rate = r.perHour[level] ?? r.perHour["*"] else { return refuse(.notEligible, ["what": "level \(level)", "clause": r.clause]) }
                let amount = times(Money(counted.hours), fen(yuan: rate))
                lines.append(RuleLine(
                    key: "per_hour", values: ["hours": String(counted.hours), "rate": yuanString(fen(yuan: rate)), "amount": yuanString(amount), "clause": r.clause],
                    amount: amount))
                var sum = amount
                if let cap = r.cap[level] ?? r.cap["*"] { sum = capped(sum, fen(yuan: cap), r.clause, &lines) }
                if let steps = r.offlineShareScale {
                    let share = request.context.offlineShare ?? Ratio(0, 1)!
                    let step = steps.first { s in s.belowPercent.map { !share.atLeast(percent: $0) } ?? true }
                    let percent = step?.percent ?? 100
                    let scaled = times(sum, Money(percent)) / 100
                    lines.append(RuleLine(
                        key: "scaled", values: ["share": share.description, "percent": String(percent), "amount": yuanString(scaled), "clause": r.clause],
                        amount: scaled - sum))
                    sum = scaled
                }
                total = plus(total, sum)
            case .byLevel(let r):
                if r.requiresCertificate == true && !request.context.certificateObtained { return refuse(.notEligible, ["what": "certificate", "clause": r.clause]) }
                guard let base = r.amounts[String(info.level)] ?? r.amounts["*"] else {
                    return refuse(.notEligible, ["what": "level \(info.level)", "clause": r.clause])
                }
                let amount = fen(yuan: base)
                lines.append(RuleLine(key: "by_level", values: ["level": String(info.level), "amount": yuanString(amount), "clause": r.clause], amount: amount))
                total = plus(total, amount)
                let uplift = (r.upliftPercent ?? [:]).filter { request.categories.contains($0.key) }.map(\.value).max() ?? 0
                if uplift > 0 {
                    let more = times(amount, Money(uplift)) / 100
                    lines.append(RuleLine(key: "uplift", values: ["percent": String(uplift), "amount": yuanString(more), "clause": r.clause], amount: more))
                    total = plus(total, more)
                }
            case .livingAllowance(let r):
                guard !request.categories.isDisjoint(with: r.categories), counted.days > 0 else { continue }
                let amount = times(Money(counted.days), fen(yuan: r.perDay))
                lines.append(RuleLine(
                    key: "living", values: ["days": String(counted.days), "rate": yuanString(fen(yuan: r.perDay)), "amount": yuanString(amount), "clause": r.clause],
                    amount: amount))
                total = plus(total, amount)
            case .catalogue(let r):
                if r.requiresCertificate == true && !request.context.certificateObtained { return refuse(.notEligible, ["what": "certificate", "clause": r.clause]) }
                guard let amount = request.context.catalogueAmount else { return refuse(.notEligible, ["what": "catalogue amount", "clause": r.clause]) }
                lines.append(RuleLine(key: "catalogue", values: ["amount": yuanString(amount), "clause": r.clause], amount: amount))
                total = plus(total, amount)
            }
        }
        if overflowed { return refuse(.amountTooLarge) }
        if tally.flagged.days > 0 || !tally.reviewItems.isEmpty {
            lines.append(RuleLine(
                key: request.context.acceptFlagged ? "flagged_accepted" : tally.flagged.days == 0 && tally.flagged.hours == 0 ? "flagged_nothing" : "flagged_held",
                values: ["days": String(tally.flagged.days), "hours": String(tally.flagged.hours), "items": String(tally.reviewItems.count)],
                amount: 0))
        }
        result.lines = lines
        result.amount = total
        return result
    }

    /// Applies a cap, with a line when it bites.
    func capped(_ sum: Money, _ cap: Money, _ clause: String, _ lines: inout [RuleLine]) -> Money {
        guard sum > cap else { return sum }
        lines.append(RuleLine(key: "cap", values: ["cap": yuanString(cap), "cut": yuanString(sum - cap), "clause": clause], amount: cap - sum))
        return cap
    }
}
