import Foundation

/// Small multiples as one SVG file: a panel per group, a line per side, logarithmic axes (the
/// figures span orders of magnitude). Written by hand: the harness needs no plotting library.
struct SVGPlot {
    struct Series {
        var label: String
        var points: [(x: Double, y: Double)]
    }
    struct Panel {
        var title: String
        var series: [Series]
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var panels: [Panel]

    static let colours = ["#1f4e79", "#c0392b", "#2e8b57", "#b35900", "#6a3d9a"]
    static let dashes = ["", "6 4", "2 3", "8 3 2 3", "1 2"]

    func render() -> String {
        let columns = min(3, max(1, panels.count)), rows = (panels.count + columns - 1) / columns
        let (panelWidth, panelHeight) = (330.0, 250.0)
        let labels = Array(Set(panels.flatMap { $0.series.map(\.label) })).sorted { label($0) < label($1) }
        let width = Double(columns) * panelWidth + 20, legendHeight = Double(labels.count) * 18 + 10
        let height = 40 + Double(rows) * panelHeight + legendHeight
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="DejaVu Sans, sans-serif" font-size="11">"##
        svg += ##"<rect width="100%" height="100%" fill="#ffffff"/><text x="12" y="22" font-size="15" font-weight="bold">\##(escape(title))</text>"##
        for (index, panel) in panels.enumerated() {
            let left = 10 + Double(index % columns) * panelWidth, top = 36 + Double(index / columns) * panelHeight
            svg += render(panel, box: (left + 58, top + 22, left + panelWidth - 14, top + panelHeight - 42), order: labels)
        }
        for (index, name) in labels.enumerated() {
            let y = 40 + Double(rows) * panelHeight + Double(index) * 18
            svg += ##"<line x1="20" x2="56" y1="\##(y)" y2="\##(y)" stroke="\##(colour(name, labels))" stroke-width="2.5" stroke-dasharray="\##(dash(name, labels))"/>"##
            svg += ##"<text x="64" y="\##(y + 4)">\##(escape(name))</text>"##
        }
        return svg + "</svg>\n"
    }

    /// The testbed first in the legend and in colour order.
    private func label(_ name: String) -> String { name.hasPrefix("testbed") ? "0" + name : "1" + name }
    private func colour(_ name: String, _ labels: [String]) -> String { Self.colours[labels.firstIndex(of: name)! % Self.colours.count] }
    private func dash(_ name: String, _ labels: [String]) -> String { Self.dashes[labels.firstIndex(of: name)! % Self.dashes.count] }

    private func render(_ panel: Panel, box: (left: Double, top: Double, right: Double, bottom: Double), order: [String]) -> String {
        let points = panel.series.flatMap(\.points).filter { $0.x > 0 && $0.y > 0 && $0.y.isFinite }
        guard !points.isEmpty else { return "" }
        let (x0, x1) = decades(points.map(\.x)), (y0, y1) = decades(points.map(\.y))
        let sx = { (x: Double) in box.left + (log10(x) - x0) / (x1 - x0) * (box.right - box.left) }
        let sy = { (y: Double) in box.bottom - (log10(y) - y0) / (y1 - y0) * (box.bottom - box.top) }
        var svg = ##"<text x="\##(box.left)" y="\##(box.top - 8)" font-weight="bold">\##(escape(panel.title))</text>"##
        svg += ##"<rect x="\##(box.left)" y="\##(box.top)" width="\##(box.right - box.left)" height="\##(box.bottom - box.top)" fill="none" stroke="#999"/>"##
        for exponent in Int(x0)...Int(x1) {
            let x = sx(pow(10, Double(exponent)))
            svg += ##"<line x1="\##(x)" x2="\##(x)" y1="\##(box.top)" y2="\##(box.bottom)" stroke="#e6e6e6"/><text x="\##(x)" y="\##(box.bottom + 14)" text-anchor="middle">\##(power(exponent))</text>"##
        }
        for exponent in Int(y0)...Int(y1) {
            let y = sy(pow(10, Double(exponent)))
            svg += ##"<line x1="\##(box.left)" x2="\##(box.right)" y1="\##(y)" y2="\##(y)" stroke="#e6e6e6"/><text x="\##(box.left - 4)" y="\##(y + 4)" text-anchor="end">\##(power(exponent))</text>"##
        }
        svg += ##"<text x="\##((box.left + box.right) / 2)" y="\##(box.bottom + 30)" text-anchor="middle" fill="#444">\##(escape(xLabel))</text>"##
        svg += ##"<text transform="translate(\##(box.left - 44) \##((box.top + box.bottom) / 2)) rotate(-90)" text-anchor="middle" fill="#444">\##(escape(yLabel))</text>"##
        for series in panel.series {
            let valid = series.points.filter { $0.x > 0 && $0.y > 0 && $0.y.isFinite }
            let path = valid.map { "\(sx($0.x)),\(sy($0.y))" }.joined(separator: " ")
            let (stroke, dashes) = (colour(series.label, order), dash(series.label, order))
            svg += ##"<polyline points="\##(path)" fill="none" stroke="\##(stroke)" stroke-width="2.5" stroke-dasharray="\##(dashes)"/>"##
            for point in valid { svg += ##"<circle cx="\##(sx(point.x))" cy="\##(sy(point.y))" r="3" fill="\##(stroke)"/>"## }
        }
        return svg
    }

    /// Whole powers of ten around the values.
    private func decades(_ values: [Double]) -> (Double, Double) {
        let low = floor(log10(values.min()!)), high = ceil(log10(values.max()!))
        return (low, high > low ? high : low + 1)
    }

    private func power(_ exponent: Int) -> String {
        switch exponent {
        case 0: return "1"
        case 1: return "10"
        case 2: return "100"
        case 3: return "1k"
        case 6: return "1M"
        case 9: return "1G"
        case -3: return "0.001"
        case -2: return "0.01"
        case -1: return "0.1"
        default: return "1e\(exponent)"
        }
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
