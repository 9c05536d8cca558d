/// Grows one regression tree on gradients and hessians, leaf-wise (best-first) as LightGBM:
/// per-leaf gradient histograms over binned features, the smaller child's histogram built and the
/// larger one's obtained by subtraction, and the direction of missing values learned per split.
struct TreeGrower {
    struct Settings {
        var maxLeafNodes: Int
        var minSamplesLeaf: Int
        var l2: Double
        /// A leaf's output (before the learning rate) is kept within ±this; infinite for none.
        var maxLeafOutput: Double
        var learningRate: Double
        /// As scikit-learn: a child needs at least this hessian sum.
        var minHessian = 1e-3
        /// Every hessian is 1 (squared error): histograms then count rows instead of summing them.
        var unitHessians = false
    }

    /// Gradient statistics of a set of rows.
    struct Sums {
        var gradient = 0.0, hessian = 0.0, count = 0
        static func - (a: Sums, b: Sums) -> Sums {
            Sums(gradient: a.gradient - b.gradient, hessian: a.hessian - b.hessian, count: a.count - b.count)
        }
        static func + (a: Sums, b: Sums) -> Sums {
            Sums(gradient: a.gradient + b.gradient, hessian: a.hessian + b.hessian, count: a.count + b.count)
        }
    }

    struct Split {
        var feature: Int
        var bin: Int
        var missingLeft: Bool
        var gain: Double
        var left: Sums
    }

    /// A leaf that may still be split: its rows are `rows[start..<end]`.
    struct OpenLeaf {
        var node: Int
        var start: Int
        var end: Int
        var sums: Sums
        /// Per feature and bin: gradient, row count and hessian, side by side.
        var histogram: [Double]
        var split: Split?
    }

    /// The bins, column-major: one feature's bins (a byte per row, so a column stays in cache)
    /// are read for a leaf's rows at a time, as LightGBM's column-wise histograms.
    let columnBins: [UInt8]
    let rowCount: Int
    /// Non-missing bins per feature; bin `binCounts[f]` holds feature f's missing values.
    let binCounts: [Int]
    let thresholds: [[Double]]
    let settings: Settings
    /// Where each feature's bins start in a histogram: each has its bins and a missing bin.
    let offsets: [Int]
    let histogramSize: Int

    /// - Parameter binned: the bins of every value, column-major (see ``FeatureBinner/binned``).
    init(binned: [UInt8], rowCount: Int, binCounts: [Int], thresholds: [[Double]], settings: Settings) {
        self.rowCount = rowCount
        self.binCounts = binCounts
        self.thresholds = thresholds
        self.settings = settings
        var offsets: [Int] = []
        var total = 0
        for count in binCounts {
            offsets.append(total)
            total += count + 1
        }
        self.offsets = offsets
        self.histogramSize = total
        columnBins = binned
    }

