/// Grows one deep tree of a random forest on binned features, depth first, as scikit-learn's
/// `RandomForest*` do: rows weighted by how often the bootstrap drew them, a fresh random subset of
/// features tried at each node, splits chosen by the weighted Gini (classification) or variance
/// (regression) decrease. Both criteria are one formula over per-channel sums: a node of weight `W`
/// with channel sums `S_k` (one-hot classes, or the target) scores `Σ S_k² / W`, and a split gains
/// its children's scores minus its own.
struct ForestGrower {
    struct Settings {
        /// `Int.max` for no limit.
        var maxDepth: Int
        var minSamplesLeaf: Int
        /// Features to try at each node (more when none of them can split).
        var featuresPerSplit: Int
    }

    let binned: UnsafeBufferPointer<UInt8>
    let rowCount: Int
    /// Non-missing bins per feature; bin `binCounts[f]` holds feature f's missing values.
    let binCounts: [Int]
    let thresholds: [[Double]]
    /// Regression: the target values; classification: the class indices.
    let targets: [Double]
    /// 1 for regression, the number of classes for classification.
    let channels: Int
    let settings: Settings

    private var classification: Bool { channels > 1 }

    /// Per-bin statistics: weight, distinct rows, then the channel sums.
    private var statWidth: Int { channels + 2 }

    private struct Split {
        var feature = -1
        var bin = 0
        var missingLeft = false
        var gain = -Double.infinity
    }

    /// Grows a tree over the rows of positive `weights`.
    func grow(weights: [Double], generator: inout SeededGenerator) -> FlatTree {
        var rows = (0..<rowCount).filter { weights[$0] > 0 }.map(Int32.init)
        var scratch = [Int32](repeating: 0, count: rows.count)
        let featureCount = binCounts.count
        let maxBins = (binCounts.max() ?? 0) + 1
        var histogram = [Double](repeating: 0, count: maxBins * statWidth)
        var touched: [Int] = []
        var seen = [UInt64](repeating: 0, count: (maxBins + 63) / 64)
        var left = [Double](repeating: 0, count: statWidth), withMissing = left
        var features = Array(0..<featureCount)
        var tree = FlatTree(outputs: channels)
        var stack = [(node: tree.addNode(cover: rows.reduce(0) { $0 + weights[Int($1)] }), start: 0, end: rows.count, depth: 0)]

        while let (node, start, end, depth) = stack.popLast() {
            let total = sums(rows[start..<end], weights)
            let weight = total[0]
            for k in 0..<channels { tree.value[node * channels + k] = total[2 + k] / weight }
            guard depth < settings.maxDepth, end - start >= 2 * settings.minSamplesLeaf, !isPure(rows[start..<end], total) else { continue }

            var best = Split()
            var tried = 0
            var remaining = featureCount
            while remaining > 0 && (tried < settings.featuresPerSplit || best.feature < 0) {
                // Draw the next feature without replacement.
                let pick = Int(generator.next() % UInt64(remaining))
                features.swapAt(pick, remaining - 1)
                remaining -= 1
                let feature = features[remaining]
                accumulate(feature, rows[start..<end], weights, into: &histogram, touched: &touched, seen: &seen)
                // As scikit-learn, a feature constant in the node does not count as tried.
                if touched.count > 1 { tried += 1 }
                consider(feature, histogram, touched, total, &best, scratch: &left, &withMissing)
                for bin in touched { for slot in 0..<statWidth { histogram[bin * statWidth + slot] = 0 } }
            }
            guard best.feature >= 0 else { continue }

            let middle = BinnedRows.partition(&rows, start, end, column: binned.baseAddress! + best.feature * rowCount,
                                              split: (best.bin, missingBin: binCounts[best.feature], best.missingLeft), scratch: &scratch)
            let coverLeft = rows[start..<middle].reduce(0) { $0 + weights[Int($1)] }
            let (leftNode, rightNode) = tree.split(
                node, feature: best.feature, threshold: BinnedRows.threshold(after: best.bin, thresholds[best.feature]),
                missingLeft: best.missingLeft, gain: best.gain, covers: (coverLeft, weight - coverLeft))
            stack.append((rightNode, middle, end, depth + 1))
            stack.append((leftNode, start, middle, depth + 1))
        }
        tree.pack()
        return tree
    }

