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
        var histogram: [Sums]
        var split: Split?
    }

    let binned: UnsafeBufferPointer<UInt8>
    let rowCount: Int
    /// Non-missing bins per feature; bin `binCounts[f]` holds feature f's missing values.
    let binCounts: [Int]
    let thresholds: [[Double]]
    let settings: Settings
    /// Where each feature's bins start in a histogram: each has its bins and a missing bin.
    let offsets: [Int]
    let histogramSize: Int

    init(binned: UnsafeBufferPointer<UInt8>, rowCount: Int, binCounts: [Int], thresholds: [[Double]], settings: Settings) {
        self.binned = binned
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
    }

    /// Grows a tree over `rows` (indices into the binned data) and adds each leaf's output to
    /// `scores[row * stride + offset]` of the rows in it.
    func grow(gradients: [Double], hessians: [Double], rows: inout [Int32],
              scores: inout [Double], stride: Int, offset: Int) -> FlatTree {
        var tree = FlatTree()
        var rootHistogram = histogram(rows[...], gradients, hessians)
        let rootSums = (0...binCounts[0]).reduce(Sums()) { $0 + rootHistogram[$1] }
        var leaves = [OpenLeaf(node: tree.addNode(cover: Double(rows.count)), start: 0, end: rows.count, sums: rootSums, histogram: [], split: nil)]
        leaves[0].split = bestSplit(rootHistogram, leaves[0].sums)
        leaves[0].histogram = rootHistogram
        rootHistogram = []
        var scratch = [Int32](repeating: 0, count: rows.count)

        while leaves.count < settings.maxLeafNodes {
            guard let index = leaves.indices.filter({ leaves[$0].split != nil }).max(by: { leaves[$0].split!.gain < leaves[$1].split!.gain }) else { break }
            let parent = leaves[index]
            let split = parent.split!
            let middle = BinnedRows.partition(&rows, parent.start, parent.end, column: binned.baseAddress! + split.feature * rowCount,
                                              split: (split.bin, missingBin: binCounts[split.feature], split.missingLeft), scratch: &scratch)
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
            let largeHistogram = zip(parent.histogram, smallHistogram).map { $0 - $1 }
            left.histogram = leftIsSmaller ? smallHistogram : largeHistogram
            right.histogram = leftIsSmaller ? largeHistogram : smallHistogram
            left.split = bestSplit(left.histogram, left.sums)
            right.split = bestSplit(right.histogram, right.sums)
            leaves[index] = left
            leaves.append(right)
        }

        for leaf in leaves {
            var output = -leaf.sums.gradient / (leaf.sums.hessian + settings.l2)
            output = min(max(output, -settings.maxLeafOutput), settings.maxLeafOutput) * settings.learningRate
            tree.value[leaf.node] = output
            for position in leaf.start..<leaf.end { scores[Int(rows[position]) * stride + offset] += output }
        }
        return tree
    }

    /// Gradient sums per feature and bin over `rows`.
    private func histogram(_ rows: ArraySlice<Int32>, _ gradients: [Double], _ hessians: [Double]) -> [Sums] {
        var histogram = [Sums](repeating: Sums(), count: histogramSize)
        histogram.withUnsafeMutableBufferPointer { bins in
            gradients.withUnsafeBufferPointer { g in
                hessians.withUnsafeBufferPointer { h in
                    rows.withUnsafeBufferPointer { rows in
                        for feature in 0..<binCounts.count {
                            let column = binned.baseAddress! + feature * rowCount
                            let base = bins.baseAddress! + offsets[feature]
                            for row in rows {
                                let slot = base + Int(column[Int(row)])
                                slot.pointee.gradient += g[Int(row)]
                                slot.pointee.hessian += h[Int(row)]
                                slot.pointee.count += 1
                            }
                        }
                    }
                }
            }
        }
        return histogram
    }

    /// The split of largest gain, trying missing values on either side; `nil` when no split
    /// gains or every split leaves a child too small.
    private func bestSplit(_ histogram: [Sums], _ total: Sums) -> Split? {
        guard total.count >= 2 * settings.minSamplesLeaf else { return nil }
        let l2 = settings.l2
        func score(_ sums: Sums) -> Double { sums.gradient * sums.gradient / (sums.hessian + l2) }
        func allowed(_ sums: Sums) -> Bool { sums.count >= settings.minSamplesLeaf && sums.hessian >= settings.minHessian }
        let parentScore = score(total)
        var best: Split?
        var bestGain = 1e-12
        for feature in 0..<binCounts.count {
            let base = offsets[feature]
            let missing = histogram[base + binCounts[feature]]
            var left = Sums()
            func consider(_ candidate: Sums, bin: Int, missingLeft: Bool) {
                let other = total - candidate
                guard allowed(candidate), allowed(other) else { return }
                let gain = score(candidate) + score(other) - parentScore
                guard gain > bestGain else { return }
                bestGain = gain
                // Without missing values in training, missing ones go with the larger child.
                let learnedLeft = missing.count > 0 ? missingLeft : candidate.count >= other.count
                best = Split(feature: feature, bin: bin, missingLeft: learnedLeft, gain: gain, left: candidate)
            }
            for bin in 0..<binCounts[feature] {
                left = left + histogram[base + bin]
                // The last bin can only split off the missing values.
                let isLast = bin == binCounts[feature] - 1
                if isLast && missing.count == 0 { break }
                consider(left, bin: bin, missingLeft: false)
                if missing.count > 0 && !isLast { consider(left + missing, bin: bin, missingLeft: true) }
            }
        }
        return best
    }
}