    /// Grows a tree over every row and adds each leaf's output to `scores[row * stride + offset]`
    /// of the rows in it; with `features`, its splits are only on the features marked true.
    func grow(gradients: [Double], hessians: [Double], scores: inout [Double], stride: Int, offset: Int, features: [Bool]? = nil) -> FlatTree {
        var tree = FlatTree()
        // Leaves hold ranges of this array; partitions keep rows in ascending order within them, so
        // that histograms read gradients and bins roughly in memory order.
        var rows = Array(0..<Int32(rowCount))
        let rootHistogram = histogram(nil, gradients, hessians)
        let rootSums = rootHistogram.withUnsafeBufferPointer { slots in
            (0...binCounts[0]).reduce(Sums()) { $0 + Self.sums(slots.baseAddress!, $1) }
        }
        var leaves = [OpenLeaf(node: tree.addNode(cover: Double(rows.count)), start: 0, end: rows.count, sums: rootSums,
                               histogram: rootHistogram, split: bestSplit(rootHistogram, rootSums, features: features))]
        var scratch = [Int32](repeating: 0, count: rows.count)

        while leaves.count < settings.maxLeafNodes {
            guard let index = leaves.indices.filter({ leaves[$0].split != nil }).max(by: { leaves[$0].split!.gain < leaves[$1].split!.gain }) else { break }
            // Taken out of the leaf first, so that it is the only reference and becomes the larger child's in place.
            var largeHistogram = leaves[index].histogram
            leaves[index].histogram = []
            let parent = leaves[index]
            let split = parent.split!
            let middle = columnBins.withUnsafeBufferPointer { bins in
                BinnedRows.partition(&rows, parent.start, parent.end, column: bins.baseAddress! + split.feature * rowCount,
                                     split: (split.bin, missingBin: binCounts[split.feature], split.missingLeft), scratch: &scratch)
            }
            let (leftNode, rightNode) = tree.split(
                parent.node, feature: split.feature, threshold: BinnedRows.threshold(after: split.bin, thresholds[split.feature]),
                missingLeft: split.missingLeft, gain: split.gain,
                covers: (Double(middle - parent.start), Double(parent.end - middle)))
            var left = OpenLeaf(node: leftNode, start: parent.start, end: middle, sums: split.left, histogram: [], split: nil)
            var right = OpenLeaf(node: rightNode, start: middle, end: parent.end, sums: parent.sums - split.left, histogram: [], split: nil)
            // Build the smaller child's histogram; the larger one's is the parent's minus it.
            let leftIsSmaller = middle - parent.start <= parent.end - middle
            let small = leftIsSmaller ? left : right
            let smallHistogram = histogram(rows[small.start..<small.end], gradients, hessians)
            for index in largeHistogram.indices { largeHistogram[index] -= smallHistogram[index] }
            left.histogram = leftIsSmaller ? smallHistogram : largeHistogram
            right.histogram = leftIsSmaller ? largeHistogram : smallHistogram
            left.split = bestSplit(left.histogram, left.sums, features: features)
            right.split = bestSplit(right.histogram, right.sums, features: features)
            leaves[index] = left
            leaves.append(right)
        }

        for leaf in leaves {
            var output = -leaf.sums.gradient / (leaf.sums.hessian + settings.l2)
            output = min(max(output, -settings.maxLeafOutput), settings.maxLeafOutput) * settings.learningRate
            tree.value[leaf.node] = output
            for position in leaf.start..<leaf.end { scores[Int(rows[position]) * stride + offset] += output }
        }
        tree.pack()
        return tree
    }

    /// Bin reads (rows × features) from which a histogram is built on several threads, a feature
    /// per piece: below it, handing the features out costs more than it saves.
    static let parallelHistogramWork = 1 << 17

    /// Gradient sums per feature and bin over `leafRows`, or over every row in order when `nil` (the
    /// root). Each feature's sums are added up by one thread in row order, so the histogram is the
    /// same bit for bit on any number of threads.
    private func histogram(_ leafRows: ArraySlice<Int32>?, _ gradients: [Double], _ hessians: [Double]) -> [Double] {
        var histogram = [Double](repeating: 0, count: 3 * histogramSize)
        let rowTotal = leafRows?.count ?? rowCount
        guard rowTotal > 0 else { return histogram }
        // The root reads bins and gradients in place. A leaf's gradients are gathered once in leaf
        // order ("ordered gradients"), then read in sequence for every feature.
        let orderedGradients = leafRows.map { rows in rows.map { gradients[Int($0)] } } ?? gradients
        let orderedHessians = settings.unitHessians ? [] : leafRows.map { rows in rows.map { hessians[Int($0)] } } ?? hessians
        histogram.withUnsafeMutableBufferPointer { histogram in
        columnBins.withUnsafeBufferPointer { bins in
        (leafRows ?? []).withUnsafeBufferPointer { rows in
        orderedGradients.withUnsafeBufferPointer { gradientBuffer in
        orderedHessians.withUnsafeBufferPointer { hessianBuffer in
            let g = gradientBuffer.baseAddress!, h = settings.unitHessians ? nil : hessianBuffer.baseAddress!
            func accumulate(_ feature: Int) {
                let column = bins.baseAddress! + feature * rowCount
                let slots = histogram.baseAddress! + 3 * offsets[feature]
                if leafRows == nil {
                    Self.add(rowTotal, g, h, to: slots) { Int(column[$0]) }
                } else {
                    Self.add(rowTotal, g, h, to: slots) { Int(column[Int(rows[$0])]) }
                }
            }
            if rowTotal * binCounts.count >= Self.parallelHistogramWork {
                _ = Parallelism.map(binCounts.count, accumulate)
            } else {
                for feature in 0..<binCounts.count { accumulate(feature) }
            }
        }}}}}
        if settings.unitHessians {
            for slot in 0..<histogramSize { histogram[3 * slot + 2] = histogram[3 * slot + 1] }
        }
        return histogram
    }

