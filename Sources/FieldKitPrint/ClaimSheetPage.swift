import FieldKitCore
import FieldKitPolicy

/// A class's subsidy claim sheet (补贴申领表), as the county prints it and the institution checks
/// it: one row per trainee with days, hours, flags, the amount and the rule lines that made it.
public struct ClaimSheet: Sendable {
    /// One trainee.
    public struct Row: Sendable {
        /// The voucher.
        public var voucherID: UInt64
        /// The trainee's name.
        public var name: String
        /// The masked ID number (never the full one).
        public var idMasked: String
        /// The trainee's category, when the roster named one.
        public var category: String?
        /// Training days that count, and class hours.
        public var days: Int
        /// Class hours.
        public var hours: Int
        /// Days and hours held back for review (flagged attendance), and why.
        public var flaggedDays: Int
        /// Flagged items in words.
        public var review: [String]
        /// The amount, fen.
        public var amountFen: Int64
        /// How the amount was reached, one rule per line.
        public var lines: [String]
        /// Why nothing is paid, when so.
        public var refusal: String?

        /// A row.
        public init(
            voucherID: UInt64, name: String, idMasked: String, category: String?, days: Int, hours: Int, flaggedDays: Int,
            review: [String], amountFen: Int64, lines: [String], refusal: String?
        ) {
            self.voucherID = voucherID
            self.name = name
            self.idMasked = idMasked
            self.category = category
            self.days = days
            self.hours = hours
            self.flaggedDays = flaggedDays
            self.review = review
            self.amountFen = amountFen
            self.lines = lines
            self.refusal = refusal
        }
    }

    /// The class.
    public var classInfo: ClassInfo
    /// The site's name.
    public var siteName: String
    /// The policy, by its title and document number.
    public var policyTitle: String
    /// The programme, in words.
    public var program: String
    /// Conditions the sheet was made under (employment rate, …), in words.
    public var conditions: [String]
    /// The trainees.
    public var rows: [Row]
    /// When it was made.
    public var generatedAt: Timestamp
    /// An estimate (the institution's view) rather than the county's sheet.
    public var isEstimate: Bool
    /// The class has not ended: a preview (预览), never submitted or paid.
    public var isPreview: Bool
    /// What the reader must know before relying on it (preview, dates, deadline), in words.
    public var warnings: [String]

    /// A sheet.
    public init(
        classInfo: ClassInfo, siteName: String, policyTitle: String, program: String, conditions: [String], rows: [Row],
        generatedAt: Timestamp, isEstimate: Bool = false, isPreview: Bool = false, warnings: [String] = []
    ) {
        self.isPreview = isPreview
        self.warnings = warnings
        self.classInfo = classInfo
        self.siteName = siteName
        self.policyTitle = policyTitle
        self.program = program
        self.conditions = conditions
        self.rows = rows
        self.generatedAt = generatedAt
        self.isEstimate = isEstimate
    }

    /// The total, fen.
    public var totalFen: Int64 { rows.reduce(0) { $0 + $1.amountFen } }
}

/// Yuan with two decimals and thousands separators: `3,300.00`.
public func yuanText(_ fen: Int64) -> String {
    let sign = fen < 0 ? "-" : ""
    let v = fen.magnitude
    var whole = String(v / 100)
    var grouped = ""
    while whole.count > 3 {
        grouped = "," + whole.suffix(3) + grouped
        whole = String(whole.dropLast(3))
    }
    let cents = v % 100
    return sign + whole + grouped + "." + (cents < 10 ? "0" : "") + String(cents)
}

