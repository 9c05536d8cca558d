/// The rows one fold's model learns from and the rows it is scored on (positions into the
/// prepared table).
public struct Fold: Sendable, Equatable {
    public var train: [Int]
    public var test: [Int]
}

/// Splits rows into folds for cross-validation, by a ``ValidationPlan``:
/// - random: shuffled, stratified by class for classification; the test folds cover every row once;
/// - time: expanding window (scikit-learn's `TimeSeriesSplit`): the rows in time order are cut
///   into `folds + 1` blocks, fold `i` trains on blocks `0...i` (less `gap` rows at the end) and
///   tests on block `i + 1`, so the first block is never tested; a block edge between rows of the
///   same time moves on to the next time, and rows without a time are in no fold;
/// - group: whole groups to folds (`GroupKFold`), balancing classes too for classification.
public struct FoldSplitter: Sendable {
    public var plan: ValidationPlan
    public var seed: UInt64

    public init(plan: ValidationPlan, seed: UInt64) {
        self.plan = plan
        self.seed = seed
    }

    /// Random folds, as before time and group splits existed.
    public init(folds: Int, seed: UInt64) {
        self.init(plan: .random(folds: folds), seed: seed)
    }

    /// The folds of `target`'s rows; `table` holds the time or group column, row for row with
    /// `target.values`. Also returns notes (such as classes smaller than the fold count).
    public func split(_ target: Target, table: DataTable? = nil) throws -> (folds: [Fold], notes: [String]) {
        let n = target.values.count
        let folds = plan.folds
        guard folds >= 2 else {
            throw TestbedError(.invalidParameter, "folds == \(folds), must be >= 2")
        }
        // Checked before any arithmetic on them: both come from a person or a model file.
        guard folds <= n else {
            throw TestbedError(.unsuitableData, "cannot make \(folds) folds from \(n) rows; use --folds \(max(2, n)) or fewer")
        }
        guard plan.gap >= 0 else {
            throw TestbedError(.invalidParameter, "gap == \(plan.gap), must be >= 0")
        }
        if let table, table.rowCount != n {
            throw TestbedError(.shapeMismatch, "the table has \(table.rowCount) rows and the target \(n)")
        }
        switch plan.scheme {
        case .random:
            let (tests, notes) = try randomTestFolds(target)
            return (tests.map { Fold(train: complement(of: $0, in: n), test: $0) }, notes)
        case .time:
            return try timeFolds(target, times: try column(plan.timeColumn, of: table))
        case .group:
            return try groupFolds(target, groups: try column(plan.groupColumn, of: table))
        }
    }

    private func column(_ name: String?, of table: DataTable?) throws -> ColumnValues {
        guard let name, let table else {
            throw TestbedError(.invalidParameter, "a \(plan.scheme.rawValue) split needs its column")
        }
        return try table.column(named: name).values
    }

    private func complement(of test: [Int], in n: Int) -> [Int] {
        var isTest = [Bool](repeating: false, count: n)
        for row in test { isTest[row] = true }
        return (0..<n).filter { !isTest[$0] }
    }

    private func randomTestFolds(_ target: Target) throws -> ([[Int]], [String]) {
        let n = target.values.count
        var generator = SeededGenerator(seed: seed)
        var notes: [String] = []
        var order: [Int]
        switch target.task {
        case .regression:
            order = Array(0..<n)
            generator.shuffle(&order)
        case .classification:
            var members = classMembers(target)
            // A class with one row cannot be both learnt and tested: it stays in every fold's
            // training rows (as scikit-learn's stratified split would put it in one test fold,
            // where no model could have learnt it) and is never tested.
            let single = members.indices.filter { members[$0].count == 1 }
            if !single.isEmpty {
                let names = single.map { "'\(target.classes[$0])'" }.joined(separator: ", ")
                notes.append("class \(names) of the target has only one row: it is learnt from in every fold and never tested, so the figures say nothing about \(single.count == 1 ? "it" : "them")")
                for index in single { members[index] = [] }
            }
            let small = members.indices.filter { members[$0].count < plan.folds && !members[$0].isEmpty }
            if !small.isEmpty {
                notes.append("class \(small.map { "'\(target.classes[$0])' (\(members[$0].count) rows)" }.joined(separator: ", ")) has fewer rows than the \(plan.folds) folds; some test folds lack it")
            }
            // Dealing each shuffled class round-robin, continuing where the last class stopped,
            // keeps both class shares and fold sizes even.
            order = []
            for var group in members {
                generator.shuffle(&group)
                order += group
            }
        }
        var testFolds = [[Int]](repeating: [], count: plan.folds)
        for (index, position) in order.enumerated() { testFolds[index % plan.folds].append(position) }
        return (testFolds.map { $0.sorted() }, notes)
    }

    private func classMembers(_ target: Target) -> [[Int]] {
        var members = [[Int]](repeating: [], count: target.classes.count)
        for (position, label) in target.classIndices.enumerated() { members[label].append(position) }
        return members
    }

