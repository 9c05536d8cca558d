/// Maps each feature to at most `maxBins` ordered bins, plus one bin after them for missing values, as
/// scikit-learn's `HistGradientBoosting` and LightGBM do: midpoints between distinct values when
/// there are few, quantiles otherwise. Trees then split on bins, and store real thresholds.
struct FeatureBinner {
    /// Per feature, ascending upper bounds: a value goes to the first bin whose bound is ≥ it.
    var thresholds: [[Double]]
    /// The bin of every training value, column-major (`feature * rows + row`).
    var binned: [UInt8]

    /// Fits the bins on `x` and bins it, sorting each column once: the sorted values give both
    /// the bounds and, walked in order, every value's bin.
    init(fitting x: Matrix, maxBins: Int) {
        thresholds = []
        binned = [UInt8](repeating: 0, count: x.rows * x.columns)
        for feature in 0..<x.columns {
            let column = x.column(feature)
            let (values, rows) = Self.sortedPresent(column)
            let bounds = Self.bounds(sortedValues: values, maxBins: maxBins)
            thresholds.append(bounds)
            let offset = feature * x.rows
            for row in column.indices where column[row].isNaN { binned[offset + row] = UInt8(bounds.count + 1) }
            var bin = 0
            for (value, row) in zip(values, rows) {
                while bin < bounds.count && value > bounds[bin] { bin += 1 }
                binned[offset + Int(row)] = UInt8(bin)
            }
        }
    }

    /// The number of non-missing bins of each feature; its missing values get the bin of that number.
    var binCounts: [Int] { thresholds.map { $0.count + 1 } }

    /// Midpoints between distinct values when there are at most `maxBins`, quantiles otherwise.
    private static func bounds(sortedValues values: [Double], maxBins: Int) -> [Double] {
        var distinct: [Double] = []
        for value in values where distinct.last != value {
            distinct.append(value)
            if distinct.count > maxBins { break }
        }
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

    /// The values that are not missing, ascending, with their rows: a least-significant-digit radix
    /// sort on the bit patterns (made to order as the numbers do), several times faster than a
    /// comparison sort on a hundred thousand values.
    static func sortedPresent(_ column: [Double]) -> (values: [Double], rows: [UInt32]) {
        var keys: [UInt64] = [], rows: [UInt32] = []
        keys.reserveCapacity(column.count)
        rows.reserveCapacity(column.count)
        for (row, value) in column.enumerated() where !value.isNaN {
            // +0 and −0 are equal numbers; one key keeps them together.
            let bits = (value == 0 ? 0.0 : value).bitPattern
            keys.append(bits >> 63 == 1 ? ~bits : bits | (1 << 63))
            rows.append(UInt32(row))
        }
        let digitBits = 11, buckets = 1 << 11
        var (otherKeys, otherRows) = (keys, rows)
        var counts = [Int](repeating: 0, count: buckets)
        for shift in stride(from: 0, to: 64, by: digitBits) {
            for index in counts.indices { counts[index] = 0 }
            for key in keys { counts[Int((key >> UInt64(shift)) & UInt64(buckets - 1))] += 1 }
            // A digit that every key shares needs no pass.
            if counts.contains(keys.count) { continue }
            var total = 0
            for index in counts.indices { (counts[index], total) = (total, total + counts[index]) }
            for (key, row) in zip(keys, rows) {
                let digit = Int((key >> UInt64(shift)) & UInt64(buckets - 1))
                otherKeys[counts[digit]] = key
                otherRows[counts[digit]] = row
                counts[digit] += 1
            }
            swap(&keys, &otherKeys)
            swap(&rows, &otherRows)
        }
        let values = keys.map { key in Double(bitPattern: key >> 63 == 1 ? key & ~(1 << 63) : ~key) }
        return (values, rows)
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
