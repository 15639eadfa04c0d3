/// An inline SVG step chart of one account's balance over a statement period: no scripts, no
/// external assets, black lines on white so it prints in black and white. Coordinates come from
/// integer arithmetic (Int128), so no amount passes through a floating-point type.
public enum BalanceChart {
    public struct Point: Sendable, Equatable {
        public var hlcPhysicalMs: Int64
        public var balanceMinor: Int64
        public init(hlcPhysicalMs: Int64, balanceMinor: Int64) {
            self.hlcPhysicalMs = hlcPhysicalMs
            self.balanceMinor = balanceMinor
        }
    }

    static let width: Int128 = 720, height: Int128 = 220
    static let left: Int128 = 110, right: Int128 = 16, top: Int128 = 16, bottom: Int128 = 40

    /// `points` in time order: the opening balance at the start of the period first, then the
    /// running balance after each movement; `endMs` is the end of the period.
    public static func svg(title: String, points: [Point], endMs: Int64, exponent: Int) -> String {
        guard let first = points.first else { return "" }
        let startMs = Int128(first.hlcPhysicalMs)
        let stopMs = max(Int128(endMs), Int128(points.last!.hlcPhysicalMs), startMs + 1)
        var low = Int128(0), high = Int128(0)
        for p in points {
            low = min(low, Int128(p.balanceMinor))
            high = max(high, Int128(p.balanceMinor))
        }
        if high == low { high = low + 1 }
        let plotW = width - left - right, plotH = height - top - bottom
        // Clamped: on the recorded basis a movement's HLC time may fall outside the period.
        func x(_ ms: Int64) -> Int128 { left + min(max(Int128(ms) - startMs, 0), stopMs - startMs) * plotW / (stopMs - startMs) }
        func y(_ v: Int128) -> Int128 { top + (high - v) * plotH / (high - low) }

        var path = "M\(x(first.hlcPhysicalMs)),\(y(Int128(first.balanceMinor)))"
        for p in points.dropFirst() {
            let px = x(p.hlcPhysicalMs), py = y(Int128(p.balanceMinor))
            path += " H\(px) V\(py)"
        }
        path += " H\(x(Int64(stopMs)))"
        let label = escape(title)
        let highText = MoneyFormat.decimal(Int64(clamping: high), exponent: exponent)
        let lowText = MoneyFormat.decimal(Int64(clamping: low), exponent: exponent)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"balance-chart\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"Balance of \(label) over the period\">"
        svg += "<title>Balance of \(label) over the period</title>"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#000\" stroke-width=\"0.5\"/>"
        if low < 0 && high > 0 {
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(y(0))\" y2=\"\(y(0))\" stroke=\"#000\" stroke-width=\"0.5\" stroke-dasharray=\"4 3\"/>"
            svg += axisText(x: left - 6, y: y(0) + 4, anchor: "end", "0")
        }
        svg += axisText(x: left - 6, y: top + 10, anchor: "end", highText)
        svg += axisText(x: left - 6, y: top + plotH, anchor: "end", lowText)
        svg += axisText(x: left, y: height - 22, anchor: "start", shortInstant(first.hlcPhysicalMs))
        svg += axisText(x: left + plotW, y: height - 22, anchor: "end", shortInstant(Int64(stopMs)))
        svg += axisText(x: left + plotW / 2, y: height - 6, anchor: "middle", "\(points.count - 1) movements · hlc_physical (UTC)")
        svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\" stroke-linejoin=\"miter\"/>"
        svg += "</svg>"
        return svg
    }

    static func axisText(x: Int128, y: Int128, anchor: String, _ text: String) -> String {
        "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\" font-size=\"11\" font-family=\"sans-serif\" fill=\"#000\">\(escape(text))</text>"
    }

    static func shortInstant(_ ms: Int64) -> String {
        let text = Instant.iso8601(ms: ms)
        return String(text.prefix(16)).replacingAll("T", with: " ")
    }

    /// XML text escaping for SVG content (masking is the caller's business).
    public static func escape(_ s: String) -> String {
        var out = ""
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
}
