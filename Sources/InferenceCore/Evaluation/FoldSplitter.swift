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
///   tests on block `i + 1`, so the first block is never tested;
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
        switch plan.scheme {
        case .random:
            guard folds <= n else {
                throw TestbedError(.unsuitableData, "cannot make \(folds) folds from \(n) rows; use --folds \(max(2, n)) or fewer")
            }
            let (tests, notes) = try randomTestFolds(target)
            return (tests.map { Fold(train: complement(of: $0, in: n), test: $0) }, notes)
        case .time:
            return (try timeFolds(target, times: try column(plan.timeColumn, of: table)), [])
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
            let members = try classMembers(target)
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

    private func classMembers(_ target: Target) throws -> [[Int]] {
        var members = [[Int]](repeating: [], count: target.classes.count)
        for (position, label) in target.classIndices.enumerated() { members[label].append(position) }
        let single = members.indices.filter { members[$0].count == 1 }
        if !single.isEmpty {
            let names = single.map { "'\(target.classes[$0])'" }.joined(separator: ", ")
            throw TestbedError(.unsuitableData, "class \(names) of the target has only one row; k-fold evaluation needs at least 2 rows per class, so that a model can be trained on it and tested on it. Remove or relabel those rows")
        }
        return members
    }

    private func timeFolds(_ target: Target, times: ColumnValues) throws -> [Fold] {
        let name = plan.timeColumn ?? ""
        let keys = try TimeKeys.seconds(of: times, column: name)
        let n = keys.count
        if let row = keys.firstIndex(where: \.isNaN) {
            throw TestbedError(.unsuitableData, "the time column '\(name.clipped())' has no value in row \(row + 1); a time split needs every row's time (fill it or leave the row out)")
        }
        let blocks = plan.folds + 1
        let testSize = n / blocks
        guard testSize >= 1 else {
            throw TestbedError(.unsuitableData, "cannot make \(plan.folds) time-ordered folds from \(n) rows: each needs a later block to test on; use fewer folds")
        }
        // Stable: rows recorded at the same time keep their file order.
        let order = (0..<n).sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : $0 < $1 }
        return try (0..<plan.folds).map { fold in
            let testStart = n - (plan.folds - fold) * testSize
            let trainEnd = testStart - plan.gap
            guard trainEnd >= 2 else {
                throw TestbedError(.invalidParameter, "gap == \(plan.gap) leaves time-ordered fold \(fold + 1) with \(max(trainEnd, 0)) training rows (its test block starts at row \(testStart + 1) of \(n) in time order); use a gap below \(testStart - 1) or fewer folds")
            }
            return Fold(train: order[0..<trainEnd].sorted(), test: order[testStart..<(testStart + testSize)].sorted())
        }
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
        var generator = SeededGenerator(seed: seed)
        var shuffled = present
        generator.shuffle(&shuffled)
        // Largest groups first, each to the fold where it does least harm: the smallest fold
        // (GroupKFold), or for classes the fold whose class counts stay closest to an even share
        // of each class (StratifiedGroupKFold's greedy rule).
        let ordered = shuffled.sorted { members[$0].count > members[$1].count }
        var foldOf = [Int](repeating: 0, count: members.count)
        var size = [Int](repeating: 0, count: plan.folds)
        let classCount = target.task == .classification ? target.classes.count : 0
        var classesIn = [[Double]](repeating: [Double](repeating: 0, count: classCount), count: plan.folds)
        var totals = [Double](repeating: 0, count: classCount)
        if classCount > 0 { for label in target.classIndices { totals[label] += 1 } }
        for group in ordered {
            var groupClasses = [Double](repeating: 0, count: classCount)
            if classCount > 0 { for row in members[group] { groupClasses[target.classIndices[row]] += 1 } }
            let best = (0..<plan.folds).min { a, b in
                let (costA, costB) = (cost(of: group, in: a), cost(of: group, in: b))
                return costA != costB ? costA < costB : size[a] < size[b]
            }!
            func cost(of group: Int, in fold: Int) -> Double {
                guard classCount > 0 else { return Double(size[fold]) }
                var squares = 0.0
                for c in 0..<classCount {
                    let share = totals[c] / Double(plan.folds)
                    let after = classesIn[fold][c] + groupClasses[c]
                    squares += (after - share) * (after - share) - (classesIn[fold][c] - share) * (classesIn[fold][c] - share)
                }
                return squares
            }
            foldOf[group] = best
            size[best] += members[group].count
            for c in 0..<classCount { classesIn[best][c] += groupClasses[c] }
        }
        var tests = [[Int]](repeating: [], count: plan.folds)
        for (row, group) in groupOf.enumerated() { tests[foldOf[group]].append(row) }
        let n = target.values.count
        return (tests.map { Fold(train: complement(of: $0, in: n), test: $0) }, [])
    }
}

/// A time column as seconds: timestamps parsed in the column's one layout, numbers as they are.
enum TimeKeys {
    static func seconds(of values: ColumnValues, column name: String) throws -> [Double] {
        switch values {
        case .numeric(let numbers):
            return numbers
        case .text(let codes, let levels):
            switch TimestampParser.detect(codes: codes, levels: levels) {
            case .timestamps(_, let seconds):
                return seconds
            case .mixed(let majority, let row, let text):
                throw TestbedError(.unsuitableData, "the time column '\(name.clipped())' mixes forms: most cells are \(majority.description), but row \(row + 1) has '\(text)'")
            case .notTimestamps:
                let first = levels.first.map { " (such as '\($0.clipped(to: 40))')" } ?? ""
                throw TestbedError(.unsuitableData, "the time column '\(name.clipped())' cannot be read as times\(first); expected dates or date-times such as 2026-01-05 13:45:00 or 05.01.2026, or numbers")
            }
        }
    }
}
