/// Splits rows into k folds for cross-validation: shuffled, and stratified by class for
/// classification so that each fold has about the same class shares.
public struct FoldSplitter: Sendable {
    public var folds: Int
    public var seed: UInt64

    public init(folds: Int, seed: UInt64) {
        self.folds = folds
        self.seed = seed
    }

    /// The test positions of each fold (positions into `target.values`); together they cover
    /// every row exactly once. Also returns notes (such as classes smaller than the fold count).
    public func split(_ target: Target) throws -> (testFolds: [[Int]], notes: [String]) {
        let n = target.values.count
        guard folds >= 2 else {
            throw TestbedError(.invalidParameter, "folds == \(folds), must be >= 2")
        }
        guard folds <= n else {
            throw TestbedError(.unsuitableData, "cannot make \(folds) folds from \(n) rows; use --folds \(max(2, n)) or fewer")
        }
        var generator = SeededGenerator(seed: seed)
        var notes: [String] = []
        var order: [Int]
        switch target.task {
        case .regression:
            order = Array(0..<n)
            generator.shuffle(&order)
        case .classification:
            var members = [[Int]](repeating: [], count: target.classes.count)
            for (position, label) in target.classIndices.enumerated() { members[label].append(position) }
            let single = members.indices.filter { members[$0].count == 1 }
            if !single.isEmpty {
                let names = single.map { "'\(target.classes[$0])'" }.joined(separator: ", ")
                throw TestbedError(.unsuitableData, "class \(names) of the target has only one row; k-fold evaluation needs at least 2 rows per class, so that a model can be trained on it and tested on it. Remove or relabel those rows")
            }
            let small = members.indices.filter { members[$0].count < folds && !members[$0].isEmpty }
            if !small.isEmpty {
                notes.append("class \(small.map { "'\(target.classes[$0])' (\(members[$0].count) rows)" }.joined(separator: ", ")) has fewer rows than the \(folds) folds; some test folds lack it")
            }
            // Dealing each shuffled class round-robin, continuing where the last class stopped,
            // keeps both class shares and fold sizes even.
            order = []
            for var group in members {
                generator.shuffle(&group)
                order += group
            }
        }
        var testFolds = [[Int]](repeating: [], count: folds)
        for (index, position) in order.enumerated() { testFolds[index % folds].append(position) }
        return (testFolds.map { $0.sorted() }, notes)
    }
}
