import FieldKitCore
import FieldKitPolicy
import FieldKitPrint
import FoundationEssentials
import Testing

@Suite("One claim pipeline: flags from evidence, preview, deadline")
struct ClaimPipelineTests {
    let t = Localizer(.zhHans)

    func inputs(
        _ policyID: String, _ programID: String, info: ClassInfo, attendance: [UInt64: [AttendanceRecord]], recordings: [TimeSpan] = [],
        context: ClaimContext, now: String
    ) -> ClaimInputs {
        let p = policy(policyID)
        return ClaimInputs(
            classInfo: info, siteName: "古县职业培训学校", policy: p, program: p.program(programID)!,
            trainees: [ClaimTrainee(voucherID: 1, name: "学员甲", idMasked: "1410**********0011", category: nil)],
            attendance: attendance, recordings: recordings, context: context, now: Timestamp(milliseconds: at(ClassDay(iso: now)!, "12:00")))
    }

    @Test("古 四(三) 视频监控要全面覆盖: sessions no recording covers are held apart as video_gap; five uncovered minutes are tolerated, six are not")
    func videoGap() {
        let info = classIn("gu-county-2023")
        let records = fullDays(10, of: info)
        // Recordings cover every morning and afternoon, except day 3's afternoon entirely and
        // day 4's afternoon but its last 6 minutes, day 5's but its last 5.
        var recordings: [TimeSpan] = []
        for i in 0..<10 {
            let d = info.startDate.adding(days: i)
            recordings.append(TimeSpan(at(d, "08:25"), at(d, "11:35")))
            switch i {
            case 3: break
            case 4: recordings.append(TimeSpan(at(d, "13:55"), at(d, "16:54")))
            case 5: recordings.append(TimeSpan(at(d, "13:55"), at(d, "16:55")))
            default: recordings.append(TimeSpan(at(d, "13:55"), at(d, "17:05")))
            }
        }
        let out = ClaimPipeline.work(
            inputs("gu-county-2023", "order_project", info: info, attendance: [1: records], recordings: recordings,
                   context: ClaimContext(employmentRate: Ratio(4, 5)), now: "2023-12-01"),
            localizer: t)
        let row = out.rows[0]
        #expect(row.days == 8 && row.flagged_days == 2, "\(row.review)")
        #expect(row.amountFen == 120_000)
        #expect(row.review.allSatisfy { $0.flags == ["video_gap"] } && row.review.count == 2)
        #expect(out.sheet.conditions.contains { $0.contains("四(三)") })
        // Enterprise staff training asks for no video (晋 四(一)3): the same records, no recordings, all paid
        let staff = ClaimPipeline.work(
            inputs("gu-county-2023", "enterprise_staff", info: info, attendance: [1: records], context: ClaimContext(), now: "2023-12-01"),
            localizer: t)
        #expect(staff.rows[0].amountFen == 30_000 && staff.rows[0].flagged_days == 0)
    }

    @Test("a session the county flags overlap or location is held apart like the site's flags, and counted once accepted")
    func countyFlags() {
        let info = classIn("shanxi-2023")
        let records = fullDays(10, of: info, flagged: [0: .overlap, 1: .location])
        let p = policy("shanxi-2023")
        let held = p.evaluate(ClaimRequest(
            voucherID: 1, classInfo: info, program: "order_project", tally: tally(records, info), context: ClaimContext(employmentRate: Ratio(1, 1))))
        #expect(held.days == 8 && held.amount == 120_000)
        let accepted = p.evaluate(ClaimRequest(
            voucherID: 1, classInfo: info, program: "order_project", tally: tally(records, info),
            context: ClaimContext(employmentRate: Ratio(1, 1), acceptFlagged: true)))
        #expect(accepted.amount == 150_000)
        #expect(AttendanceFlag.parse(list: "overlap,location,video_gap") == [.overlap, .location, .videoGap])
    }

    @Test("before the last session of the last day ends the sheet is a preview (预览); after it, not; the deadline shows, and past it a warning")
    func previewAndDeadline() {
        let info = classIn("shanxi-2023")
        let running = ClaimPipeline.work(
            inputs("shanxi-2023", "order_project", info: info, attendance: [1: fullDays(3, of: info)], recordings: [TimeSpan(0, .max)],
                   context: ClaimContext(employmentRate: Ratio(1, 1)), now: info.endDate.description),
            localizer: t)
        #expect(running.isPreview && running.classEnds == info.endDate.at(LocalTime("17:00")!))
        #expect(running.sheet.warnings.first?.contains("预览") == true)
        let html = ClaimSheetPage.html(running.sheet, localizer: t)
        #expect(html.contains("【预览】") && html.contains("class=\"watermark\""))
        #expect(html.contains("人民币肆佰伍拾元整"))
        let ended = ClaimPipeline.work(
            inputs("shanxi-2023", "order_project", info: info, attendance: [1: fullDays(3, of: info)],
                   context: ClaimContext(employmentRate: Ratio(1, 1)), now: info.endDate.adding(days: 1).description),
            localizer: t)
        #expect(!ended.isPreview && !ClaimSheetPage.html(ended.sheet, localizer: t).contains("预览"))
        #expect(ended.sheet.warnings == ["补贴申领发放最晚于 2027-03-31 完成（六：补贴申领发放最晚于次年3月底完成）"])
        let late = ClaimPipeline.work(
            inputs("shanxi-2023", "order_project", info: info, attendance: [1: fullDays(3, of: info)],
                   context: ClaimContext(employmentRate: Ratio(1, 1)), now: "2027-04-01"),
            localizer: t)
        #expect(late.sheet.warnings.first?.contains("已超过") == true)
    }

    @Test("a class outside the policy's dates: every row refused and the sheet says why; the override is a condition on the sheet")
    func notInForceSheet() {
        let info = makeClass(start: "2026-03-02")
        let refused = ClaimPipeline.work(
            inputs("hengyang-2019", "safety", info: info, attendance: [1: fullDays(5, of: info)],
                   context: ClaimContext(certificateObtained: true), now: "2026-12-01"),
            localizer: t)
        #expect(refused.rows[0].refused == "policy_not_in_force" && refused.sheet.totalFen == 0)
        #expect(refused.sheet.warnings.contains { $0.contains("2019-08-30 – 2021-12-31") })
        let overridden = ClaimPipeline.work(
            inputs("hengyang-2019", "safety", info: info, attendance: [1: fullDays(5, of: info)],
                   context: ClaimContext(certificateObtained: true, outsideEffectiveDates: true), now: "2026-12-01"),
            localizer: t)
        #expect(overridden.sheet.totalFen == 20_000 && overridden.sheet.conditions.contains { $0.contains("经确认") })
    }
}
