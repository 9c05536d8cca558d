import Testing
@testable import InferenceCore

@Suite("Targets and cross-validation")
struct EvaluationTests {
    @Test func foldsCoverEveryRowOnceAndAreStratified() throws {
        let target = try Target(TestData.table("Glass.csv", target: "Type").column(named: "Type"), task: nil)
        let folds = try FoldSplitter(folds: 5, seed: 3).split(target).folds.map(\.test)
        #expect(folds.flatMap { $0 }.sorted() == Array(0..<214))
        // Class '2' has 76 rows: each fold gets 15 or 16 of them.
        let classTwo = target.classes.firstIndex(of: "2")!
        for fold in folds {
            let count = fold.filter { target.classIndices[$0] == classTwo }.count
            #expect(count == 15 || count == 16)
        }
    }

    @Test func splitIsDeterministicForASeed() throws {
        let target = Target(task: .regression, values: (0..<50).map(Double.init))
        let a = try FoldSplitter(folds: 4, seed: 9).split(target).folds.map(\.test)
        #expect(a == (try FoldSplitter(folds: 4, seed: 9).split(target).folds.map(\.test)))
        #expect(a != (try FoldSplitter(folds: 4, seed: 10).split(target).folds.map(\.test)))
    }

    @Test func aClassWithOneRowIsLearntInEveryFoldAndNeverTested() throws {
        let target = Target(task: .classification, values: [0, 0, 0, 1, 1, 1, 2], classes: ["ok", "worn", "broken"])
        let (folds, notes) = try FoldSplitter(folds: 3, seed: 0).split(target)
        #expect(folds.allSatisfy { $0.train.contains(6) && !$0.test.contains(6) })
        #expect(folds.flatMap(\.test).sorted() == Array(0..<6))
        #expect(notes.contains { $0.hasPrefix("class 'broken' of the target has only one row: it is learnt from in every fold and never tested") })
    }

    @Test func moreFoldsThanRows() {
        #expect(throws: TestbedError(.unsuitableData, "cannot make 10 folds from 4 rows; use --folds 4 or fewer")) {
            try FoldSplitter(folds: 10, seed: 0).split(Target(task: .regression, values: [1, 2, 3, 4]))
        }
    }

    @Test func targetWithOneValue() throws {
        let table = try TestData.table(csv: "x,y\n1,5\n2,5\n3,5\n", options: CSVReadOptions(textColumns: ["y"]))
        #expect(throws: TestbedError(.unsuitableData, "the target 'y' has '5' in all 3 rows; a target needs at least two distinct values to learn from")) {
            try Target(table.column(named: "y"), task: nil)
        }
    }

    @Test func unknownTargetListsTheColumns() throws {
        let error = try #require(throws: TestbedError.self) {
            try PreparedData(TestData.table("Servo.csv"), spec: TrainingSpec(target: "class"))
        }
        #expect(error.message == "there is no column 'class'; the columns are: 'Motor', 'Screw', 'Pgain', 'Vgain', 'Class'")
    }

    @Test("LearningTask inference", arguments: [("Servo.csv", "Class", LearningTask.regression), ("Glass.csv", "Type", .classification),
                                         ("oils.csv", "class", .classification), ("biomass.csv", "HHV", .regression)])
    func taskInference(_ dataset: String, _ column: String, _ expected: LearningTask) throws {
        #expect(try Target(TestData.table(dataset, target: column).column(named: column), task: nil).task == expected)
    }

    @Test func textTargetCannotBeRegression() throws {
        let error = try #require(throws: TestbedError.self) {
            try Target(TestData.table("oils.csv", target: "class").column(named: "class"), task: .regression)
        }
        #expect(error.message.contains("regression needs numbers"))
    }

    @Test func rowsWithoutTargetAreLeftOutWithANote() throws {
        let prepared = try PreparedData(TestData.table("Ozone.csv", target: "V4"), spec: TrainingSpec(target: "V4"))
        #expect(prepared.table.rowCount == 361)
        #expect(prepared.notes.contains("5 rows with no value in the target 'V4' were left out"))
    }

    @Test("Cross-validated figures in line with the datasets' reference figures", arguments: [
        ("Ionosphere.csv", "Class", "accuracy", 0.883, 0.03),
        ("Vehicle.csv", "Class", "accuracy", 0.793, 0.03),
        ("Glass.csv", "Type", "accuracy", 0.640, 0.05),
        ("Servo.csv", "Class", "rmse", 7.82, 0.8),
    ])
    func referenceFigures(_ dataset: String, _ target: String, _ metric: String, _ expected: Double, _ tolerance: Double) throws {
        let algorithm = metric == "rmse" ? "linear" : "logistic"
        let prepared = try PreparedData(TestData.table(dataset, target: target), spec: TrainingSpec(target: target, algorithm: .named(algorithm)))
        let result = try prepared.crossValidate(plan: .random(folds: 10), parameters: [:], seed: 0)
        let value = try #require(result.metrics[metric])
        #expect(abs(value - expected) <= tolerance, "\(metric) \(value), reference \(expected)")
    }

    @Test func outOfFoldPredictionsAreThoseTheFoldsWereScoredOn() throws {
        // 160 rows in 5 folds of 32: the mean of the folds' MAE is then the MAE over all rows, so
        // the recorded points must be the held-out predictions, not fits of the rows learned from.
        let lines = try String(contentsOfFile: TestData.datasetPath("Servo.csv"), encoding: .utf8).split(separator: "\n")
        let table = try TestData.table(csv: lines.prefix(161).joined(separator: "\n") + "\n")
        let prepared = try PreparedData(table, spec: TrainingSpec(target: "Class", algorithm: .named("gbdt")))
        let result = try prepared.crossValidate(plan: .random(folds: 5), parameters: prepared.algorithm.resolve([:]), seed: 3)
        let points = try #require(result.predictedVsActual)
        #expect(points.count == 160)
        #expect(points.map(\.actual) == prepared.target.values)
        let mae = points.reduce(0) { $0 + abs($1.actual - $1.predicted) } / Double(points.count)
        #expect(isClose(mae, try #require(result.metrics["mae"]), tolerance: 1e-9))

        let many = OutOfFoldPoint.sample(actual: (0..<2000).map(Double.init), predicted: (0..<2000).map { Double($0) * 2 })
        #expect(many.count == OutOfFoldPoint.maxCount && many.first?.actual == 0 && many.last?.actual == 1996)
    }
}
