extension PreparedData {
    /// The out-of-fold predictions of a cross-validation by ``plan`` (the folds
    /// ``crossValidate(plan:parameters:seed:importance:progress:)`` uses with the same seed): one
    /// row per prepared row, a value (regression) or a probability per class, each from the fold
    /// model that did not see the row; NaN for rows no fold tests (the first block of
    /// time-ordered folds).
    public func outOfFoldPredictions(parameters: Hyperparameters, seed: UInt64) throws -> Matrix {
        let (folds, _) = try FoldSplitter(plan: plan, seed: seed).split(target, table: table)
        let width = target.task == .regression ? 1 : target.classes.count
        var predictions = Matrix(rows: target.values.count, columns: width, repeating: .nan)
        for fold in folds {
            let (preprocessor, model) = try fit(rows: fold.train, parameters: parameters, seed: seed)
            let output = try model.checkedPredict(preprocessor.transform(table.selectingRows(fold.test)))
            for (position, row) in fold.test.enumerated() {
                for k in 0..<width { predictions[row, k] = output[position, k] }
            }
        }
        return predictions
    }
}