/// The claim sheet as an A4 page and as CSV.
public enum ClaimSheetPage {
    /// The HTML page (landscape A4: the rule lines need the width).
    public static func html(_ sheet: ClaimSheet, localizer t: Localizer) -> String {
        let css = """
            @page { size: A4 landscape; margin: 10mm; }
            body { font-size: 3.1mm; }
            h1 { font-size: 6mm; text-align: center; margin: 0 0 2mm; }
            .meta { display: flex; flex-wrap: wrap; gap: 1.5mm 8mm; margin-bottom: 3mm; }
            table { width: 100%; border-collapse: collapse; }
            th, td { border: 0.25mm solid #000; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
            th { background: #eee; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            td.lines div { margin: 0.3mm 0; }
            tr.refused td { color: #555; }
            .refusal { font-weight: bold; }
            tfoot td { font-weight: bold; }
            .estimate { border: 0.4mm solid #000; padding: 1.5mm; margin-bottom: 3mm; font-weight: bold; }
            .warnings { border: 0.4mm solid #000; padding: 1mm 1.5mm; margin-bottom: 3mm; }
            .warnings div { margin: 0.5mm 0; }
            .watermark { position: fixed; top: 35%; left: 0; right: 0; text-align: center; font-size: 48mm; color: rgba(0,0,0,0.10);
                         transform: rotate(-20deg); pointer-events: none; z-index: -1; }
            .capitals { margin-top: 2mm; font-size: 3.6mm; font-weight: bold; }
            .sign { display: flex; gap: 30mm; margin-top: 10mm; font-size: 4mm; }
            .sign span { display: inline-block; min-width: 45mm; border-bottom: 0.3mm solid #000; }
            .foot { margin-top: 6mm; font-size: 2.6mm; color: #444; }
            """
        let c = sheet.classInfo
        var out = pageHead(title: "\(t("claims.title")) \(c.name)", lang: t.language.rawValue, css: css)
        if sheet.isPreview { out += "<div class=\"watermark\" aria-hidden=\"true\">\(esc(t("claims.preview.mark")))</div>\n" }
        out += "<h1>\(sheet.isPreview ? esc(t("claims.preview.title_prefix")) : "")\(esc(t(sheet.isEstimate ? "claims.title.estimate" : "claims.title")))</h1>\n"
        if sheet.isEstimate { out += "<div class=\"estimate\">\(esc(t("claims.estimate.note")))</div>\n" }
        if !sheet.warnings.isEmpty {
            out += "<div class=\"warnings\">" + sheet.warnings.map { "<div>⚠ \(esc($0))</div>" }.joined() + "</div>\n"
        }
        out += "<div class=\"meta\">"
        out += "<div>\(esc(t("sheet.site"))): \(esc(sheet.siteName))</div>"
        out += "<div>\(esc(t("sheet.class"))): \(esc(c.name)) (\(c.id)) · \(c.trade) · \(esc(t("level.\(c.level)")))</div>"
        out += "<div>\(esc(t("claims.dates"))): \(c.startDate) – \(c.endDate)</div>"
        out += "<div>\(esc(t("claims.policy"))): \(esc(sheet.policyTitle))</div>"
        out += "<div>\(esc(t("claims.program"))): \(esc(sheet.program))</div>"
        for condition in sheet.conditions { out += "<div>\(esc(condition))</div>" }
        out += "</div>\n<table><thead><tr><th>\(esc(t("sheet.no")))</th><th>\(esc(t("sheet.name")))</th>"
            + "<th>\(esc(t("sheet.id")))</th><th>\(esc(t("sheet.voucher")))</th><th>\(esc(t("claims.days")))</th>"
            + "<th>\(esc(t("claims.hours")))</th><th>\(esc(t("claims.review")))</th><th>\(esc(t("claims.lines")))</th>"
            + "<th>\(esc(t("claims.amount")))</th></tr></thead><tbody>\n"
        for (i, row) in sheet.rows.enumerated() {
            out += "<tr\(row.refusal == nil ? "" : " class=\"refused\"")><td>\(i + 1)</td><td>\(esc(row.name))"
                + (row.category.map { "<br>\(esc($0))" } ?? "") + "</td><td>\(esc(row.idMasked))</td><td>\(row.voucherID)</td>"
                + "<td class=\"n\">\(row.days)</td><td class=\"n\">\(row.hours)</td>"
                + "<td>\(row.review.map { esc($0) }.joined(separator: "<br>"))</td><td class=\"lines\">"
            out += row.lines.map { "<div>\(esc($0))</div>" }.joined()
            if let refusal = row.refusal { out += "<div class=\"refusal\">\(esc(refusal))</div>" }
            out += "</td><td class=\"n\">\(yuanText(row.amountFen))</td></tr>\n"
        }
        let paid = sheet.rows.filter { $0.amountFen > 0 }.count
        out += "</tbody><tfoot><tr><td colspan=\"8\">\(esc(t("claims.total", ["trainees": String(sheet.rows.count), "paid": String(paid)])))</td>"
            + "<td class=\"n\">\(yuanText(sheet.totalFen))</td></tr></tfoot></table>\n"
        out += "<div class=\"capitals\">\(esc(t("claims.total.capitals", ["amount": chineseCapitals(sheet.totalFen), "figures": yuanText(sheet.totalFen)])))</div>\n"
        out += "<div class=\"sign\"><div>\(esc(t("claims.signature.institution"))) <span></span></div>"
            + "<div>\(esc(t("claims.signature.county"))) <span></span></div><div>\(esc(t("sheet.signature.date"))) <span></span></div></div>\n"
        out += "<div class=\"foot\">\(esc(t("claims.generated", ["time": sheet.generatedAt.localDescription(utcOffset: UTCOffset.china)])))</div>\n"
        return out + "</body></html>\n"
    }

    /// The sheet as CSV: UTF-8 with a byte-order mark (Excel and WPS), one row per trainee, the
    /// rule lines joined by `; `, then the total. Text cells are neutralised (``csvField(_:)``);
    /// numbers (class, voucher, days, hours, amounts) stay numbers.
    public static func csv(_ sheet: ClaimSheet, localizer t: Localizer) -> [UInt8] {
        var lines = [[
            t("sheet.class"), t("sheet.voucher"), t("sheet.name"), t("sheet.id"), t("claims.category"), t("claims.days"),
            t("claims.hours"), t("claims.flagged_days"), t("claims.review"), t("claims.amount"), t("claims.refused"),
            t("claims.lines"),
        ].map(csvField)]
        for row in sheet.rows {
            lines.append([
                csvNumber(sheet.classInfo.id), csvNumber(row.voucherID), csvField(row.name), csvField(row.idMasked),
                csvField(row.category ?? ""), csvNumber(row.days), csvNumber(row.hours), csvNumber(row.flaggedDays),
                csvField(row.review.joined(separator: "; ")), csvNumber(yuanString(row.amountFen)), csvField(row.refusal ?? ""),
                csvField(row.lines.joined(separator: "; ")),
            ])
        }
        // What the reader must know (preview, dates, deadline), then the total: always the last row.
        let notes = (sheet.isPreview ? [t("claims.preview.mark")] : []) + sheet.warnings
        for note in notes { lines.append([csvNumber(sheet.classInfo.id), "", csvField(note)] + Array(repeating: "", count: 9)) }
        lines.append([
            csvNumber(sheet.classInfo.id), "", csvField(t("claims.total.short")), "", "", "", "", "", "",
            csvNumber(yuanString(sheet.totalFen)), "", csvField(chineseCapitals(sheet.totalFen)),
        ])
        return [0xEF, 0xBB, 0xBF] + Array(lines.map(csvRecord).joined(separator: "\r\n").utf8) + [13, 10]
    }
}

