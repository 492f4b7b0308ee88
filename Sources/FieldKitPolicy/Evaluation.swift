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
    /// What it paid for: training or a certificate.
    public var paysFor: Policy.Program.PaysFor

    /// A prior claim.
    public init(voucherID: UInt64, program: String, trade: String, level: Int, year: Int, paysFor: Policy.Program.PaysFor = .training) {
        self.voucherID = voucherID
        self.program = program
        self.trade = trade
        self.level = level
        self.year = year
        self.paysFor = paysFor
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
    /// Work the claim out under the policy although the class lies outside its effective dates
    /// (an officer's explicit decision; the sheet says so).
    public var outsideEffectiveDates: Bool

    /// A context.
    public init(
        employmentRate: Ratio? = nil, extraApprovedDays: Int = 0, offlineShare: Ratio? = nil, certificateObtained: Bool = false,
        catalogueAmount: Money? = nil, acceptFlagged: Bool = false, outsideEffectiveDates: Bool = false
    ) {
        self.outsideEffectiveDates = outsideEffectiveDates
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
    /// No attendance counts: not recorded, not paid (不录不补).
    case noAttendance = "no_attendance"
    /// The same person, trade and level was paid before, in any year.
    case repeatClaimEver = "repeat_claim_ever"
    /// A certificate subsidy of this level was paid before (once in a lifetime).
    case certificateLevelClaimed = "certificate_level_claimed"
    /// The level is paid only for a first certificate, and one was paid before.
    case notFirstCertificate = "not_first_certificate"
    /// The programme scales by the share of online learners who went on offline; none was given.
    case offlineShareMissing = "offline_share_missing"
    /// The class lies outside the dates the policy (or programme) applies.
    case notInForce = "policy_not_in_force"
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
    public func refusalText(_ t: Localizer) -> String? {
        guard let refused else { return nil }
        // No attendance that counts, but some held for review: say how much.
        let held = refused == .noAttendance && (refusalValues["flagged"] ?? "0") != "0" ? "_held" : ""
        return t("policy.refused.\(refused.rawValue)\(held)", refusalValues)
    }
}

extension Policy {
    /// The dates a programme applies: its own, else the document's.
    public func effective(of program: Program) -> Effective? { program.effective ?? effective }

    /// Works out one trainee's claim under this policy.
    ///
    /// In order: a test voucher; a programme the policy lacks; a class outside the policy's
    /// dates; the limits across claims (this voucher, the same trade and level, the yearly
    /// count); recorded attendance for a programme that pays for training (不录不补); then the
    /// programme's rules, whose amounts add up.
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
        guard var program = program(request.program) else {
            return refuse(.unknownProgram, ["program": request.program, "policy": id])
        }
        let info = request.classInfo
        let year = info.endDate.components.year
        let trade = info.trade.description
        var lines: [RuleLine] = []
        if let range = effective(of: program), !range.contains(info.startDate, info.endDate) {
            let values = ["range": range.description, "start": info.startDate.description, "end": info.endDate.description, "clause": range.clause]
            guard request.context.outsideEffectiveDates else { return refuse(.notInForce, values) }
            lines.append(RuleLine(key: "outside_dates", values: values, amount: 0))
        }
        if let prior = request.priorClaims.first(where: { $0.voucherID == request.voucherID }) {
            return refuse(.alreadyClaimed, ["voucher": String(prior.voucherID)])
        }
        if program.paysFor == .training, let scope = limits.sameTradeLevel,
            let prior = request.priorClaims.first(where: {
                $0.paysFor == .training && $0.trade == trade && $0.level == Int(info.level) && (scope == .ever || $0.year == year)
            })
        {
            return refuse(scope == .ever ? .repeatClaimEver : .repeatClaim, [
                "voucher": String(prior.voucherID), "trade": trade, "level": String(info.level), "year": String(prior.year), "clause": limits.clause,
            ])
        }
        if let most = limits.perPersonPerYear, request.priorClaims.filter({ $0.year == year }).count >= most {
            return refuse(.yearlyLimit, ["most": String(most), "year": String(year), "clause": limits.clause])
        }
        // 不录不补: a programme that pays for training pays nothing without attendance that counts.
        if program.paysFor == .training && counted.minutes == 0 {
            return refuse(.noAttendance, ["flagged": String(tally.flagged.days)])
        }
        if program.paysFor != .training {
            lines.append(RuleLine(key: "certificate_only", values: ["clause": program.rules.first?.clause ?? ""], amount: 0))
        }
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
        /// A rule that pays for training as a whole (no per-day or per-hour measure) still needs a day.
        func needsADay(_ clause: String) -> ClaimResult? {
            guard program.paysFor == .training, counted.days < 1 else { return nil }
            return refuse(.notEnoughDays, ["days": String(counted.days), "min": "1", "hours": String(counted.hours), "min_hours": "—"])
        }
        /// The uplift for the trainee's categories (the largest, when several apply).
        func uplift(_ percents: [String: Int]?, of amount: Money, _ clause: String) {
            let uplift = (percents ?? [:]).filter { request.categories.contains($0.key) }.map(\.value).max() ?? 0
            guard uplift > 0 else { return }
            let more = times(amount, Money(uplift)) / 100
            lines.append(RuleLine(key: "uplift", values: ["percent": String(uplift), "amount": yuanString(more), "clause": clause], amount: more))
            total = plus(total, more)
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
                // "累计不少于3天（或24学时）": the clause makes a day worth min_hours / min_days class
                // hours (8); a day counts toward min_days only when it holds the day share of that
                // too, so short days count toward the hours, never as whole days.
                var days = counted.days
                if let d = r.minDays, let h = r.minHours, d > 0 {
                    let needed = tally.fullDayMinutes(classHours: h, perDays: d, settings: settings)
                    days = tally.days(reaching: needed, withFlagged: request.context.acceptFlagged)
                    if days < counted.days {
                        lines.append(RuleLine(
                            key: "short_days", values: ["short": String(counted.days - days), "minutes": String(needed),
                                                        "hours": String(h / d), "clause": r.clause],
                            amount: 0))
                    }
                }
                let byDays = r.minDays.map { days >= $0 } ?? false
                let byHours = r.minHours.map { counted.hours >= $0 } ?? false
                if (r.minDays != nil || r.minHours != nil) && !byDays && !byHours {
                    if let d = r.minDays {
                        return refuse(.notEnoughDays, ["days": String(days), "min": String(d), "hours": String(counted.hours), "min_hours": r.minHours.map(String.init) ?? "—"])
                    }
                    return refuse(.notEnoughHours, ["hours": String(counted.hours), "min": String(r.minHours ?? 0)])
                }
                if r.minDays == nil && r.minHours == nil, let refused = needsADay(r.clause) { return refused }
                let amount = fen(yuan: r.amount)
                let key = byDays ? "flat_days" : byHours ? "flat_hours" : "flat"
                lines.append(RuleLine(
                    key: key, values: ["amount": yuanString(amount), "days": String(days), "hours": String(counted.hours),
                                       "min_days": r.minDays.map(String.init) ?? "", "min_hours": r.minHours.map(String.init) ?? "", "clause": r.clause],
                    amount: amount))
                total = plus(total, amount)
            case .perHour(let r):
                if r.requiresCertificate == true && !request.context.certificateObtained { return refuse(.notEligible, ["what": "certificate", "clause": r.clause]) }
                guard counted.hours > 0 else { return refuse(.notEnoughHours, ["hours": "0", "min": "1"]) }
                let level = String(info.level)
                guard let rate = r.perHour[level] ?? r.perHour["*"] else { return refuse(.notEligible, ["what": "level \(level)", "clause": r.clause]) }
                if r.offlineShareScale != nil && request.context.offlineShare == nil { return refuse(.offlineShareMissing, ["clause": r.clause]) }
                let amount = times(Money(counted.hours), fen(yuan: rate))
                lines.append(RuleLine(
                    key: "per_hour", values: ["hours": String(counted.hours), "rate": yuanString(fen(yuan: rate)), "amount": yuanString(amount), "clause": r.clause],
                    amount: amount))
                var sum = amount
                if let cap = r.cap[level] ?? r.cap["*"] { sum = capped(sum, fen(yuan: cap), r.clause, &lines) }
                if let steps = r.offlineShareScale, let share = request.context.offlineShare {
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
                let level = String(info.level)
                guard let base = r.amounts[level] ?? r.amounts["*"] else {
                    return refuse(.notEligible, ["what": "level \(info.level)", "clause": r.clause])
                }
                if let refused = needsADay(r.clause) { return refused }
                let certificates = request.priorClaims.filter { $0.paysFor == program.paysFor && program.paysFor != .training }
                if r.oncePerLevel == true, let prior = certificates.first(where: { $0.level == Int(info.level) }) {
                    return refuse(.certificateLevelClaimed, ["voucher": String(prior.voucherID), "level": level, "year": String(prior.year), "clause": r.clause])
                }
                if let firsts = r.firstCertificateLevels, firsts.contains(level) || firsts.contains("*"), let prior = certificates.first {
                    return refuse(.notFirstCertificate, ["voucher": String(prior.voucherID), "level": String(prior.level), "year": String(prior.year), "clause": r.clause])
                }
                let amount = fen(yuan: base)
                lines.append(RuleLine(key: "by_level", values: ["level": level, "amount": yuanString(amount), "clause": r.clause], amount: amount))
                total = plus(total, amount)
                uplift(r.upliftPercent, of: amount, r.clause)
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
                if let refused = needsADay(r.clause) { return refused }
                lines.append(RuleLine(key: "catalogue", values: ["amount": yuanString(amount), "clause": r.clause], amount: amount))
                total = plus(total, amount)
                uplift(r.upliftPercent, of: amount, r.clause)
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

extension Policy {
    /// Whether a programme pays only when enough trainees found work (so a rate must be given).
    public func asksForEmployment(_ program: Program) -> Bool {
        program.rules.contains { if case .tieredPerDay(let r) = $0 { r.employmentRateMinPercent != nil } else { false } }
    }
}
