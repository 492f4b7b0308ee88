extension QRCode {
    /// An SVG image: one path of unit squares in a viewBox of modules (quiet zone included),
    /// so it prints crisp at any size. `sizeCSS` sets the printed width, e.g. `34mm`.
    public func svg(sizeCSS: String? = nil) -> String {
        let side = size + 2 * QRCode.quietZone
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else {
                    x += 1
                    continue
                }
                var run = 1
                while isDark(x: x + run, y: y) { run += 1 }
                path += "M\(x + QRCode.quietZone),\(y + QRCode.quietZone)h\(run)v1h-\(run)z"
                x += run
            }
        }
        let dims = sizeCSS.map { " width=\"\($0)\" height=\"\($0)\"" } ?? ""
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(side) \(side)\"\(dims) shape-rendering=\"crispEdges\">"
            + "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#fff\"/><path fill=\"#000\" d=\"\(path)\"/></svg>"
    }

    /// Lines of text for a terminal: each character shows two modules stacked, with the
    /// half-block characters ▀ ▄ █ and a space. Light modules (and a 2-module quiet zone) are
    /// the lit cells, so the code reads dark-on-light on the usual dark terminal.
    public func terminalLines() -> [String] {
        let q = 2
        var lines: [String] = []
        var y = -q
        while y < size + q {
            var line = ""
            for x in -q..<(size + q) {
                // Lit cells are light modules: a reader sees dark-on-light.
                let top = !isDark(x: x, y: y)
                let bottom = y + 1 < size + q ? !isDark(x: x, y: y + 1) : false
                let cell: String = switch (top, bottom) {
                case (true, true): "█"
                case (true, false): "▀"
                case (false, true): "▄"
                case (false, false): " "
                }
                line += cell
            }
            lines.append(line)
            y += 2
        }
        return lines
    }

    /// Row-major grayscale pixels (0 dark, 255 light) at `scale` pixels per module, quiet zone
    /// included; the input for a PNG.
    public func pixels(scale: Int) -> (width: Int, rows: [[UInt8]]) {
        let side = (size + 2 * QRCode.quietZone) * scale
        var rows: [[UInt8]] = []
        rows.reserveCapacity(side)
        for py in 0..<side {
            let y = py / scale - QRCode.quietZone
            var row = [UInt8](repeating: 255, count: side)
            for px in 0..<side where isDark(x: px / scale - QRCode.quietZone, y: y) { row[px] = 0 }
            rows.append(row)
        }
        return (side, rows)
    }

    /// A PNG image at `scale` pixels per module.
    public func png(scale: Int = 8) throws -> [UInt8] {
        let (width, rows) = pixels(scale: scale)
        return try PNG.grayscale(width: width, rows: rows)
    }
}
