/// Path-dependent TreeSHAP (Lundberg, Erion & Lee, "Consistent individualized feature attribution
/// for tree ensembles", algorithm 2): the exact Shapley values of a tree's output, where leaving a
/// feature out means following both children weighted by their training cover. Polynomial time:
/// O(leaves · depth²) per row and tree.
struct TreeSHAP {
    struct PathElement {
        var feature: Int
        var zeroFraction: Double
        var oneFraction: Double
        var weight: Double
    }

    private let nodes: TreeNodes
    /// The contribution columns of one row's output (the tree's outputs, each `width` long).
    private let phi: UnsafeMutablePointer<Double>
    private let width: Int
    private let row: UnsafePointer<Double>
    private let scale: Double
    /// `reciprocal[k] == 1 / k`, for every `k` a path can need.
    private let reciprocal: UnsafePointer<Double>

    /// Room for the paths of trees up to `depth` splits deep, and the reciprocals they need.
    struct Workspace {
        let path: UnsafeMutableBufferPointer<PathElement>
        let reciprocal: UnsafeMutableBufferPointer<Double>

        init(depth: Int) {
            path = .allocate(capacity: (depth + 2) * (depth + 3) / 2)
            path.initialize(repeating: PathElement(feature: -1, zeroFraction: 0, oneFraction: 0, weight: 0))
            reciprocal = .allocate(capacity: depth + 3)
            for k in reciprocal.indices { reciprocal[k] = 1 / Double(k) }
        }

        func deallocate() {
            path.deallocate()
            reciprocal.deallocate()
        }
    }

    /// Adds `scale` times the SHAP values of `tree` for `row` into `phi` (`tree.outputs` blocks of
    /// `width`), using a workspace for a depth at least the tree's.
    static func add(_ tree: FlatTree, row: UnsafePointer<Double>, width: Int, scale: Double,
                    into phi: UnsafeMutablePointer<Double>, workspace: Workspace) {
        let explainer = TreeSHAP(nodes: tree.nodes, phi: phi, width: width, row: row, scale: scale,
                                 reciprocal: workspace.reciprocal.baseAddress!)
        explainer.recurse(node: 0, parentPath: workspace.path.baseAddress!, uniqueDepth: 0, zeroFraction: 1, oneFraction: 1, feature: -1)
    }

    /// The output averaged over the training rows (by cover): the base of the contributions.
    static func expectedValue(_ tree: FlatTree) -> [Double] {
        var expected = [Double](repeating: 0, count: tree.outputs)
        for node in 0..<tree.nodeCount where tree.feature[node] < 0 {
            for k in 0..<tree.outputs { expected[k] += tree.value[node * tree.outputs + k] * tree.cover[node] / tree.cover[0] }
        }
        return expected
    }

    private func recurse(node: Int, parentPath: UnsafeMutablePointer<PathElement>, uniqueDepth: Int,
                         zeroFraction: Double, oneFraction: Double, feature: Int) {
        // Each level works on its own copy of the path, after its parent's.
        let path = parentPath + uniqueDepth + 1
        path.update(from: parentPath, count: uniqueDepth + 1)
        extend(path, uniqueDepth, zeroFraction, oneFraction, feature)

        if nodes.isLeaf(node) {
            guard uniqueDepth > 0 else { return }
            for i in 1...uniqueDepth {
                let element = path[i]
                let factor = unwoundSum(path, uniqueDepth, i) * (element.oneFraction - element.zeroFraction) * scale
                for k in 0..<nodes.outputs { phi[k * width + element.feature] += factor * nodes.value[node * nodes.outputs + k] }
            }
            return
        }
        let splitFeature = nodes.feature(node)
        let hot = nodes.child(node, row)
        let cold = hot == nodes.left(node) ? nodes.right(node) : nodes.left(node)
        var depth = uniqueDepth
        var incomingZero = 1.0, incomingOne = 1.0
        // A feature met again on the path is undone first, so it counts once.
        for index in 1..<(depth + 1) where path[index].feature == splitFeature {
            (incomingZero, incomingOne) = (path[index].zeroFraction, path[index].oneFraction)
            unwind(path, depth, index)
            depth -= 1
            break
        }
        let cover = nodes.cover[node]
        recurse(node: hot, parentPath: path, uniqueDepth: depth + 1,
                zeroFraction: nodes.cover[hot] / cover * incomingZero, oneFraction: incomingOne, feature: splitFeature)
        recurse(node: cold, parentPath: path, uniqueDepth: depth + 1,
                zeroFraction: nodes.cover[cold] / cover * incomingZero, oneFraction: 0, feature: splitFeature)
    }

    // The three path operations of the paper, with every division by a whole number replaced by a
    // multiplication with `reciprocal` (they ran at the speed of the divider otherwise).

