extension CrossValidationResult {
    /// The cross-validation figures of out-of-fold predictions made elsewhere, such as an
    /// ensemble's (the weighted average of its members'), over the folds they were made on, as
    /// ``PreparedData/crossValidate(plan:parameters:seed:importance:progress:)`` measures one model's.
    ///
    /// - Parameters:
    ///   - outOfFold: one row per target row: a value (regression) or a probability per class;
    ///     rows outside every fold's test rows are not read.
    ///   - folds: the folds the predictions were made on.
    init(outOfFold: Matrix, folds: [Fold], target: Target, plan: ValidationPlan, coverage: Double, notes: [String]) {
        self = Self.evaluate(folds: folds, outputs: folds.map { outOfFold.selectingRows($0.test) }, target: target, plan: plan,
                             coverage: coverage, notes: notes).result
    }

    /// The figures of the predictions `outputs[i]` of each fold's test rows (`folds[i].test`, in
    /// order): per-fold metrics, the confusion matrix and reliability table, the
    /// predicted-against-actual sample and the conformal calibration; with the out-of-fold
    /// predictions put together (rows no fold tested hold NaN) and which rows were tested.
    static func evaluate(folds: [Fold], outputs: [Matrix], target: Target, plan: ValidationPlan, coverage: Double, notes: [String])
        -> (result: CrossValidationResult, outOfFold: Matrix, tested: [Bool]) {
        precondition(folds.count == outputs.count, "one output per fold")
        let n = target.values.count
        let columns = target.task == .classification ? target.classes.count : 1
        var perFold: [[String: Double]] = []
        var confusion: [[Int]]? = target.task == .classification
            ? [[Int]](repeating: [Int](repeating: 0, count: target.classes.count), count: target.classes.count) : nil
        var outOfFold = Matrix(rows: n, columns: columns, repeating: .nan)
        var tested = [Bool](repeating: false, count: n)
        for (fold, output) in zip(folds, outputs) {
            let actual = fold.test.map { target.values[$0] }
            for (position, row) in fold.test.enumerated() {
                tested[row] = true
                for k in 0..<columns { outOfFold.storage[row * columns + k] = output.storage[position * columns + k] }
            }
            switch target.task {
            case .regression:
                perFold.append(RegressionMetrics.compute(actual: actual, predicted: output.storage))
            case .classification:
                let labels = actual.map { Int($0) }
                perFold.append(ClassificationMetrics.compute(actual: labels, probabilities: output))
                let foldConfusion = ClassificationMetrics.confusionMatrix(
                    actual: labels, predicted: ClassificationMetrics.predictedClasses(output), classCount: target.classes.count)
                for i in foldConfusion.indices { for j in foldConfusion.indices { confusion![i][j] += foldConfusion[i][j] } }
            }
        }
        // Time-ordered folds never test the first block: its rows are left out of what follows.
        let testedRows = (0..<n).filter { tested[$0] }
        var result = CrossValidationResult(folds: folds.count, perFold: perFold, confusionMatrix: confusion, reliability: nil, notes: notes)
        result.validation = plan
        switch target.task {
        case .regression:
            result.predictedVsActual = OutOfFoldPoint.sample(actual: testedRows.map { target.values[$0] }, predicted: testedRows.map { outOfFold.storage[$0] })
            result.conformal = .regression(actual: target.values, predicted: outOfFold.storage, coverage: coverage)
        case .classification:
            let classIndices = target.classIndices
            let testedProbabilities = testedRows.count == n ? outOfFold : outOfFold.selectingRows(testedRows)
            result.reliability = Calibration.reliabilityTable(actual: testedRows.map { classIndices[$0] }, probabilities: testedProbabilities)
            result.conformal = .classification(actual: classIndices, probabilities: outOfFold, tested: tested, coverage: coverage)
        }
        if let note = result.conformal?.shortfallNote { result.notes.append(note) }
        return (result, outOfFold, tested)
    }
}
