/// Maps each feature to at most `maxBins` ordered bins, plus one bin after them for missing values, as
/// scikit-learn's `HistGradientBoosting` and LightGBM do: midpoints between distinct values when
/// there are few, quantiles otherwise. Trees then split on bins, and store real thresholds.
struct FeatureBinner {
    /// Per feature, ascending upper bounds: a value goes to the first bin whose bound is ≥ it.
    var thresholds: [[Double]]
    /// The bin of every training value, column-major (`feature * rows + row`).
    var binned: [UInt8]

    /// Rows the bounds are fitted on at most, as scikit-learn's `subsample` (and LightGBM's
    /// `bin_construct_sample_cnt`): quantiles of this many rows are close to those of all of them,
    /// and sorting a million rows' columns took more time than binning them.
    static let boundSampleRows = 200_000
    /// Rows binned per piece of work, when the rows are spread over threads.
    static let rowsPerPiece = 1 << 16

    /// Fits the bins on `x` (on ``sampleRows(_:seed:)`` when it has more than ``boundSampleRows``
    /// rows) and bins every value. `maxBins` is at most 255: bins and the missing bin are bytes.
    init(fitting x: Matrix, maxBins: Int, seed: UInt64) {
        precondition(maxBins <= 255, "a bin is a byte")
        let sample = Self.sampleRows(x.rows, seed: seed)
        thresholds = Parallelism.map(x.columns) { feature in
            let values = sample.map { rows in rows.map { x[$0, feature] } } ?? x.column(feature)
            return Self.bounds(sortedValues: values.sortedPresent(), maxBins: maxBins)
        }
        // Each bound list padded with infinities to a power of two, so that finding a value's bin
        // is a fixed number of halvings without branches.
        let searchWidth = thresholds.map { 1 << (Int.bitWidth - $0.count.leadingZeroBitCount) }.max() ?? 1
        var padded = [Double](repeating: .infinity, count: x.columns * searchWidth)
        for (feature, bounds) in thresholds.enumerated() {
            for (index, bound) in bounds.enumerated() { padded[feature * searchWidth + index] = bound }
        }
        let missingBins = thresholds.map { UInt8($0.count + 1) }
        let (rows, columns) = (x.rows, x.columns)
        binned = [UInt8](repeating: 0, count: rows * columns)
        binned.withUnsafeMutableBufferPointer { binned in
        x.storage.withUnsafeBufferPointer { values in
        padded.withUnsafeBufferPointer { padded in
            let (binned, padded) = (binned.baseAddress!, padded.baseAddress!)
            // Row-major reads, one block of rows per piece: each value is read once, in order.
            _ = Parallelism.map((rows + Self.rowsPerPiece - 1) / Self.rowsPerPiece) { piece in
                for row in piece * Self.rowsPerPiece ..< min(rows, (piece + 1) * Self.rowsPerPiece) {
                    for feature in 0..<columns {
                        let value = values[row * columns + feature]
                        let bounds = padded + feature * searchWidth
                        // The number of bounds below the value: all of bounds[0..<bin] are.
                        var bin = 0, step = searchWidth / 2
                        while step > 0 {
                            if bounds[bin + step - 1] < value { bin += step }
                            step /= 2
                        }
                        binned[feature * rows + row] = value.isNaN ? missingBins[feature] : UInt8(truncatingIfNeeded: bin)
                    }
                }
            }
        }}}
    }

    /// The rows the bounds are fitted on: `nil` (every row) up to ``boundSampleRows``, else that
    /// many drawn at random without replacement, ascending (Knuth's selection sampling). At random
    /// rather than evenly spaced, so that a column that repeats every few rows (alternating
    /// machines, minutes of the hour) shows all its values.
    static func sampleRows(_ rows: Int, seed: UInt64) -> [Int]? {
        guard rows > boundSampleRows else { return nil }
        var generator = SeededGenerator(seed: seed ^ 0xB175_A3B1_E5)
        var sample: [Int] = []
        sample.reserveCapacity(boundSampleRows)
        for row in 0..<rows where sample.count < boundSampleRows {
            // Chosen with probability (still needed) / (still left): exactly the sample size in the end.
            if generator.next() % UInt64(rows - row) < UInt64(boundSampleRows - sample.count) { sample.append(row) }
        }
        return sample
    }

    /// The number of non-missing bins of each feature; its missing values get the bin of that number.
    var binCounts: [Int] { thresholds.map { $0.count + 1 } }

    /// Midpoints between distinct values when there are at most `maxBins`, quantiles otherwise.
    static func bounds(sortedValues values: [Double], maxBins: Int) -> [Double] {
        var distinct: [Double] = []
        for value in values where distinct.last != value {
            distinct.append(value)
            if distinct.count > maxBins { break }
        }
        // Midpoints of neighbouring subnormal values can round to the same number (and of huge ones
        // to infinity): kept once.
        var bounds: [Double] = []
        func add(_ bound: Double) { if bounds.last != bound { bounds.append(bound) } }
        if distinct.count <= maxBins {
            for (low, high) in zip(distinct, distinct.dropFirst()) { add((low + high) / 2) }
            return bounds
        }
        for q in 1..<maxBins {
            let position = Double(q) / Double(maxBins) * Double(values.count - 1)
            add((values[Int(position.rounded(.down))] + values[Int(position.rounded(.up))]) / 2)
        }
        return bounds
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
