import FieldKitCore
import FieldKitStore

extension Kiosk {
    /// Draws the whole screen; adapts to the terminal's size (80×24 and up).
    func draw(_ term: Terminal) {
        term.clear()
        let w = term.columns
        let h = term.rows
        let now = station.clock.now()
        let offset = station.utcOffset

        // Title bar.
        let site = status?.siteName ?? station.siteID
        let right = now.localDescription(utcOffset: offset) + (muted ? " " + t("kiosk.muted") : "")
        let title = " " + t("kiosk.title") + "  " + site
        let gap = max(1, w - DisplayWidth.of(title) - DisplayWidth.of(right) - 1)
        term.band(title + String(repeating: " ", count: gap) + right, row: 0, paint: .title, bold: true)

        // The session shown and its counters.
        let today = (try? station.todaysSessions()) ?? (sessions: [], current: nil)
        let index = selected ?? today.current
        var sessionLine = t("kiosk.no_session")
        var counters = ""
        if let i = index, i < today.sessions.count {
            let (info, key) = today.sessions[i]
            sessionLine = t("kiosk.session", [
                "class": info.name, "id": String(info.id), "n": String(key.index + 1),
                "window": info.sessions[key.index].description,
            ])
            if let c = status?.today.first(where: { $0.classID == info.id && $0.session == info.sessions[key.index].description }) {
                counters = t("kiosk.counters", [
                    "expected": String(c.expected), "in": String(c.signedInNow), "out": String(c.signedOut),
                    "absent": String(c.notYetArrived), "open": String(c.openAtEnd),
                ])
            }
        }
        term.put(" " + sessionLine, row: 1, bold: true)

        // Warnings that need attention.
        var row = 2
        for warning in (status?.warnings ?? []).prefix(2) {
            term.band(" ⚠ " + warning.text(t, utcOffset: offset), row: row, paint: warning.blocksScans ? .refused : .warning, bold: true)
            row += 1
        }

        // The result panel: big, coloured, readable from across the room.
        let panelTop = max(row, 3)
        let panelHeight = max(5, min(7, h - panelTop - 9))
        drawPanel(term, top: panelTop, height: panelHeight)

        // Counters, then recent scans.
        var r = panelTop + panelHeight + 1
        term.put(" " + counters, row: r, bold: true)
        r += 1
        if let sync = status?.sync, sync.countyURL != nil {
            let last = sync.lastSuccessAt.map { $0.localDescription(utcOffset: offset) } ?? "—"
            term.put(
                " " + (sync.unsynced == 0
                    ? t("kiosk.sync.all", ["time": last]) : t("kiosk.sync.pending", ["count": String(sync.unsynced), "time": last])),
                row: r)
        }
        r += 1
        term.put(" " + t("kiosk.recent"), row: r, bold: true)
        r += 1
        let listEnd = h - 3
        for o in recent where r < listEnd {
            let mark = o.result == .accepted ? "✔" : o.result == .duplicate ? "●" : "✘"
            term.put(" \(o.time.localClock(utcOffset: offset))  \(mark) \(o.headline(t))  \(o.who)", row: r)
            r += 1
        }

        // Keys and the prompt.
        term.band(" " + t("kiosk.keys"), row: h - 2, paint: .title)
        term.put(" " + prompt(), row: h - 1, bold: true)
        term.show()
    }

    func drawPanel(_ term: Terminal, top: Int, height: Int) {
        let paint: Terminal.Paint
        var lines: [String]
        switch mode {
        case .help:
            paint = .idle
            lines = [t("kiosk.help.title"), t("kiosk.help.1"), t("kiosk.help.2"), t("kiosk.help.3"), t("kiosk.help.4")]
            if let note { lines.insert(note, at: 1) }
        default:
            if let o = last {
                paint = o.result == .accepted ? .ok : o.result == .duplicate ? .duplicate : .refused
                let mark = o.result == .accepted ? "✔" : o.result == .duplicate ? "●" : "✘"
                lines = ["\(mark)  \(o.headline(t))  \(mark)", o.who, o.explanation(t)]
                if let c = o.className, let s = o.session { lines.append("\(c)  \(s)") }
            } else {
                paint = .idle
                lines = [t("kiosk.ready"), t("kiosk.ready.detail")]
            }
        }
        let start = top + max(0, (height - lines.count) / 2)
        for i in 0..<height {
            let index = top + i - start
            let text = index >= 0 && index < lines.count ? lines[index] : ""
            term.band(text, row: top + i, paint: paint, bold: index == 0, centered: true)
        }
    }

    /// The bottom line: what is being typed, or what is asked.
    func prompt() -> String {
        switch mode {
        case .scanning:
            if let note { return note }
            return buffer.isEmpty ? "> " : "> " + String(buffer.suffix(60))
        case .manualVoucher(let typed): return t("kiosk.manual.voucher") + typed + "_"
        case .manualDirection(let v): return t("kiosk.manual.direction", ["voucher": String(v)])
        case .manualReason(_, _, let typed): return t("kiosk.manual.reason") + typed + "_"
        case .help: return note ?? ""
        case .confirmEnd:
            let today = (try? station.todaysSessions()) ?? (sessions: [], current: nil)
            let window = (selected ?? today.current).flatMap { i in
                i < today.sessions.count ? today.sessions[i].0.sessions[today.sessions[i].1.index].description : nil
            } ?? ""
            return t("kiosk.end.confirm", ["window": window])
        case .confirmQuit: return t("kiosk.quit.confirm")
        }
    }
}