    /// Adds `count` rows' gradients (and hessians, unless every one is 1) to the slots of their
    /// bins. Two loops rather than a test per value: the unit-hessian one is the inner loop of regression.
    @inline(__always)
    private static func add(_ count: Int, _ g: UnsafePointer<Double>, _ h: UnsafePointer<Double>?,
                            to slots: UnsafeMutablePointer<Double>, bin: (Int) -> Int) {
        if let h {
            for position in 0..<count {
                let slot = slots + 3 &* bin(position)
                slot[0] += g[position]
                slot[1] += 1
                slot[2] += h[position]
            }
        } else {
            for position in 0..<count {
                let slot = slots + 3 &* bin(position)
                slot[0] += g[position]
                slot[1] += 1
            }
        }
    }

    /// The statistics of one histogram slot.
    @inline(__always)
    private static func sums(_ slots: UnsafePointer<Double>, _ slot: Int) -> Sums {
        Sums(gradient: slots[3 &* slot], hessian: slots[3 &* slot &+ 2], count: Int(slots[3 &* slot &+ 1]))
    }

    /// The split of largest gain, trying missing values on either side; `nil` when no split
    /// gains or every split leaves a child too small.
    private func bestSplit(_ histogram: [Double], _ total: Sums, features allowedFeatures: [Bool]?) -> Split? {
        guard total.count >= 2 * settings.minSamplesLeaf else { return nil }
        let l2 = settings.l2
        let minSamplesLeaf = settings.minSamplesLeaf, minHessian = settings.minHessian
        @inline(__always) func score(_ sums: Sums) -> Double { sums.gradient * sums.gradient / (sums.hessian + l2) }
        @inline(__always) func allowed(_ sums: Sums) -> Bool { sums.count >= minSamplesLeaf && sums.hessian >= minHessian }
        let parentScore = score(total)
        var best: Split?
        var bestGain = 1e-12
        // Read in place: this loop over every feature's bins, twice per split, is the part of a
        // tree no thread shares, and the array's bounds checks were a good part of it.
        histogram.withUnsafeBufferPointer { histogram in
            let slots = histogram.baseAddress!
            for feature in 0..<binCounts.count where allowedFeatures?[feature] ?? true {
                let base = offsets[feature], bins = binCounts[feature]
                let missing = Self.sums(slots, base + bins)
                var left = Sums()
                @inline(__always) func consider(_ candidate: Sums, bin: Int, missingLeft: Bool) {
                    let other = total - candidate
                    guard allowed(candidate), allowed(other) else { return }
                    let gain = score(candidate) + score(other) - parentScore
                    guard gain > bestGain else { return }
                    bestGain = gain
                    // Without missing values in training, missing ones go with the larger child.
                    let learnedLeft = missing.count > 0 ? missingLeft : candidate.count >= other.count
                    best = Split(feature: feature, bin: bin, missingLeft: learnedLeft, gain: gain, left: candidate)
                }
                for bin in 0..<bins {
                    let binSums = Self.sums(slots, base + bin)
                    // An empty bin gives the same split as the bin before it, which then wins the tie.
                    if binSums.count == 0 && bin > 0 { continue }
                    left = left + binSums
                    // The last bin can only split off the missing values.
                    let isLast = bin == bins - 1
                    if isLast && missing.count == 0 { break }
                    consider(left, bin: bin, missingLeft: false)
                    if missing.count > 0 && !isLast { consider(left + missing, bin: bin, missingLeft: true) }
                }
            }
        }
        return best
    }
}
