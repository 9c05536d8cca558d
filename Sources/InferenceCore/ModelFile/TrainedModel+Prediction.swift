/// The predictions for a batch of rows.
public struct Predictions: Sendable {
    public var task: LearningTask
    /// Regression: the predicted values. Classification: the index of the most probable class.
    public var values: [Double]
    /// Classification: one row of probabilities per input row, in the order of ``classes``.
    public var probabilities: Matrix?
    public var classes: [String]
    /// Per row: imputed values, unseen categories, values outside the training range.
    public var warnings: [[String]]
    /// Regression, when the model carries a calibration: each row's conformal interval.
    public var intervals: [Interval]?
    /// Classification, when the model carries a calibration: each row's prediction set (class
    /// indices, most probable first).
    public var predictionSets: [[Int]]?
    /// The share of new rows the intervals or sets are calibrated to cover.
    public var coverage: Double?

    /// A range a regression prediction falls in with the model's coverage.
    public struct Interval: Sendable, Equatable, Codable {
        public var lower: Double
        public var upper: Double
    }

    /// Classification: the predicted label of each row.
    public var labels: [String] { values.map { classes[Int($0)] } }
}

extension TrainedModel {
    /// Predicts every row of `table`. Columns that are not features (the target, an ID) are ignored.
    public func predict(_ table: DataTable, missingColumns: MissingColumnPolicy = .reject) throws -> Predictions {
        var (x, warnings) = try preprocessor.transformWithWarnings(table, missingColumns: missingColumns)
        addRangeWarnings(table, to: &warnings)
        let output = try outputs(table, encoded: x, missingColumns: missingColumns)
        let conformal = training.evaluation?.conformal
        switch task {
        case .regression:
            var predictions = Predictions(task: task, values: output.storage, probabilities: nil, classes: [], warnings: warnings)
            if let conformal, let halfWidth = conformal.halfWidth {
                predictions.intervals = output.storage.map { Predictions.Interval(lower: $0 - halfWidth, upper: $0 + halfWidth) }
                predictions.coverage = conformal.coverage
            }
            return predictions
        case .classification:
            var predictions = Predictions(task: task, values: ClassificationMetrics.predictedClasses(output).map(Double.init),
                                          probabilities: output, classes: classes, warnings: warnings)
            if let conformal, conformal.minimumProbability != nil {
                predictions.predictionSets = (0..<output.rows).map { row in
                    conformal.predictionSet(probabilities: output.row(row), inputs: x.storage[row * x.columns..<(row + 1) * x.columns])
                }
                predictions.coverage = conformal.coverage
            }
            return predictions
        }
    }

    /// The model's outputs for `table`, whose encoding by ``preprocessor`` is `x`: one column of
    /// values (regression) or of probability per class; an ensemble's members are averaged.
    func outputs(_ table: DataTable, encoded x: Matrix, missingColumns: MissingColumnPolicy = .reject) throws -> Matrix {
        if let ensemble { return try ensemble.predict(table, missingColumns: missingColumns, leadInputs: x) }
        return try model.checkedPredict(x)
    }

    /// Measures the model on a labelled table (one that holds the target column).
    public func evaluate(on table: DataTable) throws -> (metrics: [String: Double], confusionMatrix: [[Int]]?, rows: Int) {
        let targetValues = try table.column(named: target).values
        let labelled = (0..<targetValues.count).filter { !targetValues.isMissing(at: $0) }
        guard !labelled.isEmpty else {
            throw TestbedError(.unsuitableData, "the target column '\(target)' has no values to compare the predictions with")
        }
        let rows = table.selectingRows(labelled)
        let predictions = try predict(rows)
        let values = targetValues.selecting(labelled)
        switch task {
        case .regression:
            let actual = try (0..<rows.rowCount).map { row -> Double in
                guard let text = values.text(at: row), let value = NumberParser.parseEitherMark(text) else {
                    throw TestbedError(.unsuitableData, "the target '\(target)' holds '\(values.text(at: row) ?? "")' in row \(labelled[row] + 1); a regression target must be a number")
                }
                return value
            }
            return (RegressionMetrics.compute(actual: actual, predicted: predictions.values), nil, rows.rowCount)
        case .classification:
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            let actual = try (0..<rows.rowCount).map { row -> Int in
                let label = values.text(at: row)!
                guard let position = index[label] else {
                    throw TestbedError(.unsuitableData, "the label '\(label)' in row \(labelled[row] + 1) is not one of the model's classes: \(classes.joined(separator: ", "))")
                }
                return position
            }
            let probabilities = predictions.probabilities!
            let confusion = ClassificationMetrics.confusionMatrix(actual: actual, predicted: predictions.values.map { Int($0) }, classCount: classes.count)
            return (ClassificationMetrics.compute(actual: actual, probabilities: probabilities), confusion, rows.rowCount)
        }
    }

    /// `text` as a time of the timestamp feature `feature` (wall-clock seconds since 1970), or
    /// `nil` when it is not one the model can read or `feature` is not a timestamp.
    public func time(_ text: String, of feature: String) -> Double? {
        for case .time(let encoder) in preprocessor.steps where encoder.column == feature {
            return encoder.seconds(text)
        }
        return nil
    }

    /// The first present cell of a timestamp feature that is not a time the model can read
    /// (in its training layout or ISO 8601), or `nil`. Prediction reads such a cell as missing
    /// and warns; a protocol without warnings (V2) refuses it with this instead.
    public func firstUnreadableTime(in table: DataTable) -> (column: String, row: Int, text: String)? {
        for case .time(let encoder) in preprocessor.steps {
            guard let values = table.columns.first(where: { $0.name == encoder.column })?.values else { continue }
            let (codes, levels) = values.textCodes
            let readable = levels.map { encoder.seconds($0) != nil }
            if let row = codes.firstIndex(where: { $0 >= 0 && !readable[Int($0)] }) {
                return (encoder.column, row, levels[Int(codes[row])])
            }
        }
        return nil
    }

    /// The class labels as integers when every one is written as an integer is (`"3"`, not `"+3"`
    /// or `"03"`, which would read back as another label), as scikit-learn's would be; `nil`
    /// otherwise. Such labels travel as numbers: V2's INT64, MLflow's answers, ONNX's int64 label.
    public var integerClasses: [Int64]? { Self.integerLabels(classes) }

    /// `labels` as integers when every one is written as an integer is; see ``integerClasses``.
    public static func integerLabels(_ labels: [String]) -> [Int64]? {
        let integers = labels.compactMap { label in Int64(label).flatMap { String($0) == label ? $0 : nil } }
        return integers.count == labels.count ? integers : nil
    }

    /// The columns to read as text from a prediction file, so that categories and labels keep
    /// their exact spelling.
    public var textColumns: Set<String> {
        Set(features.filter { $0.kind != .numeric }.map(\.name) + [target])
    }

    private func addRangeWarnings(_ table: DataTable, to warnings: inout [[String]]) {
        for summary in training.featureSummaries {
            guard let low = summary.min, let high = summary.max,
                  let feature = features.first(where: { $0.name == summary.name }), feature.kind == .numeric,
                  case .numeric(let values)? = table.columns.first(where: { $0.name == summary.name })?.values else { continue }
            for (row, value) in values.enumerated() where value < low || value > high {
                warnings[row].append("\(summary.name): \(formatNumber(value)) is outside the training range [\(formatNumber(low)), \(formatNumber(high))]")
            }
        }
    }
}
