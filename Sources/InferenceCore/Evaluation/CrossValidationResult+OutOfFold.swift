extension CrossValidationResult {
    /// The cross-validation figures of out-of-fold predictions made elsewhere, such as an
    /// ensemble's (the weighted average of its members'), over the folds they were made on:
    /// per-fold metrics, the confusion matrix and reliability table, the predicted-against-actual
    /// sample and the conformal calibration, as ``PreparedData/crossValidate(plan:parameters:seed:importance:progress:)``
    /// measures one model's.
    ///
    /// - Parameters:
    ///   - outOfFold: one row per target row: a value (regression) or a probability per class;
    ///     rows outside every fold's test rows are not read.
    ///   - folds: the folds the predictions were made on.
    init(outOfFold: Matrix, folds: [Fold], target: Target, plan: ValidationPlan, coverage: Double, notes: [String]) {
        let n = target.values.count
        var perFold: [[String: Double]] = []
        var confusion: [[Int]]? = target.task == .classification
            ? [[Int]](repeating: [Int](repeating: 0, count: target.classes.count), count: target.classes.count) : nil
        var tested = [Bool](repeating: false, count: n)
        for fold in folds {
            let actual = fold.test.map { target.values[$0] }
            let output = outOfFold.selectingRows(fold.test)
            for row in fold.test { tested[row] = true }
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
        let testedRows = (0..<n).filter { tested[$0] }
        self.init(folds: folds.count, perFold: perFold, confusionMatrix: confusion, reliability: nil, notes: notes)
        validation = plan
        switch target.task {
        case .regression:
            let predicted = (0..<n).map { tested[$0] ? outOfFold[$0, 0] : .nan }
            predictedVsActual = OutOfFoldPoint.sample(actual: testedRows.map { target.values[$0] }, predicted: testedRows.map { predicted[$0] })
            conformal = .regression(actual: target.values, predicted: predicted, coverage: coverage)
        case .classification:
            let classIndices = target.classIndices
            reliability = Calibration.reliabilityTable(actual: testedRows.map { classIndices[$0] }, probabilities: outOfFold.selectingRows(testedRows))
            conformal = .classification(actual: classIndices, probabilities: outOfFold, tested: tested, coverage: coverage)
        }
        if let note = conformal?.shortfallNote { self.notes.append(note) }
    }
}
