import FieldKitCore
import FieldKitQR

/// What a printed voucher card shows.
public struct VoucherCard: Sendable {
    /// The voucher number (also printed, for manual entry).
    public var voucherID: UInt64
    /// The trainee's name.
    public var name: String
    /// The masked ID number.
    public var idMasked: String
    /// The class's name.
    public var className: String
    /// The class's trade.
    public var trade: OccupationCode
    /// The class's level.
    public var level: UInt8
    /// First valid day.
    public var validFrom: ClassDay
    /// Last valid day.
    public var validTo: ClassDay
    /// The 247-digit code.
    public var code: String

    /// Builds a card.
    public init(
        voucherID: UInt64, name: String, idMasked: String, className: String, trade: OccupationCode, level: UInt8,
        validFrom: ClassDay, validTo: ClassDay, code: String
    ) {
        self.voucherID = voucherID
        self.name = name
        self.idMasked = idMasked
        self.className = className
        self.trade = trade
        self.level = level
        self.validFrom = validFrom
        self.validTo = validTo
        self.code = code
    }

    /// Whether the code is a test voucher.
    var isTest: Bool { (try? VoucherCode(text: code))?.body.isTest ?? false }
}

/// An A4 page of voucher cards to print and cut: 8 a page, each with its QR code at error
/// correction level Q, 36 mm wide with its quiet zone.
public enum VoucherCardsPage {
    /// Cards a page.
    public static let perPage = 8
    /// The QR's printed width, quiet zone included.
    public static let qrWidth = "36mm"

    /// The page's HTML.
    /// - Throws: ``QRCodeError`` when a code cannot be drawn.
    public static func html(_ cards: [VoucherCard], localizer t: Localizer) throws -> String {
        let css = """
            .page { width: 190mm; height: 277mm; display: grid; grid-template-columns: 1fr 1fr;
                    grid-template-rows: repeat(4, 1fr); break-after: page; }
            .page:last-child { break-after: auto; }
            .card { border: 0.3mm dashed #888; padding: 4mm; display: flex; gap: 3mm; align-items: center;
                    overflow: hidden; }
            .card svg { flex: none; }
            .info { font-size: 3.2mm; line-height: 1.45; min-width: 0; }
            .info h2 { font-size: 3.6mm; margin: 0 0 1.5mm; }
            .name { font-size: 6mm; font-weight: bold; }
            .test { color: #b00; font-weight: bold; }
            .hint { font-size: 2.8mm; color: #444; margin-top: 1.5mm; }
            .k { color: #555; }
            """
        var out = pageHead(title: t("cards.title", ["class": cards.first?.className ?? ""]), lang: t.language.rawValue, css: css)
        for start in stride(from: 0, to: cards.count, by: perPage) {
            out += "<section class=\"page\">\n"
            for card in cards[start..<min(start + perPage, cards.count)] {
                let qr = try QRCode(card.code, level: .quartile)
                out += """
                    <div class="card" data-voucher="\(card.voucherID)">\(qr.svg(sizeCSS: qrWidth))
                    <div class="info"><h2>\(esc(t("cards.title", ["class": card.className])))</h2>
                    <div class="name">\(esc(card.name))</div>
                    <div><span class="k">\(esc(t("cards.id")))</span> \(esc(card.idMasked))</div>
                    <div><span class="k">\(esc(t("cards.voucher")))</span> \(card.voucherID)</div>
                    <div><span class="k">\(esc(t("cards.trade")))</span> \(card.trade) · \(esc(t("level.\(card.level)")))</div>
                    <div><span class="k">\(esc(t("cards.valid")))</span> \(card.validFrom) – \(card.validTo)</div>
                    \(card.isTest ? "<div class=\"test\">\(esc(t("cards.test")))</div>" : "")
                    <div class="hint">\(esc(t("cards.hint")))</div></div></div>

                    """
            }
            out += "</section>\n"
        }
        return out + "</body></html>\n"
    }
}
