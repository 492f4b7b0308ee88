import FieldKitCore
import FieldKitPolicy

/// One trainee on a class's claim: who, and what the county knows of their earlier claims.
public struct ClaimTrainee: Sendable {
    /// The voucher.
    public var voucherID: UInt64
    /// The name.
    public var name: String
    /// The masked ID number.
    public var idMasked: String
    /// The roster's category words.
    public var category: String?
    /// The county revoked the voucher: nothing is paid.
    public var revoked: Bool
    /// Subsidies already claimed for the same person (the county's view; none at the site).
    public var priorClaims: [PriorClaim]

    /// A trainee.
    public init(voucherID: UInt64, name: String, idMasked: String, category: String?, revoked: Bool = false, priorClaims: [PriorClaim] = []) {
        self.voucherID = voucherID
        self.name = name
        self.idMasked = idMasked
        self.category = category
        self.revoked = revoked
        self.priorClaims = priorClaims
    }
}

/// Everything a class's claim is worked out from, gathered by the caller from its own store (the
/// county's synced events, or the station's log): the rest is the same code for both.
public struct ClaimInputs: Sendable {
    /// The class.
    public var classInfo: ClassInfo
    /// The site's name.
    public var siteName: String
    /// The policy and programme.
    public var policy: Policy
    /// The programme.
    public var program: Policy.Program
    /// The trainees, in roster order.
    public var trainees: [ClaimTrainee]
    /// Attendance by voucher, with the flags its store knows.
    public var attendance: [UInt64: [AttendanceRecord]]
    /// The classroom recordings registered for the class's site.
    public var recordings: [TimeSpan]
    /// Employment, extra days, certificates, …
    public var context: ClaimContext
    /// No employment rate was given and the estimate assumes the condition met (the site only).
    public var employmentAssumed: Bool
    /// Now.
    public var now: Timestamp
    /// The class's UTC offset.
    public var utcOffset: Int
    /// The institution's estimate rather than the county's sheet.
    public var isEstimate: Bool

    /// Inputs.
    public init(
        classInfo: ClassInfo, siteName: String, policy: Policy, program: Policy.Program, trainees: [ClaimTrainee],
        attendance: [UInt64: [AttendanceRecord]], recordings: [TimeSpan], context: ClaimContext, employmentAssumed: Bool = false,
        now: Timestamp, utcOffset: Int = UTCOffset.china, isEstimate: Bool = false
    ) {
        self.classInfo = classInfo
        self.siteName = siteName
        self.policy = policy
        self.program = program
        self.trainees = trainees
        self.attendance = attendance
        self.recordings = recordings
        self.context = context
        self.employmentAssumed = employmentAssumed
        self.now = now
        self.utcOffset = utcOffset
        self.isEstimate = isEstimate
    }
}

/// A class's worked-out claim: a row per trainee and the sheet to print.
public struct ClaimOutcome: Sendable {
    /// One row per trainee, as `--json` prints them.
    public var rows: [ClaimRow]
    /// The sheet.
    public var sheet: ClaimSheet
    /// The class has not ended: the sheet is a preview, and nothing may be submitted or paid.
    public var isPreview: Bool
    /// When the class's last session ends.
    public var classEnds: Timestamp
}

/// The one way a class's attendance becomes money: `fieldkit report class` (the institution's
/// estimate) and `fieldkit-county claims` (the county's sheet) both call it, so for the same
/// events, options and policy they cannot differ.
public enum ClaimPipeline {
    /// Uncovered time a session may have before it is held apart for a video gap: a recorder
    /// starting a new file, or a camera restarted, leaves seconds, not minutes.
    public static let toleratedVideoGapMs: Int64 = 5 * 60_000

