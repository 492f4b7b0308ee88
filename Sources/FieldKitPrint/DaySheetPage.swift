import FieldKitCore

/// The day's sign-in sheet (签到表), printable on A4 landscape, and as CSV for Excel/WPS.
///
/// The page is what an auditor files: the institution, the training location, the class, the
/// instructor's printed name, one table per session with the trainees' signature boxes, the
/// marks (late, early leave, manual entries with their reasons, no sign-out, absent, revoked),
/// the day's refused scans, the readings of the marks, the instructor's and the person in
/// charge's signatures, the stamp box, and "第 i 页 共 N 页" on every page.
public enum DaySheetPage {
    /// The HTML page. Chromium repeats each table's header on every page (`thead`), never
    /// splits a row, and numbers the pages in the `@page` margin box (`counter(pages)`).
    public static func html(_ sheet: DaySheet, localizer t: Localizer) -> String {
        let css = """
            @page { size: A4 landscape; margin: 10mm 10mm 14mm;
                    @bottom-center { content: \(cssPageCounter(t("sheet.page"))); font-size: 3mm; } }
            body { font-size: 3.3mm; }
            h1 { font-size: 6mm; text-align: center; margin: 0 0 3mm; letter-spacing: 1mm; }
            .meta { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5mm 10mm; margin-bottom: 3mm; }
            .fill { display: inline-block; min-width: 50mm; border-bottom: 0.3mm solid #000; }
            section { margin-bottom: 5mm; }
            h2 { font-size: 4.2mm; margin: 2mm 0; break-after: avoid; }
            table { width: 100%; border-collapse: collapse; }
            thead { display: table-header-group; }
            tr { break-inside: avoid; page-break-inside: avoid; }
            th, td { border: 0.25mm solid #000; padding: 1mm 1.5mm; text-align: left; vertical-align: middle; }
            th { background: #eee; font-weight: bold; white-space: nowrap; }
            table.att td { height: 9mm; }
            td.t, td.n { font-variant-numeric: tabular-nums; white-space: nowrap; }
            td.n { text-align: right; }
            td.sign { width: 30mm; }
            tr.absent td { color: #555; }
            .marks { font-weight: bold; }
            .totals { margin-top: 1.5mm; break-before: avoid; }
            .notes { margin: 3mm 0; font-size: 2.8mm; line-height: 1.5; }
            .end { display: flex; justify-content: space-between; align-items: flex-end; margin-top: 8mm; break-inside: avoid; }
            .signs div { margin: 0 0 7mm; font-size: 4mm; }
            .signs span { display: inline-block; min-width: 55mm; border-bottom: 0.3mm solid #000; }
            .stamp { width: 42mm; height: 42mm; border: 0.4mm solid #000; display: flex; flex-direction: column;
                     align-items: center; justify-content: center; font-size: 4mm; }
            .stamp small { font-size: 2.6mm; color: #666; margin-top: 2mm; }
            .foot { margin-top: 4mm; font-size: 2.6mm; color: #444; }
            """
        let off = sheet.utcOffset
        let info = sheet.classInfo
        var out = pageHead(title: "\(t("sheet.title")) \(info.name) \(sheet.day)", lang: t.language.rawValue, css: css)
        out += "<h1>\(esc(t("sheet.title")))</h1>\n<div class=\"meta\">"
        out += "<div>\(esc(t("sheet.site"))): \(esc(sheet.siteName))</div>"
        out += "<div>\(esc(t("sheet.location"))): \(fillable(sheet.location))</div>"
        out += "<div>\(esc(t("sheet.class"))): \(esc(t("sheet.class.line", ["name": info.name, "id": String(info.id)])))"
            + " · \(info.trade) · \(esc(t("level.\(info.level)")))</div>"
        out += "<div>\(esc(t("sheet.date"))): \(sheet.day)</div>"
        let windows = sheet.sessions.map { t("sheet.session", ["n": String($0.index + 1), "window": $0.window.description]) }
        out += "<div>\(esc(t("sheet.sessions"))): \(esc(windows.joined(separator: "；")))</div>"
        out += "<div>\(esc(t("sheet.instructor"))): \(fillable(sheet.instructor ?? ""))</div></div>\n"
        for session in sheet.sessions {
            out += "<section><h2>\(esc(t("sheet.session", ["n": String(session.index + 1), "window": session.window.description])))</h2>\n"
            let heads = ["sheet.no", "sheet.name", "sheet.id", "sheet.voucher", "sheet.col.in_time", "sheet.col.in_sign",
                         "sheet.col.out_time", "sheet.col.out_sign", "sheet.col.minutes", "sheet.flags"]
            out += "<table class=\"att\"><thead><tr>" + heads.map { "<th>\(esc(t($0)))</th>" }.joined() + "</tr></thead><tbody>\n"
            for (i, row) in session.rows.enumerated() {
                let minutes = sheet.minutesAttended(row, in: session).map(String.init) ?? ""
                out += "<tr\(row.signedIn == nil ? " class=\"absent\"" : "")><td class=\"n\">\(i + 1)</td><td>\(esc(row.name))</td>"
                    + "<td class=\"t\">\(esc(row.idMasked))</td><td class=\"t\">\(row.voucherID)</td>"
                    + "<td class=\"t\">\(row.signedIn?.localClock(utcOffset: off) ?? "")</td><td class=\"sign\"></td>"
                    + "<td class=\"t\">\(row.signedOut?.localClock(utcOffset: off) ?? "")</td><td class=\"sign\"></td>"
                    + "<td class=\"n\">\(minutes)</td>"
                    + "<td class=\"marks\">\(esc(marks(sheet.marks(row, in: session), t)))</td></tr>\n"
            }
            out += "</tbody></table>\n<div class=\"totals\">\(esc(totals(session, t)))</div></section>\n"
        }
        out += refusalsHTML(sheet, t)
        out += "<div class=\"notes\">\(esc(t("sheet.notes", ["late": String(info.rules.lateAfter)])))</div>\n"
        out += "<div class=\"end\"><div class=\"signs\">"
        out += "<div>\(esc(t("sheet.instructor.sign"))) <span></span></div>"
        out += "<div>\(esc(t("sheet.responsible.sign"))) <span></span></div>"
        out += "<div>\(esc(t("sheet.signature.date"))) <span></span></div></div>"
        out += "<div class=\"stamp\">\(esc(t("sheet.stamp")))<small>\(esc(t("sheet.stamp.hint")))</small></div></div>\n"
        out += "<div class=\"foot\">\(esc(t("sheet.generated", ["time": sheet.generatedAt.localDescription(utcOffset: off), "device": sheet.deviceID, "seq": String(sheet.lastSeq)])))</div>\n"
        return out + "</body></html>\n"
    }

    /// The day's refused scans as a table, or one line saying there were none.
    static func refusalsHTML(_ sheet: DaySheet, _ t: Localizer) -> String {
        var out = "<section><h2>\(esc(t("sheet.refused.title")))</h2>\n"
        guard !sheet.refusals.isEmpty else { return out + "<div>\(esc(t("sheet.refused.none")))</div></section>\n" }
        let heads = ["sheet.col.scan_time", "sheet.col.session", "sheet.col.code", "sheet.name", "sheet.col.refusal"]
        out += "<table><thead><tr>" + heads.map { "<th>\(esc(t($0)))</th>" }.joined() + "</tr></thead><tbody>\n"
        for r in sheet.refusals {
            out += "<tr><td class=\"t\">\(r.time.localClock(utcOffset: sheet.utcOffset))</td>"
                + "<td>\(esc(sessionName(sheet, r, t)))</td><td class=\"t\">\(esc(codeText(r, t)))</td>"
                + "<td>\(esc(r.name))</td><td>\(esc(reasonText(r, t)))</td></tr>\n"
        }
        return out + "</tbody></table></section>\n"
    }

    /// The sheet as CSV: UTF-8 with a byte-order mark (Excel and WPS need it), one row per
    /// trainee and session, a totals row per session, then one row per refused scan. Text cells
    /// are neutralised (``csvField(_:)``); the row number, voucher and minutes stay numbers.
    public static func csv(_ sheet: DaySheet, localizer t: Localizer) -> [UInt8] {
        let heads = [
            "sheet.date", "sheet.class", "sheet.col.session", "sheet.col.record", "sheet.no", "sheet.name", "sheet.id",
            "sheet.voucher", "sheet.col.in_time", "sheet.col.out_time", "sheet.col.minutes", "sheet.col.late",
            "sheet.col.early", "sheet.col.manual_reason", "sheet.col.state", "sheet.flags", "sheet.col.scan_time",
            "sheet.col.refusal",
        ]
        var lines = [heads.map { csvField(t($0)) }]
        let off = sheet.utcOffset
        let dayCell = csvField(sheet.day.description)
        let classCell = csvField("\(sheet.classInfo.id) \(sheet.classInfo.name)")
        let yes = t("sheet.yes")
        for session in sheet.sessions {
            let sessionCell = csvField(t("sheet.session", ["n": String(session.index + 1), "window": session.window.description]))
            for (i, row) in session.rows.enumerated() {
                let m = sheet.marks(row, in: session)
                let reasons = m.compactMap { mark -> String? in
                    guard case .manual(let why) = mark else { return nil }
                    return why
                }
                lines.append([
                    dayCell, classCell, sessionCell, csvField(t("sheet.record.attendance")), csvNumber(i + 1),
                    csvField(row.name), csvField(row.idMasked), csvNumber(row.voucherID),
                    csvField(row.signedIn?.localClock(utcOffset: off) ?? ""),
                    csvField(row.signedOut?.localClock(utcOffset: off) ?? ""),
                    sheet.minutesAttended(row, in: session).map(csvNumber) ?? "",
                    csvField(m.contains(.late) ? yes : ""), csvField(m.contains(.earlyLeave) ? yes : ""),
                    csvField(reasons.joined(separator: "; ")), csvField(t("sheet.state.\(sheet.state(row, in: session).rawValue)")),
                    csvField(marks(m, t)), "", "",
                ])
            }
            lines.append([dayCell, classCell, sessionCell, csvField(t("sheet.record.totals")), "", csvField(totals(session, t))]
                         + Array(repeating: "", count: heads.count - 6))
        }
        for r in sheet.refusals {
            lines.append([
                dayCell, classCell, csvField(sessionName(sheet, r, t)), csvField(t("sheet.record.refused")), "",
                csvField(r.name), "", r.voucherID.map(csvNumber) ?? csvField(t("sheet.refused.unreadable")), "", "", "", "", "",
                "", "", "", csvField(r.time.localClock(utcOffset: off)), csvField(reasonText(r, t)),
            ])
        }
        return [0xEF, 0xBB, 0xBF] + Array(lines.map(csvRecord).joined(separator: "\r\n").utf8) + [13, 10]
    }

    // MARK: - Words

    /// The marks of a row in words, in the sheet's order.
    static func marks(_ marks: [DaySheet.Mark], _ t: Localizer) -> String {
        marks.map { mark -> String in
            switch mark {
            case .late: t("sheet.mark.late")
            case .earlyLeave: t("sheet.mark.early")
            case .manual(let why): why.isEmpty ? t("sheet.mark.manual.bare") : t("sheet.mark.manual", ["reason": why])
            case .open: t("sheet.mark.open")
            case .absent: t("sheet.mark.absent")
            case .revoked(let day): t("sheet.mark.revoked", ["date": day.description])
            case .unlisted: t("sheet.mark.unlisted")
            case .test: t("sheet.mark.test")
            case .clock: t("sheet.mark.clock")
            }
        }.joined(separator: "；")
    }

    /// A refusal's reason in words: the code's short text; a refused manual entry says so.
    static func reasonText(_ r: DaySheet.Refusal, _ t: Localizer) -> String {
        let words = DaySheet.Refusal.words(forReason: r.reason, t)
        return r.manual ? t("sheet.refused.manual", ["reason": words]) : words
    }

    /// The voucher number of a refusal, or "unreadable code".
    static func codeText(_ r: DaySheet.Refusal, _ t: Localizer) -> String {
        r.voucherID.map(String.init) ?? t("sheet.refused.unreadable")
    }

    /// The session a refusal fell in, or "outside the sessions".
    static func sessionName(_ sheet: DaySheet, _ r: DaySheet.Refusal, _ t: Localizer) -> String {
        guard let s = sheet.session(of: r) else { return t("sheet.refused.outside") }
        return t("sheet.session", ["n": String(s.index + 1), "window": s.window.description])
    }

    /// A session's counts in one line: expected, signed in, signed out, no sign-out, absent.
    static func totals(_ s: DaySheet.Session, _ t: Localizer) -> String {
        t("sheet.totals", [
            "expected": String(s.expected), "signedIn": String(s.signedIn), "signedOut": String(s.signedOut),
            "open": String(s.open), "absent": String(s.absent),
        ])
    }

    /// A value, or a blank line to write it on by hand.
    static func fillable(_ value: String) -> String {
        value.isEmpty ? "<span class=\"fill\"></span>" : esc(value)
    }

    /// `第 {page} 页 共 {pages} 页` as a CSS `content` value: the words quoted, the numbers
    /// Chromium's page counters.
    static func cssPageCounter(_ template: String) -> String {
        var parts: [String] = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            parts.append(cssString(String(rest[..<open])))
            switch rest[rest.index(after: open)..<close] {
            case "page": parts.append("counter(page)")
            case "pages": parts.append("counter(pages)")
            default: parts.append(cssString(String(rest[open...close])))
            }
            rest = rest[rest.index(after: close)...]
        }
        parts.append(cssString(String(rest)))
        return parts.joined(separator: " ")
    }

    /// A CSS string literal: quotes, backslashes and angle brackets escaped (it sits in a `<style>`).
    static func cssString(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"", "\\", "<", ">", "\n": out += "\\" + String(c.value, radix: 16) + " "
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
