/// What a model predicts.
public enum LearningTask: String, Sendable, Codable, CaseIterable {
    case regression
    case classification
}

/// The target column prepared for training: rows with a missing target left out, classes
/// found and encoded as indices.
public struct Target: Sendable, Equatable {
    public var task: LearningTask
    /// Regression: the values. Classification: the class index of each row.
    public var values: [Double]
    /// Classification: the class labels as written in the file, in index order.
    public var classes: [String]
    /// The rows of the table that have a target value, in order.
    public var rows: [Int]
    /// How the task was chosen, and what was left out.
    public var notes: [String]

    /// Class indices as integers.
    public var classIndices: [Int] { values.map { Int($0) } }

    /// Prepares `column` as the target. Without a `task`, a text column or a numeric one with at
    /// most ten distinct integer values means classification; any other numeric column regression.
    public init(_ column: Column, task requestedTask: LearningTask?) throws {
        let (codes, levels) = column.values.textCodes
        let name = column.name
        rows = codes.indices.filter { codes[$0] >= 0 }
        var notes: [String] = []
        if rows.count < codes.count {
            notes.append("\(codes.count - rows.count) rows with no value in the target '\(name.clipped())' were left out")
        }
        let usedLevels = Set(rows.map { codes[$0] })
        guard usedLevels.count >= 2 else {
            let value = usedLevels.first.map { "'\(levels[Int($0)].clipped())'" } ?? "no value"
            throw TestbedError(.unsuitableData, "the target '\(name.clipped())' has \(value) in all \(rows.count) rows; a target needs at least two distinct values to learn from")
        }
        let numbers = levels.map(NumberParser.parseEitherMark)
        let numeric = usedLevels.allSatisfy { numbers[Int($0)] != nil }
        let task: LearningTask
        if let requestedTask {
            task = requestedTask
        } else if Self.inferredTask(numeric: numeric, distinctValues: usedLevels.count,
                                    allIntegers: numeric && usedLevels.allSatisfy { numbers[Int($0)]!.rounded() == numbers[Int($0)]! }) == .regression {
            task = .regression
            notes.append("task: regression (the target '\(name.clipped())' is numeric with \(usedLevels.count) distinct values); use --task classification to change it")
        } else {
            task = .classification
            notes.append("task: classification (the target '\(name.clipped())' has \(usedLevels.count) distinct \(numeric ? "integer values" : "values")); use --task regression to change it")
        }
        self.task = task
        switch task {
        case .regression:
            guard numeric else {
                let example = usedLevels.map { levels[Int($0)] }.first { level in numbers[levels.firstIndex(of: level)!] == nil }!
                throw TestbedError(.unsuitableData, "the target '\(name.clipped())' holds text such as '\(example.clipped())'; regression needs numbers, use classification for categories")
            }
            values = rows.map { numbers[Int(codes[$0])]! }
            classes = []
        case .classification:
            // As scikit-learn's LabelEncoder: numeric labels in numeric order, text in code-point order.
            let used = usedLevels.map { Int($0) }
            let ordered = numeric
                ? used.sorted { numbers[$0]! < numbers[$1]! }
                : used.sorted { levels[$0].unicodeScalarsPrecede(levels[$1]) }
            var classOf = [Int](repeating: -1, count: levels.count)
            for (index, level) in ordered.enumerated() { classOf[level] = index }
            classes = ordered.map { levels[$0] }
            values = rows.map { Double(classOf[Int(codes[$0])]) }
        }
        self.notes = notes
    }

    /// The task a target with these values means when none is asked for: regression for numbers,
    /// unless there are at most ten distinct whole numbers (class codes); classification for text.
    public static func inferredTask(numeric: Bool, distinctValues: Int, allIntegers: Bool) -> LearningTask {
        numeric && !(distinctValues <= 10 && allIntegers) ? .regression : .classification
    }

    /// A target with given values, for tests and internal use.
    public init(task: LearningTask, values: [Double], classes: [String] = []) {
        self.task = task
        self.values = values
        self.classes = classes
        self.rows = Array(values.indices)
        self.notes = []
    }

    /// The target restricted to positions `indices` of ``values``.
    public func selecting(_ indices: [Int]) -> Target {
        var copy = self
        copy.values = indices.map { values[$0] }
        copy.rows = indices.map { rows[$0] }
        return copy
    }
}
