/// Text made safe for HTML element content and attribute values.
func esc(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

/// The shared head of every printable page: A4, fonts that carry Chinese, print colours.
func pageHead(title: String, lang: String, css: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="\(lang)"><head><meta charset="utf-8"><title>\(esc(title))</title>
    <style>
    @page { size: A4; margin: 10mm; }
    * { box-sizing: border-box; }
    html, body { margin: 0; padding: 0; }
    body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
           "Microsoft YaHei", "PingFang SC", sans-serif; color: #000; background: #fff;
           -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    @media screen { body { padding: 10mm; } }
    \(css)
    </style></head><body>
    """
}
