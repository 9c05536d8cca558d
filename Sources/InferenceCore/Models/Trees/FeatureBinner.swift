/// Maps each feature to at most `maxBins` ordered bins, plus one bin after them for missing values, as
/// scikit-learn's `HistGradientBoosting` and LightGBM do: midpoints between distinct values when
/// there are few, quantiles otherwise. Trees then split on bins, and store real thresholds.
struct FeatureBinner {
    /// Per feature, ascending upper bounds: a value goes to the first bin whose bound is ≥ it.
    var thresholds: [[Double]]

    init(fitting x: Matrix, maxBins: Int) {
        thresholds = (0..<x.columns).map { feature in
            let values = x.column(feature).filter { !$0.isNaN }.sorted()
            var distinct: [Double] = []
            for value in values where distinct.last != value { distinct.append(value) }
            if distinct.count <= maxBins {
                return zip(distinct, distinct.dropFirst()).map { ($0 + $1) / 2 }
            }
            var bounds: [Double] = []
            for q in 1..<maxBins {
                let position = Double(q) / Double(maxBins) * Double(values.count - 1)
                let bound = (values[Int(position.rounded(.down))] + values[Int(position.rounded(.up))]) / 2
                if bounds.last != bound { bounds.append(bound) }
            }
            return bounds
        }
    }

    /// The number of non-missing bins of each feature; its missing values get the bin of that number.
    var binCounts: [Int] { thresholds.map { $0.count + 1 } }

    /// The bins of every value, column-major (`feature * rows + row`).
    func bin(_ x: Matrix) -> [UInt8] {
        var binned = [UInt8](repeating: 0, count: x.rows * x.columns)
        for feature in 0..<x.columns {
            let bounds = thresholds[feature]
            for row in 0..<x.rows {
                let value = x[row, feature]
                guard !value.isNaN else { binned[feature * x.rows + row] = UInt8(bounds.count + 1); continue }
                var low = 0, high = bounds.count
                while low < high {
                    let middle = (low + high) / 2
                    if value <= bounds[middle] { high = middle } else { low = middle + 1 }
                }
                binned[feature * x.rows + row] = UInt8(low)
            }
        }
        return binned
    }
}

/// Row bookkeeping shared by the tree growers: a node's rows are a range of one index array.
enum BinnedRows {
    /// The threshold of a split after `bin`. A split after the last bin separates only the missing
    /// values: every number goes left, so the largest finite number (JSON has no infinity).
    static func threshold(after bin: Int, _ bounds: [Double]) -> Double {
        bin < bounds.count ? bounds[bin] : .greatestFiniteMagnitude
    }

    /// Reorders `rows[start..<end]` so that the rows going left come first, in their order, and
    /// returns where the right ones begin. A row goes left when its bin (in `column`) is at most
    /// `split.bin`, or when it is the missing bin and `split.missingLeft` is set.
    static func partition(_ rows: inout [Int32], _ start: Int, _ end: Int, column: UnsafePointer<UInt8>,
                          split: (bin: Int, missingBin: Int, missingLeft: Bool), scratch: inout [Int32]) -> Int {
        var leftCount = 0, rightCount = 0
        for position in start..<end {
            let row = rows[position]
            let bin = Int(column[Int(row)])
            let goesLeft = bin == split.missingBin ? split.missingLeft : bin <= split.bin
            if goesLeft { rows[start + leftCount] = row; leftCount += 1 } else { scratch[rightCount] = row; rightCount += 1 }
        }
        for index in 0..<rightCount { rows[start + leftCount + index] = scratch[index] }
        return start + leftCount
    }
}