    private func extend(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ zero: Double, _ one: Double, _ feature: Int) {
        path[depth] = PathElement(feature: feature, zeroFraction: zero, oneFraction: one, weight: depth == 0 ? 1 : 0)
        let inverseTotal = reciprocal[depth + 1]
        for i in stride(from: depth - 1, through: 0, by: -1) {
            path[i + 1].weight += one * path[i].weight * Double(i + 1) * inverseTotal
            path[i].weight = zero * path[i].weight * Double(depth - i) * inverseTotal
        }
    }

    private func unwind(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int) {
        let one = path[index].oneFraction, zero = path[index].zeroFraction
        let total = Double(depth + 1), inverseTotal = reciprocal[depth + 1]
        if one != 0 {
            var next = path[depth].weight
            let scale = total / one
            for i in stride(from: depth - 1, through: 0, by: -1) {
                let previous = path[i].weight
                path[i].weight = next * scale * reciprocal[i + 1]
                next = previous - path[i].weight * zero * Double(depth - i) * inverseTotal
            }
        } else {
            let scale = total / zero
            for i in stride(from: depth - 1, through: 0, by: -1) { path[i].weight *= scale * reciprocal[depth - i] }
        }
        for i in index..<depth {
            path[i].feature = path[i + 1].feature
            path[i].zeroFraction = path[i + 1].zeroFraction
            path[i].oneFraction = path[i + 1].oneFraction
        }
    }

    /// The total weight of the path with element `index` undone, without changing it.
    private func unwoundSum(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ index: Int) -> Double {
        let one = path[index].oneFraction, zero = path[index].zeroFraction
        let total = Double(depth + 1)
        var sum = 0.0
        if one != 0 {
            var next = path[depth].weight
            let scale = total / one, fall = zero * reciprocal[depth + 1]
            for i in stride(from: depth - 1, through: 0, by: -1) {
                let weight = next * scale * reciprocal[i + 1]
                sum += weight
                next = path[i].weight - weight * fall * Double(depth - i)
            }
        } else if zero != 0 {
            let scale = total / zero
            for i in stride(from: depth - 1, through: 0, by: -1) { sum += path[i].weight * scale * reciprocal[depth - i] }
        }
        return sum
    }
}

extension BoostedTrees: ExplainableModel, GainImportanceModel {
    public func contributions(_ x: Matrix) -> Contributions {
        var base = baseline
        for (index, tree) in trees.enumerated() { base[index % outputs] += TreeSHAP.expectedValue(tree)[0] }
        var result = Contributions(scale: contributionScale, base: base, rows: x.rows, width: x.columns)
        addContributions(of: trees, x, outputOf: { $0 % outputs }, scale: 1, into: &result)
        return result
    }

    public var contributionScale: ContributionScale { loss == .squaredError ? .value : .logOdds }

    public func gainImportance() -> [Double] { treeGainImportance(trees, width: inputWidth) }
}

extension ForestModel: ExplainableModel, GainImportanceModel {
    public func contributions(_ x: Matrix) -> Contributions {
        let scale = 1 / Double(trees.count)
        var base = [Double](repeating: 0, count: outputs)
        for tree in trees { for (k, value) in TreeSHAP.expectedValue(tree).enumerated() { base[k] += scale * value } }
        var result = Contributions(scale: contributionScale, base: base, rows: x.rows, width: x.columns)
        addContributions(of: trees, x, outputOf: { _ in 0 }, scale: scale, into: &result)
        return result
    }

    public var contributionScale: ContributionScale { outputs == 1 ? .value : .probability }

    public func gainImportance() -> [Double] { treeGainImportance(trees, width: inputWidth) }
}

/// Adds every tree's SHAP values for every row; tree `t` writes from output `outputOf(t)` on.
private func addContributions(of trees: [FlatTree], _ x: Matrix, outputOf: (Int) -> Int, scale: Double, into result: inout Contributions) {
    let (width, outputs) = (result.width, result.outputs)
    let workspace = TreeSHAP.Workspace(depth: trees.map(\.depth).max() ?? 0)
    defer { workspace.deallocate() }
    x.storage.withUnsafeBufferPointer { inputs in
        result.values.withUnsafeMutableBufferPointer { values in
            for row in 0..<x.rows {
                let input = inputs.baseAddress! + row * x.columns
                for (index, tree) in trees.enumerated() {
                    let phi = values.baseAddress! + (row * outputs + outputOf(index)) * width
                    TreeSHAP.add(tree, row: input, width: width, scale: scale, into: phi, workspace: workspace)
                }
            }
        }
    }
}

private func treeGainImportance(_ trees: [FlatTree], width: Int) -> [Double] {
    var importance = [Double](repeating: 0, count: width)
    for tree in trees { tree.addGains(to: &importance) }
    return normalizedShares(importance)
}
