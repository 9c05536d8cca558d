import Foundation
import Testing

/// Runs the built `testbed` executable, as a person or a script would.
struct Testbed {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The executable sits beside the test bundle in the build products folder.
    static let executable: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("testbed").path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("testbed")
    }()

    static func dataset(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("datasets/\(name)").path
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID())-\(name)").path
    }
}

@Suite("testbed command line")
struct CommandLineTests {
    @Test func executableIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: Testbed.executable.path))
    }

    @Test func evaluateJSONHasTheContractFields() throws {
        let result = try Testbed.run(["evaluate", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--folds", "10", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["task"] as? String == "regression")
        #expect(json["target"] as? String == "Class")
        #expect(json["algorithm"] as? String == "ridge")
        #expect(json["rows"] as? Int == 167)
        #expect(json["folds"] as? Int == 10)
        let metrics = try #require(json["metrics"] as? [String: Double])
        #expect(Set(metrics.keys) == ["rmse", "mae", "r2"])
        #expect(Set((json["metrics_std"] as? [String: Double] ?? [:]).keys) == ["rmse", "mae", "r2"])
        #expect(result.stderr.contains("task: regression"))
        let importance = try #require(json["importance"] as? [[String: Any]])
        #expect(Set(importance.compactMap { $0["feature"] as? String }) == ["Motor", "Screw", "Pgain", "Vgain"])
        let permutation = importance.compactMap { $0["permutation"] as? Double }
        #expect(permutation == permutation.sorted(by: >) && permutation[0] > 0)
    }

    @Test func predictExplainAddsReasonsThatAddUp() throws {
        let model = Testbed.temporaryPath("servo-gbdt.json")
        defer { try? FileManager.default.removeItem(atPath: model) }
        let train = try Testbed.run(["train", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--algorithm", "gbdt",
                                     "--folds", "0", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        let predict = try Testbed.run(["predict", "--model", model, "--data", Testbed.dataset("Servo.csv"), "--explain", "--top", "4"])
        #expect(predict.status == 0, "\(predict.stderr)")
        #expect(predict.stderr.contains("contribution_N: how much the feature reason_N moved the predicted value from base_value"))
        let lines = predict.stdout.split(separator: "\n")
        #expect(lines.first == "prediction,base_value,reason_1,contribution_1,reason_2,contribution_2,reason_3,contribution_3,reason_4,contribution_4")
        #expect(lines.count == 168)
        for line in lines.dropFirst() {
            // Servo has four features: with all four shown, the base plus the contributions is the prediction.
            let fields = line.split(separator: ",").map(String.init)
            let numbers = [fields[1], fields[3], fields[5], fields[7], fields[9]].compactMap(Double.init)
            #expect(Set([fields[2], fields[4], fields[6], fields[8]]) == ["Motor", "Screw", "Pgain", "Vgain"])
            #expect(abs(numbers.reduce(0, +) - Double(fields[0])!) < 1e-9)
        }

        let knnModel = Testbed.temporaryPath("servo-knn.json")
        defer { try? FileManager.default.removeItem(atPath: knnModel) }
        #expect(try Testbed.run(["train", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--algorithm", "knn", "--out", knnModel]).status == 0)
        let refused = try Testbed.run(["predict", "--model", knnModel, "--data", Testbed.dataset("Servo.csv"), "--explain"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("error: knn models have no per-prediction contributions"))
    }

    @Test func foldsListEveryRowOnce() throws {
        let result = try Testbed.run(["folds", "--data", Testbed.dataset("Glass.csv"), "--target", "Type", "--folds", "4", "--seed", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "row,fold" && lines.count == 215)
        let folds = lines.dropFirst().map { Int($0.split(separator: ",")[1])! }
        #expect(Set(folds) == [0, 1, 2, 3])
        #expect(folds.filter { $0 == 0 }.count >= 53)
    }

    @Test func autoReportsALeaderboard() throws {
        let result = try Testbed.run(["evaluate", "--data", Testbed.dataset("Ionosphere.csv"), "--target", "Class",
                                      "--algorithm", "auto", "--folds", "5", "--time-budget", "20", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["primary_metric"] as? String == "accuracy")
        let leaderboard = try #require(json["leaderboard"] as? [[String: Any]])
        // The opening grid at least (logistic regression's path over C included); sampled settings after it.
        #expect(leaderboard.count >= 7)
        let complete = leaderboard.filter { ($0["outcome"] as? String) == "evaluated" }
        let accuracies = complete.map { ($0["metrics"] as? [String: Double])?["accuracy"] ?? -1 }
        #expect(accuracies == accuracies.sorted(by: >))
        for entry in leaderboard {
            let keys: Set<String> = ["algorithm", "params", "metrics", "metrics_std", "fit_seconds", "outcome", "folds_evaluated"]
            #expect(Set(entry.keys) == (entry["outcome"] as? String == "evaluated" ? keys : keys.union(["reason"])))
        }
        #expect(json["algorithm"] as? String == leaderboard[0]["algorithm"] as? String)
        #expect(result.stderr.contains("[1] logistic(C="))
    }

    @Test func hyperParametersByName() throws {
        let result = try Testbed.run(["evaluate", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--algorithm", "gbdt",
                                      "--param", "max_iter=20", "--param", "learning_rate=0.2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let parameters = try #require(json["parameters"] as? [String: Double])
        #expect(parameters["max_iter"] == 20 && parameters["learning_rate"] == 0.2 && parameters["max_leaf_nodes"] == 31)
        let bad = try Testbed.run(["evaluate", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--algorithm", "gbdt", "--param", "max_iter=0"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("error: gbdt: max_iter == 0, must be a whole number >= 1 and <= 10000"))
    }

    @Test func trainPredictAndEvaluateASavedClassifier() throws {
        let model = Testbed.temporaryPath("glass.json"), predictions = Testbed.temporaryPath("glass.csv")
        defer { for path in [model, predictions] { try? FileManager.default.removeItem(atPath: path) } }

        let train = try Testbed.run(["train", "--data", Testbed.dataset("Glass.csv"), "--target", "Type", "--C", "2", "--seed", "4", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("trained logistic (classification) on 214 rows"))

        let predict = try Testbed.run(["predict", "--model", model, "--data", Testbed.dataset("Glass.csv"), "--out", predictions])
        #expect(predict.status == 0, "\(predict.stderr)")
        #expect(predict.stderr.contains("ignored column not used by the model: Type"))
        let lines = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "prediction,proba_1,proba_2,proba_3,proba_5,proba_6,proba_7,prediction_set")
        #expect(lines.count == 215)
        var inSet = 0
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            #expect(["1", "2", "3", "5", "6", "7"].contains(String(fields[0])))
            let total = fields[1...6].compactMap { Double($0) }.reduce(0, +)
            #expect(abs(total - 1) < 1e-12)
            // The set: the labels at least as probable as the model's calibrated minimum.
            let set = fields[7].split(separator: "|").map(String.init)
            #expect(set.allSatisfy { ["1", "2", "3", "5", "6", "7"].contains($0) })
            if set.contains(String(fields[0])) { inSet += 1 }
        }
        #expect(inSet > 150, "the predicted label is in most sets")

        let evaluate = try Testbed.run(["evaluate", "--model", model, "--data", Testbed.dataset("Glass.csv"), "--json"])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
        #expect(json["rows"] as? Int == 214)
        #expect(((json["metrics"] as? [String: Double])?["accuracy"] ?? 0) > 0.6)
        #expect(json["folds"] == nil)
        #expect(evaluate.stderr.contains("this is the file the model was trained on, so these figures are optimistic"))
    }

    @Test func predictionsToStandardOutputKeepRowOrder() throws {
        let model = Testbed.temporaryPath("servo.json")
        defer { try? FileManager.default.removeItem(atPath: model) }
        #expect(try Testbed.run(["train", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--algorithm", "linear", "--out", model]).status == 0)
        let input = Testbed.temporaryPath("servo-input.csv")
        defer { try? FileManager.default.removeItem(atPath: input) }
        // Two rows in the Nordic dialect, columns in another order: the same answers as in the usual one.
        try "Vgain;Pgain;Screw;Motor\n1;3;A;E\n5;6;E;B\n".write(toFile: input, atomically: true, encoding: .utf8)
        let nordic = try Testbed.run(["predict", "--model", model, "--data", input])
        try "Motor,Screw,Pgain,Vgain\nE,A,3,1\nB,E,6,5\n".write(toFile: input, atomically: true, encoding: .utf8)
        let usual = try Testbed.run(["predict", "--model", model, "--data", input])
        #expect(nordic.status == 0 && usual.status == 0)
        #expect(nordic.stdout == usual.stdout)
        #expect(nordic.stdout.split(separator: "\n").count == 3)
    }

    @Test("Errors exit non-zero with a message that says what to fix", arguments: [
        (["evaluate", "--data", "Servo.csv", "--target", "class"], "error: there is no column 'class'; the columns are: 'Motor', 'Screw', 'Pgain', 'Vgain', 'Class'"),
        (["train", "--data", "Glass.csv", "--target", "Type", "--algorithm", "ridge", "--out", "/tmp/x.json"], "error: ridge does not do classification"),
        (["evaluate", "--data", "Servo.csv", "--target", "Class", "--alpha=-2"], "error: ridge: alpha == -2, must be >= 0"),
        (["evaluate", "--data", "missing.csv", "--target", "y"], "error: cannot open"),
        (["predict", "--model", "Servo.csv", "--data", "Servo.csv"], "error: the model file is not valid"),
        (["evaluate", "--data", "Glass.csv", "--target", "Type", "--folds", "1"], "error: folds == 1, must be >= 2"),
        (["evaluate", "--data", "Chicago.csv", "--target", "ridership", "--time-column", "day"], "error: there is no column 'day'; the columns are: 'ridership', 'Austin'"),
        (["evaluate", "--data", "Chicago.csv", "--target", "ridership", "--group-column", "Bears_Home"], "error: the group column 'Bears_Home' has 2 groups; a group split with 5 folds needs at least 5"),
        (["evaluate", "--data", "Chicago.csv", "--target", "ridership", "--gap", "5000"], "error: gap == 5000 leaves time-ordered fold 1 with 0 training rows"),
        (["evaluate", "--data", "Glass.csv", "--target", "Type", "--gap", "2"], "error: gap == 2 applies to time splits only, and this split is random"),
        (["evaluate", "--data", "Glass.csv", "--target", "Type", "--split", "time"], "error: a time split needs a time column and the table has no timestamp column"),
        (["evaluate", "--data", "Glass.csv", "--target", "Type", "--split", "group"], "error: a group split needs the column"),
        (["evaluate", "--data", "Glass.csv", "--target", "Type", "--coverage", "1.5"], "error: coverage == 1.5, must be between 0 and 1"),
        (["evaluate", "--data", "mlc_churn.csv", "--target", "churn", "--time-column", "state"], "error: the time column 'state' cannot be read as times (such as 'KS')"),
        (["predict", "--model", "models/oil-type.json", "--data", "oils.csv", "--threshold", "0.5"], "error: a threshold applies to classifiers with two classes; this model has 7 classes"),
        (["serve", "--port", "0", "--data-dir", "/tmp/testbed-refused", "--rate-limit", "nan"], "the rate limit must be 0 (no limit) or 0.001 to 1000000000 requests per second; got nan"),
        (["serve", "--port", "0", "--data-dir", "/tmp/testbed-refused", "--rate-limit", "0.0009"], "the rate limit must be 0 (no limit) or 0.001 to 1000000000 requests per second; got 0.0009"),
        (["serve", "--port", "0", "--data-dir", "/tmp/testbed-refused", "--rate-limit=-1"], "the rate limit must be 0 (no limit) or 0.001 to 1000000000 requests per second; got -1.0"),
    ])
    func errors(_ arguments: [String], _ message: String) throws {
        let resolved = arguments.map { argument in
            if argument.hasPrefix("models/") { return Testbed.repositoryRoot.appendingPathComponent(argument).path }
            return argument.hasSuffix(".csv") && !argument.hasPrefix("/") ? Testbed.dataset(argument) : argument
        }
        let result = try Testbed.run(resolved)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "stderr: \(result.stderr)")
    }

    @Test func raggedFileNamesTheLine() throws {
        let path = Testbed.temporaryPath("ragged.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "a,b,y\n1,2,3\n4,5\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Testbed.run(["profile", "--data", path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: line 3: found 2 fields, expected 3"))
    }

    @Test func profileJSON() throws {
        let result = try Testbed.run(["profile", "--data", Testbed.dataset("PimaIndiansDiabetes2.csv"), "--json"])
        #expect(result.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["rows"] as? Int == 768)
        let columns = try #require(json["columns"] as? [[String: Any]])
        let insulin = try #require(columns.first { $0["name"] as? String == "insulin" })
        #expect(insulin["kind"] as? String == "numeric")
        #expect(insulin["missing_count"] as? Int == 374)
    }

    /// A log is validated in time order by itself, and says so with both figures and the warning.
    @Test func evaluateOnALogSplitsInTimeOrderAndSaysWhy() throws {
        let result = try Testbed.run(["evaluate", "--data", Testbed.dataset("Chicago.csv"), "--target", "ridership",
                                      "--algorithm", "gbdt", "--param", "max_iter=50", "--no-importance"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: column 'date' holds times (ISO 8601"))
        #expect(result.stdout.contains("cross-validated on 5 time-ordered folds by 'date' ('date' is the table's only timestamp column"))
        #expect(result.stdout.contains("the same on random folds, for comparison: rmse "))
        #expect(result.stdout.contains("warning: random folds: rmse "))
        #expect(result.stdout.contains("prediction intervals: the prediction ± "))

        let json = try Testbed.run(["evaluate", "--data", Testbed.dataset("Chicago.csv"), "--target", "ridership", "--algorithm", "ridge",
                                    "--split", "random", "--no-importance", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stderr)")
        #expect((report["validation"] as? [String: Any])?["scheme"] as? String == "random")
        #expect(report["random_folds"] == nil)
    }

    @Test func foldsPrintsTheTimeOrderedTestBlocks() throws {
        let result = try Testbed.run(["folds", "--data", Testbed.dataset("Chicago.csv"), "--target", "ridership", "--gap", "7"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("note: split: 5 time-ordered folds by 'date', gap 7 rows"))
        let folds = result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false)[1] }
        // 5698 rows in date order, 6 blocks of 949: the first block is only trained on.
        #expect(folds.count == 5698 && folds.prefix(5698 - 5 * 949).allSatisfy(\.isEmpty))
        #expect(folds.dropFirst(5698 - 5 * 949).map { Int($0)! } == (0..<5).flatMap { Array(repeating: $0, count: 949) })
    }

    @Test func aRegressionModelPredictsWithItsInterval() throws {
        let model = Testbed.temporaryPath("servo.json")
        defer { try? FileManager.default.removeItem(atPath: model) }
        let train = try Testbed.run(["train", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--coverage", "0.8", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("holds the actual value in 80% of new rows"))
        let predict = try Testbed.run(["predict", "--model", model, "--data", Testbed.dataset("Servo.csv")])
        let lines = predict.stdout.split(separator: "\n")
        #expect(lines.first == "prediction,lower,upper")
        var inside = 0
        let actual = try String(contentsOfFile: Testbed.dataset("Servo.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { Double($0.split(separator: ",").last!)! }
        for (line, value) in zip(lines.dropFirst(), actual) {
            let fields = line.split(separator: ",").map { Double($0)! }
            #expect(fields[1] < fields[0] && fields[0] < fields[2])
            if fields[1] <= value && value <= fields[2] { inside += 1 }
        }
        // On its own training rows the full model does better than on new ones: at least 80%.
        #expect(Double(inside) / Double(actual.count) >= 0.8)
    }
}