    private func timeFolds(_ target: Target, times: ColumnValues) throws -> (folds: [Fold], notes: [String]) {
        let name = plan.timeColumn ?? ""
        let keys: [Double]
        switch times {
        case .numeric(let numbers):
            keys = numbers
        case .text(let codes, let levels):
            guard let format = plan.timeFormat else { throw ValidationPlan.notTimes(name, first: levels.first) }
            keys = Preprocessor.seconds(codes: codes, levels: levels, format: format, wallClock: false)
        }
        // A row without a readable time cannot be placed in time: it is left out of every fold
        // (the final model still learns from it).
        let timed = keys.indices.filter { !keys[$0].isNaN }
        var notes: [String] = []
        if timed.count < keys.count {
            notes.append("\(keys.count - timed.count) row\(keys.count - timed.count == 1 ? " has" : "s have") no readable time in '\(name.clipped())' and \(keys.count - timed.count == 1 ? "is" : "are") left out of the time-ordered folds")
        }
        let n = timed.count
        let blocks = plan.folds + 1
        guard n / blocks >= 1 else {
            throw TestbedError(.unsuitableData, "cannot make \(plan.folds) time-ordered folds from \(n) rows with a time: each needs a later block to test on; use fewer folds")
        }
        // Stable: rows recorded at the same time keep their file order.
        let order = timed.sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
        // Block edges as in scikit-learn's TimeSeriesSplit, each moved on to the next new time so
        // that rows recorded at the same time (several machines) are never on both sides.
        let size = n / blocks
        var edges = (0..<plan.folds).map { n - (plan.folds - $0) * size } + [n]
        for index in 0..<plan.folds {
            var edge = max(edges[index], index > 0 ? edges[index - 1] + 1 : 0)
            while edge > 0 && edge < n && keys[order[edge]] == keys[order[edge - 1]] { edge += 1 }
            // Never past the last row: a block pushed there tests nothing and is refused below.
            edges[index] = min(edge, n)
        }
        let folds = try (0..<plan.folds).map { fold -> Fold in
            let (testStart, testEnd) = (edges[fold], edges[fold + 1])
            guard testEnd > testStart else {
                throw TestbedError(.unsuitableData, "time-ordered fold \(fold + 1) would test no rows: too many rows share their time in '\(name.clipped())' for \(plan.folds) folds; use fewer folds")
            }
            let trainEnd = testStart - plan.gap
            guard trainEnd >= 2 else {
                throw TestbedError(.invalidParameter, "gap == \(plan.gap) leaves time-ordered fold \(fold + 1) with \(max(trainEnd, 0)) training rows (its test block starts at row \(testStart + 1) of \(n) in time order); use a gap below \(testStart - 1) or fewer folds")
            }
            return Fold(train: order[0..<trainEnd].sorted(), test: order[testStart..<testEnd].sorted())
        }
        return (folds, notes)
    }

    private func groupFolds(_ target: Target, groups: ColumnValues) throws -> (folds: [Fold], notes: [String]) {
        let name = plan.groupColumn ?? ""
        let (codes, levels) = groups.textCodes
        // A missing group is one group of its own, "(missing)".
        let groupOf = codes.map { $0 < 0 ? levels.count : Int($0) }
        var members = [[Int]](repeating: [], count: levels.count + 1)
        for (row, group) in groupOf.enumerated() { members[group].append(row) }
        let present = members.indices.filter { !members[$0].isEmpty }
        guard present.count >= plan.folds else {
            throw TestbedError(.unsuitableData, "the group column '\(name.clipped())' has \(present.count) group\(present.count == 1 ? "" : "s"); a group split with \(plan.folds) folds needs at least \(plan.folds) (every group is tested by a model that never saw it)")
        }
        let classCount = target.task == .classification ? target.classes.count : 0
        var groupClasses = [[Double]](repeating: [Double](repeating: 0, count: classCount), count: members.count)
        var totals = [Double](repeating: 0, count: classCount)
        for (row, group) in groupOf.enumerated() where classCount > 0 {
            groupClasses[group][target.classIndices[row]] += 1
            totals[target.classIndices[row]] += 1
        }
        var generator = SeededGenerator(seed: seed)
        var ordered = present
        generator.shuffle(&ordered)
        // GroupKFold puts the largest groups first, each into the smallest fold; for classes,
        // StratifiedGroupKFold's order and rule: the groups whose classes are most uneven first,
        // each into the fold where every class's share of its rows stays closest to 1/folds.
        if classCount > 0 {
            let spread = groupClasses.map { counts in counts.meanAndStandardDeviation().std }
            ordered.sort { spread[$0] > spread[$1] }
        } else {
            ordered.sort { members[$0].count > members[$1].count }
        }
        var foldOf = [Int](repeating: 0, count: members.count)
        var size = [Int](repeating: 0, count: plan.folds)
        var classesIn = [[Double]](repeating: [Double](repeating: 0, count: classCount), count: plan.folds)
        let even = 1 / Double(plan.folds)
        for group in ordered {
            // The change in the squared distance of each class's share per fold from an even share.
            func cost(_ fold: Int) -> Double {
                guard classCount > 0 else { return Double(size[fold]) }
                var change = 0.0
                for c in 0..<classCount where totals[c] > 0 {
                    let (before, after) = (classesIn[fold][c] / totals[c] - even, (classesIn[fold][c] + groupClasses[group][c]) / totals[c] - even)
                    change += after * after - before * before
                }
                return change
            }
            let best = (0..<plan.folds).min { a, b in
                let (costA, costB) = (cost(a), cost(b))
                return costA != costB ? costA < costB : size[a] < size[b]
            }!
            foldOf[group] = best
            size[best] += members[group].count
            for c in 0..<classCount { classesIn[best][c] += groupClasses[group][c] }
        }
        var tests = [[Int]](repeating: [], count: plan.folds)
        for (row, group) in groupOf.enumerated() { tests[foldOf[group]].append(row) }
        let n = target.values.count
        return (tests.map { Fold(train: complement(of: $0, in: n), test: $0) }, [])
    }
}