    /// Weight, row count and channel sums of `rows`.
    private func sums(_ rows: ArraySlice<Int32>, _ weights: [Double]) -> [Double] {
        var total = [Double](repeating: 0, count: statWidth)
        for row in rows {
            let w = weights[Int(row)]
            total[0] += w
            total[1] += 1
            if classification { total[2 + Int(targets[Int(row)])] += w } else { total[2] += w * targets[Int(row)] }
        }
        return total
    }

    /// Whether every row has the same class or value, so no split can help.
    private func isPure(_ rows: ArraySlice<Int32>, _ total: [Double]) -> Bool {
        if classification { return (0..<channels).contains { total[2 + $0] == total[0] } }
        let first = targets[Int(rows.first!)]
        return rows.allSatisfy { targets[Int($0)] == first }
    }

    /// Adds the statistics of `rows` into the histogram of `feature`; `touched` lists the bins used,
    /// ascending, read from the bitmap `seen` (all zeros before and after) rather than sorted.
    private func accumulate(_ feature: Int, _ rows: ArraySlice<Int32>, _ weights: [Double],
                            into histogram: inout [Double], touched: inout [Int], seen: inout [UInt64]) {
        touched.removeAll(keepingCapacity: true)
        let column = binned.baseAddress! + feature * rowCount
        let width = statWidth
        histogram.withUnsafeMutableBufferPointer { histogram in
            for row in rows {
                let r = Int(row)
                let base = Int(column[r]) * width
                seen[Int(column[r]) >> 6] |= 1 << UInt64(column[r] & 63)
                let w = weights[r]
                histogram[base] += w
                histogram[base + 1] += 1
                if channels > 1 { histogram[base + 2 + Int(targets[r])] += w } else { histogram[base + 2] += w * targets[r] }
            }
        }
        for word in seen.indices {
            var bits = seen[word]
            while bits != 0 {
                touched.append(word * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
            seen[word] = 0
        }
    }

    /// Updates `best` with the best split of `feature`, trying missing values on either side.
    private func consider(_ feature: Int, _ histogram: [Double], _ touched: [Int], _ total: [Double], _ best: inout Split,
                          scratch left: inout [Double], _ withMissing: inout [Double]) {
        let width = statWidth
        let missingBin = binCounts[feature]
        let hasMissing = touched.last == missingBin
        let numberBins = hasMissing ? touched.dropLast() : touched[...]
        let minimum = Double(settings.minSamplesLeaf)
        let parentScore = (2..<width).reduce(0) { $0 + total[$1] * total[$1] } / total[0]
        for slot in 0..<width { left[slot] = 0 }
        func evaluate(_ candidate: [Double], bin: Int, missingLeft: Bool) {
            let leftWeight = candidate[0], rightWeight = total[0] - candidate[0]
            guard candidate[1] >= minimum, total[1] - candidate[1] >= minimum else { return }
            var leftSquares = 0.0, rightSquares = 0.0
            for k in 2..<width {
                leftSquares += candidate[k] * candidate[k]
                rightSquares += (total[k] - candidate[k]) * (total[k] - candidate[k])
            }
            let gain = leftSquares / leftWeight + rightSquares / rightWeight - parentScore
            if gain > best.gain {
                // Without missing values in training, missing ones go with the larger child.
                let learnedLeft = hasMissing ? missingLeft : leftWeight >= rightWeight
                best = Split(feature: feature, bin: bin, missingLeft: learnedLeft, gain: gain)
            }
        }
        for (position, bin) in numberBins.enumerated() {
            for slot in 0..<width { left[slot] += histogram[bin * width + slot] }
            let isLast = position == numberBins.count - 1
            // After the last bin, a split can only separate the missing values.
            if isLast && !hasMissing { break }
            evaluate(left, bin: bin, missingLeft: false)
            if hasMissing && !isLast {
                for slot in 0..<width { withMissing[slot] = left[slot] + histogram[missingBin * width + slot] }
                evaluate(withMissing, bin: bin, missingLeft: true)
            }
        }
    }
}