    /// Works out every trainee's claim and the sheet.
    public static func work(_ inputs: ClaimInputs, localizer t: Localizer) -> ClaimOutcome {
        let info = inputs.classInfo
        let policy = inputs.policy
        var rows: [ClaimRow] = []
        for trainee in inputs.trainees {
            var records = inputs.attendance[trainee.voucherID] ?? []
            if inputs.program.videoRequired != nil {
                records = markVideoGaps(records, of: info, recordings: inputs.recordings, utcOffset: inputs.utcOffset)
            }
            let tally = AttendanceTally(records: records, of: info, settings: policy.settings, utcOffset: inputs.utcOffset)
            var result = policy.evaluate(ClaimRequest(
                voucherID: trainee.voucherID, classInfo: info, program: inputs.program.id, tally: tally,
                categories: policy.categories(from: trainee.category), priorClaims: trainee.priorClaims, context: inputs.context))
            if inputs.employmentAssumed { result.lines.removeAll { $0.key == "employment_ok" } }
            rows.append(ClaimRow(
                result: result, voucherID: trainee.voucherID, name: trainee.name, idMasked: trainee.idMasked, category: trainee.category,
                localizer: t, refused: trainee.revoked ? (code: "revoked", text: t("claims.refused.revoked")) : nil))
        }
        let ends = info.ends(utcOffset: inputs.utcOffset)
        let preview = inputs.now < ends
        let sheet = ClaimSheet(
            classInfo: info, siteName: inputs.siteName, policyTitle: "\(policy.title)（\(policy.document)）", program: inputs.program.name(t),
            conditions: conditions(inputs, t), rows: rows.map { $0.sheetRow(t) }, generatedAt: inputs.now, isEstimate: inputs.isEstimate,
            isPreview: preview, warnings: warnings(inputs, ends: ends, preview: preview, t))
        return ClaimOutcome(rows: rows, sheet: sheet, isPreview: preview, classEnds: ends)
    }

    /// Marks `video_gap` on each session whose attended time inside its window has more than
    /// ``toleratedVideoGapMs`` that no recording covers. Open sign-ins are left as they are
    /// (already held apart as open).
    public static func markVideoGaps(_ records: [AttendanceRecord], of info: ClassInfo, recordings: [TimeSpan], utcOffset: Int) -> [AttendanceRecord] {
        records.map { r in
            guard let out = r.signedOut, r.sessionIndex >= 0, r.sessionIndex < info.sessions.count else { return r }
            let window = info.sessions[r.sessionIndex]
            let start = r.day.at(window.start, utcOffset: utcOffset).milliseconds
            let end = r.day.at(window.end, utcOffset: utcOffset).milliseconds
            let presence = TimeSpan(max(r.signedIn, start), min(out, end))
            guard presence.length > 0 else { return r }
            let missing = VideoCoverage.gaps(presence: [presence], recordings: recordings).reduce(Int64(0)) { $0.addingClamped($1.length) }
            guard missing > toleratedVideoGapMs else { return r }
            var marked = r
            marked.flags.insert(.videoGap)
            return marked
        }
    }

    static func conditions(_ inputs: ClaimInputs, _ t: Localizer) -> [String] {
        let c = inputs.context
        var out: [String] = []
        if inputs.employmentAssumed {
            out.append(t("claims.condition.assumed_employment"))
        } else if let rate = c.employmentRate {
            out.append(t("claims.condition.employment", ["rate": rate.description]))
        }
        if c.extraApprovedDays > 0 { out.append(t("claims.condition.extra_days", ["days": "\(c.extraApprovedDays)"])) }
        if let share = c.offlineShare { out.append(t("claims.condition.offline_share", ["share": share.description])) }
        if c.certificateObtained { out.append(t("claims.condition.certificate")) }
        if let amount = c.catalogueAmount { out.append(t("claims.condition.catalogue", ["amount": yuanText(amount)])) }
        if let clause = inputs.program.videoRequired {
            out.append(t("claims.condition.video", ["clause": clause, "recordings": "\(inputs.recordings.count)"]))
        }
        if c.acceptFlagged { out.append(t("claims.condition.accept_flagged")) }
        if c.outsideEffectiveDates, let range = inputs.policy.effective(of: inputs.program) {
            out.append(t("claims.condition.outside_dates", ["range": range.description, "clause": range.clause]))
        }
        return out
    }

    static func warnings(_ inputs: ClaimInputs, ends: Timestamp, preview: Bool, _ t: Localizer) -> [String] {
        let info = inputs.classInfo
        var out: [String] = []
        if preview {
            out.append(t("claims.warning.preview", ["end": ends.localDescription(utcOffset: inputs.utcOffset)]))
        }
        if let range = inputs.policy.effective(of: inputs.program), !range.contains(info.startDate, info.endDate), !inputs.context.outsideEffectiveDates {
            out.append(t("claims.warning.not_in_force", [
                "range": range.description, "start": info.startDate.description, "end": info.endDate.description, "clause": range.clause,
            ]))
        }
        if let d = inputs.policy.claimDeadline, let date = d.date(after: info.endDate) {
            let today = inputs.now.classDay(utcOffset: inputs.utcOffset)
            out.append(t(today > date ? "claims.warning.deadline_past" : "claims.warning.deadline", ["date": date.description, "clause": d.clause]))
        }
        return out
    }
}