/// One trainee's claim as `claims --json` and `report class --json` print it.
public struct ClaimRow: Sendable, Encodable {
    public var voucher_id: UInt64
    public var name: String
    public var id_masked: String
    public var category: String?
    public var program: String
    /// Days and class hours that count.
    public var days: Int
    public var hours: Int
    /// Held back by flags.
    public var flagged_days: Int
    public var flagged_hours: Int
    public var review: [AttendanceTally.ReviewItem]
    /// CNY.
    public var amount: Double
    /// The rule lines, in words.
    public var lines: [String]
    /// A reason code, or null.
    public var refused: String?
    /// The reason in words, or null.
    public var refusal: String?

    enum CodingKeys: String, CodingKey {
        case voucher_id, name, id_masked, category, program, days, hours, flagged_days, flagged_hours, review, amount, lines, refused, refusal
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(voucher_id, forKey: .voucher_id)
        try c.encode(name, forKey: .name)
        try c.encode(id_masked, forKey: .id_masked)
        try c.encode(category, forKey: .category)
        try c.encode(program, forKey: .program)
        try c.encode(days, forKey: .days)
        try c.encode(hours, forKey: .hours)
        try c.encode(flagged_days, forKey: .flagged_days)
        try c.encode(flagged_hours, forKey: .flagged_hours)
        try c.encode(review, forKey: .review)
        try c.encode(amount, forKey: .amount)
        try c.encode(lines, forKey: .lines)
        try c.encode(refused, forKey: .refused)
        try c.encode(refusal, forKey: .refusal)
    }

    /// The row of a worked-out claim; `refused` overrides (a revoked voucher, say).
    public init(
        result: ClaimResult, voucherID: UInt64, name: String, idMasked: String, category: String?, localizer t: Localizer,
        refused: (code: String, text: String)? = nil
    ) {
        voucher_id = voucherID
        self.name = name
        id_masked = idMasked
        self.category = category
        program = result.program
        days = result.days
        hours = result.hours
        flagged_days = result.flagged.days
        flagged_hours = result.flagged.hours
        review = result.reviewItems
        let paid = refused == nil ? result.amount : 0
        amount = Double(paid) / 100
        lines = refused == nil ? result.lines.map { $0.text(t) } : []
        self.refused = refused?.code ?? result.refused?.rawValue
        refusal = refused?.text ?? result.refusalText(t)
        amountFen = paid
    }

    /// The amount in fen.
    public var amountFen: Money

    /// The printable row.
    public func sheetRow(_ t: Localizer) -> ClaimSheet.Row {
        ClaimSheet.Row(
            voucherID: voucher_id, name: name, idMasked: id_masked, category: category, days: days, hours: hours,
            flaggedDays: flagged_days,
            review: review.map {
                "\($0.day) " + t("sheet.session", ["n": "\($0.session)", "window": $0.window]) + ": "
                    + $0.flags.map { t("flag.\($0)") }.joined(separator: " ")
            },
            amountFen: amountFen, lines: lines, refusal: refusal)
    }
}
