import FieldKitCore

/// The day's sign-in sheet (签到表), printable on A4, and as CSV for Excel/WPS.
public enum DaySheetPage {
    /// The HTML page.
    public static func html(_ sheet: DaySheet, localizer t: Localizer) -> String {
        let css = """
            body { font-size: 3.3mm; }
            h1 { font-size: 6mm; text-align: center; margin: 0 0 2mm; }
            .meta { display: flex; flex-wrap: wrap; gap: 2mm 8mm; margin-bottom: 3mm; }
            section { break-inside: avoid; margin-bottom: 5mm; }
            h2 { font-size: 4.2mm; margin: 2mm 0; }
            table { width: 100%; border-collapse: collapse; }
            th, td { border: 0.25mm solid #000; padding: 1mm 1.5mm; text-align: left; }
            th { background: #eee; }
            td.t { font-variant-numeric: tabular-nums; white-space: nowrap; }
            tr.absent td { color: #666; }
            .flags { font-weight: bold; }
            .totals { margin-top: 1.5mm; }
            .sign { display: flex; gap: 30mm; margin-top: 10mm; font-size: 4mm; }
            .sign span { display: inline-block; min-width: 45mm; border-bottom: 0.3mm solid #000; }
            .foot { margin-top: 6mm; font-size: 2.6mm; color: #444; }
            """
        let off = sheet.utcOffset
        var out = pageHead(title: "\(t("sheet.title")) \(sheet.classInfo.name) \(sheet.day)", lang: t.language.rawValue, css: css)
        out += "<h1>\(esc(t("sheet.title")))</h1>\n<div class=\"meta\">"
        out += "<div>\(esc(t("sheet.site"))): \(esc(sheet.siteName))</div>"
        out += "<div>\(esc(t("sheet.class"))): \(esc(sheet.classInfo.name)) (\(sheet.classInfo.id)) · \(sheet.classInfo.trade) · \(esc(t("level.\(sheet.classInfo.level)")))</div>"
        out += "<div>\(esc(t("sheet.date"))): \(sheet.day)</div></div>\n"
        for session in sheet.sessions {
            out += "<section><h2>\(esc(t("sheet.session", ["n": String(session.index + 1), "window": session.window.description])))</h2>\n"
            out += "<table><thead><tr><th>\(esc(t("sheet.no")))</th><th>\(esc(t("sheet.name")))</th><th>\(esc(t("sheet.id")))</th>"
                + "<th>\(esc(t("sheet.voucher")))</th><th>\(esc(t("sheet.in")))</th><th>\(esc(t("sheet.out")))</th>"
                + "<th>\(esc(t("sheet.flags")))</th></tr></thead><tbody>\n"
            for (i, row) in session.rows.enumerated() {
                out += "<tr\(row.signedIn == nil ? " class=\"absent\"" : "")><td>\(i + 1)</td><td>\(esc(row.name))</td>"
                    + "<td>\(esc(row.idMasked))</td><td>\(row.voucherID)</td>"
                    + "<td class=\"t\">\(row.signedIn?.localClock(utcOffset: off) ?? "—")</td>"
                    + "<td class=\"t\">\(row.signedOut?.localClock(utcOffset: off) ?? "—")</td>"
                    + "<td class=\"flags\">\(esc(flags(row, t)))</td></tr>\n"
            }
            out += "</tbody></table>\n<div class=\"totals\">\(esc(totals(session, t)))</div></section>\n"
        }
        out += "<div>\(esc(t("sheet.legend")))</div>\n"
        out += "<div class=\"sign\"><div>\(esc(t("sheet.signature"))) <span></span></div><div>\(esc(t("sheet.signature.date"))) <span></span></div></div>\n"
        out += "<div class=\"foot\">\(esc(t("sheet.generated", ["time": sheet.generatedAt.localDescription(utcOffset: off), "device": sheet.deviceID, "seq": String(sheet.lastSeq)])))</div>\n"
        return out + "</body></html>\n"
    }

    /// The sheet as CSV: UTF-8 with a byte-order mark (Excel and WPS need it), one row per
    /// trainee and session, then a totals row per session. Text cells are neutralised
    /// (``csvField(_:)``); the row number and the voucher number stay numbers.
    public static func csv(_ sheet: DaySheet, localizer t: Localizer) -> [UInt8] {
        var lines = [[
            t("sheet.date"), t("sheet.class"), t("sheet.session", ["n": "", "window": ""]).trimmingWhitespace(), t("sheet.no"),
            t("sheet.name"), t("sheet.id"), t("sheet.voucher"), t("sheet.in"), t("sheet.out"), t("sheet.flags"),
        ].map(csvField)]
        let classCell = csvField("\(sheet.classInfo.id) \(sheet.classInfo.name)")
        for session in sheet.sessions {
            for (i, row) in session.rows.enumerated() {
                lines.append([
                    csvField(sheet.day.description), classCell, csvField(session.window.description),
                    csvNumber(i + 1), csvField(row.name), csvField(row.idMasked), csvNumber(row.voucherID),
                    csvField(row.signedIn?.localClock(utcOffset: sheet.utcOffset) ?? ""),
                    csvField(row.signedOut?.localClock(utcOffset: sheet.utcOffset) ?? ""), csvField(flags(row, t)),
                ])
            }
            lines.append([csvField(sheet.day.description), classCell, csvField(session.window.description),
                          "", csvField(totals(session, t)), "", "", "", "", ""])
        }
        return [0xEF, 0xBB, 0xBF] + Array(lines.map(csvRecord).joined(separator: "\r\n").utf8) + [13, 10]
    }

    static func flags(_ row: DaySheet.Row, _ t: Localizer) -> String {
        row.flags.map { t("flag.\($0.rawValue)") }.joined(separator: " ")
    }

    static func totals(_ s: DaySheet.Session, _ t: Localizer) -> String {
        t("sheet.totals", [
            "expected": String(s.expected), "signedIn": String(s.signedIn), "signedOut": String(s.signedOut),
            "open": String(s.open), "absent": String(s.absent),
        ])
    }
}
