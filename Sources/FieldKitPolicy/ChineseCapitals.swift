/// An amount in Chinese capital numerals (大写), as a cheque or a claim form writes it so that no
/// digit can be altered: 3,300.00 → 人民币叁仟叁佰元整; 1,005.60 → 人民币壹仟零伍元陆角;
/// 0.05 → 人民币伍分.
public func chineseCapitals(_ fen: Money) -> String {
    let digits: [Character] = ["零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"]
    let negative = fen < 0
    let v = fen.magnitude
    let yuan = v / 100, jiao = Int(v / 10 % 10), fenDigit = Int(v % 10)
    var out = ""
    if yuan > 0 {
        // Groups of four digits: 万 and 亿 between them; 零 once for each run of zeros inside.
        let groupUnits = ["", "万", "亿", "万亿"]
        let placeUnits = ["", "拾", "佰", "仟"]
        var groups: [Int] = []
        var rest = yuan
        while rest > 0 {
            groups.append(Int(rest % 10_000))
            rest /= 10_000
        }
        var pendingZero = false
        for (gi, group) in groups.enumerated().reversed() {
            if group == 0 {
                pendingZero = !out.isEmpty
                continue
            }
            if !out.isEmpty && group < 1000 { pendingZero = true }
            var text = ""
            var zero = false
            for place in stride(from: 3, through: 0, by: -1) {
                var p = 1
                for _ in 0..<place { p *= 10 }
                let d = group / p % 10
                if d == 0 {
                    if !text.isEmpty { zero = true }
                    continue
                }
                if zero { text.append("零") }
                zero = false
                text.append(digits[d])
                text += placeUnits[place]
            }
            if pendingZero { out.append("零") }
            pendingZero = false
            out += text + groupUnits[min(gi, groupUnits.count - 1)]
        }
        out += "元"
    }
    if jiao == 0 && fenDigit == 0 {
        out += yuan == 0 ? "零元整" : "整"
    } else {
        if jiao > 0 {
            out.append(digits[jiao])
            out += "角"
        } else if yuan > 0 {
            out.append("零")
        }
        if fenDigit > 0 {
            out.append(digits[fenDigit])
            out += "分"
        }
    }
    return (negative ? "负" : "") + "人民币" + out
}
