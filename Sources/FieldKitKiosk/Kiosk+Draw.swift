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
        // A long site name is cut, never the clock.
        let title = DisplayWidth.truncate(
            " " + t("kiosk.title") + "  " + terminalSafe(site), to: max(0, w - DisplayWidth.of(right) - 2))
        let gap = max(1, w - DisplayWidth.of(title) - DisplayWidth.of(right) - 1)
        term.band(title + String(repeating: " ", count: gap) + right, row: 0, paint: .title, bold: true)

        // The session shown and its counters.
        let today = (try? station.todaysSessions()) ?? (sessions: [], current: nil)
        let index = shownIndex(today)
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
        if let pid = otherKiosk {
            term.band(" ⚠ " + t("kiosk.other_running", ["pid": String(pid)]), row: row, paint: .refused, bold: true)
            row += 1
        }
        for warning in (status?.warnings ?? []).prefix(otherKiosk == nil ? 2 : 1) {
            term.band(" ⚠ " + warning.text(t, utcOffset: offset), row: row, paint: warning.blocksScans ? .refused : .warning, bold: true)
            row += 1
        }

        // The result panel: big, coloured, readable from across the room.
        let panelTop = max(row, 3)
        // The help takes the room of the recent list (it has more lines, wrapped).
        let panelHeight = mode == .help ? max(5, h - panelTop - 6) : max(5, min(7, h - panelTop - 9))
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
            let why = o.result == .accepted ? "" : " " + shortReason(o)
            term.put(" \(o.time.localClock(utcOffset: offset))  \(mark) \(o.headline(t))\(why)  \(o.who)", row: r)
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
            lines = [t("kiosk.help.1"), t("kiosk.help.2"), t("kiosk.help.3"), t("kiosk.help.4"), t("kiosk.help.5")]
                .flatMap { DisplayWidth.wrap($0, to: term.columns - 2) }
            lines.insert(t("kiosk.help.title"), at: 0)
            if let note { lines.insert(note, at: 1) }
        default:
            if let notice {
                paint = notice.paint
                lines = notice.lines.flatMap { DisplayWidth.wrap(terminalSafe($0), to: term.columns - 2) }
            } else if let o = last {
                paint = o.result == .accepted ? .ok : o.result == .duplicate ? .duplicate : .refused
                let mark = o.result == .accepted ? "✔" : o.result == .duplicate ? "●" : "✘"
                lines = ["\(mark)  \(o.headline(t))  \(mark)", o.who]
                lines += DisplayWidth.wrap(terminalSafe(o.explanation(t)), to: term.columns - 2)
                if let c = o.className, let s = o.session { lines.append("\(c)  \(s)") }
            } else {
                paint = .idle
                lines = [t("kiosk.ready"), t("kiosk.ready.detail")]
            }
        }
        lines = Array(lines.filter { !$0.isEmpty }.prefix(height))
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
            // What is typed is always shown (a note waits until the line is empty).
            if buffer.isEmpty, let note { return note }
            return buffer.isEmpty ? "> " : "> " + String(buffer.suffix(60)) + "_  " + t("kiosk.typed_hint")
        case .manualVoucher(let typed): return t("kiosk.manual.voucher") + typed + "_"
        case .manualDirection(let v): return t("kiosk.manual.direction", ["voucher": String(v)])
        case .manualReason(_, _, let typed): return t("kiosk.manual.reason") + typed + "_"
        case .help: return note ?? ""
        case .confirmEnd:
            let today = (try? station.todaysSessions()) ?? (sessions: [], current: nil)
            let window = shownIndex(today).flatMap { i in
                i < today.sessions.count ? today.sessions[i].0.sessions[today.sessions[i].1.index].description : nil
            } ?? ""
            return t("kiosk.end.confirm", ["window": window])
        case .confirmQuit: return t("kiosk.quit.confirm")
        }
    }
}

extension Kiosk {
    /// A refusal's reason in a few words, for the recent list (`reason_short.<code>`; the full
    /// explanation when a code has no short words).
    func shortReason(_ o: ScanOutcome) -> String {
        guard o.result != .accepted else { return "" }
        let code = o.reason?.rawValue ?? "malformed"
        if Localizer.tables[t.language.rawValue]?["reason_short." + code] != nil { return t("reason_short." + code) }
        return o.explanation(t)
    }
}
