import Foundation
import Testing

/// The whole pilot, over real HTTP, as an SME and the hub would go through it.
@Suite("pilot over HTTP", .serialized)
struct PilotFlowTests {
    static var servoRows: [[String: Any]] { [
        ["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4],
        ["Motor": "B", "Screw": "D", "Pgain": 6, "Vgain": 5],
        ["Motor": "C", "Screw": "A", "Pgain": 3, "Vgain": 2],
    ] }

    @Test func uploadTrainExplainPredictAndRestart() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("machine-shop")

        // Upload and profile.
        let dataset = try await server.upload("Servo.csv", name: "servo", key: key)
        let shown = try await server.send(.GET, "/api/v1/datasets/\(dataset)", key: key).object
        let profile = try #require(shown["profile"] as? [String: Any])
        let columns = try #require(profile["columns"] as? [[String: Any]])
        #expect(shown["rows"] as? Int == 167 && columns.map { $0["name"] as? String } == ["Motor", "Screw", "Pgain", "Vgain", "Class"])
        #expect(columns.map { $0["kind"] as? String } == ["categorical", "categorical", "numeric", "numeric", "numeric"])

        // Train with auto and watch it.
        let created = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "Class", "model_name": "servo-rise"])
        #expect(created.status == 202 && created.object["state"] as? String == "queued")
        let job = try #require(created.object["id"] as? String)
        let states = try await server.watchJob(job, key: key) { ["succeeded", "failed"].contains($0["state"] as? String) }
        let final = try #require(states.last)
        #expect(final["state"] as? String == "succeeded", "\(final)")
        #expect(final["model"] as? String == "servo-rise")
        let progress = states.compactMap { $0.number("progress") }
        #expect(progress == progress.sorted() && progress.last == 1)
        // The opening grid, the ridge path included, and settings sampled after it.
        #expect(((final["leaderboard"] as? [[String: Any]])?.count ?? 0) >= 23)

        // The model card.
        let card = try await server.send(.GET, "/api/v1/models/servo-rise", key: key).object
        #expect(card["task"] as? String == "regression" && card["target"] as? String == "Class" && card["demonstration"] as? Bool == false)
        let rmse = try #require((card["metrics"] as? [String: [String: Double]])?["rmse"])
        #expect(rmse["mean"]! > 0 && rmse["mean"]! < 10 && rmse["std"]! > 0)
        let features = try #require(card["features"] as? [[String: Any]])
        #expect(features.first { $0["name"] as? String == "Pgain" }?.number("max") == 6)
        #expect((features.first { $0["name"] as? String == "Motor" }?["categories"] as? [String])?.sorted() == ["A", "B", "C", "D", "E"])
        #expect((card["importance"] as? [[String: Any]])?.count == 4)
        #expect((card["source"] as? [String: Any])?["dataset"] as? String == dataset)

        // Predict with reasons: base value plus contributions is the prediction.
        let predicted = try await server.send(.POST, "/api/v1/models/servo-rise/predict", key: key,
                                              json: ["rows": Self.servoRows, "explain": true, "top": 4])
        #expect(predicted.status == 200, "\(predicted.text)")
        let rows = try #require(predicted.object["predictions"] as? [[String: Any]])
        #expect(rows.count == 3)
        var values: [Double] = []
        for row in rows {
            let value = try #require(row.number("prediction"))
            let reasons = try #require(row["contributions"] as? [[String: Any]])
            #expect(reasons.count == 4)
            #expect(abs(row.number("base_value")! + reasons.compactMap { $0.number("contribution") }.reduce(0, +) - value) < 1e-9)
            values.append(value)
        }

        // What-if over Pgain: the point at the row's own value is the same prediction.
        let whatIf = try await server.send(.POST, "/api/v1/models/servo-rise/whatif", key: key,
                                           json: ["row": Self.servoRows[0], "feature": "Pgain", "values": [3, 4, 5, 6]])
        let points = try #require(whatIf.object["points"] as? [[String: Any]])
        #expect(points.count == 4 && points[2].number("value") == 5 && points[2].number("prediction") == values[0])

        // The same model through the Open Inference Protocol: the same numbers.
        let inputs: [[String: Any]] = [
            ["name": "Motor", "shape": [3], "datatype": "BYTES", "data": Self.servoRows.map { $0["Motor"]! }],
            ["name": "Screw", "shape": [3, 1], "datatype": "BYTES", "data": Self.servoRows.map { [$0["Screw"]!] }],
            ["name": "Pgain", "shape": [3], "datatype": "INT64", "data": Self.servoRows.map { $0["Pgain"]! }],
            ["name": "Vgain", "shape": [3], "datatype": "FP32", "data": Self.servoRows.map { $0["Vgain"]! }],
        ]
        let inferred = try await server.send(.POST, "/v2/models/servo-rise/versions/1/infer", key: key, json: ["id": "r-1", "inputs": inputs])
        #expect(inferred.status == 200, "\(inferred.text)")
        #expect(inferred.object["id"] as? String == "r-1" && inferred.object["model_name"] as? String == "servo-rise")
        let outputs = try #require(inferred.object["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["name"] as? String } == ["predict", "predict_interval"] && outputs[0]["shape"] as? [Int] == [3])
        #expect((outputs[0]["data"] as? [Double]) == values)
        // Every output by default, the conformal interval among them: the same as /predict's.
        #expect(outputs[1]["shape"] as? [Int] == [3, 2] && (outputs[1]["parameters"] as? [String: String])?["coverage"] == "0.9")
        let intervals = rows.compactMap { $0["interval"] as? [Double] }
        #expect(intervals.count == 3 && (outputs[1]["data"] as? [Double]) == intervals.flatMap { $0 })
        #expect(zip(intervals, values).allSatisfy { $0[0] < $1 && $1 < $0[1] })
        let metadata = try await server.send(.GET, "/v2/models/servo-rise", key: key).object
        #expect((metadata["inputs"] as? [[String: Any]])?.map { $0["name"] as? String } == ["Motor", "Screw", "Pgain", "Vgain"])

        // Another tenant's lists hold none of it (every route is checked in IsolationTests).
        let other = try await server.createTenant("sawmill")
        #expect(try await server.send(.GET, "/api/v1/datasets", key: other).array.isEmpty)
        #expect(try await server.send(.GET, "/api/v1/jobs", key: other).array.isEmpty)
        let othersModels = try await server.send(.GET, "/api/v1/models", key: other).array
        #expect(othersModels.allSatisfy { $0["demonstration"] as? Bool == true } && othersModels.count == 4)

        // A restart keeps everything that was acknowledged.
        #expect(server.stop() == 0)
        try server.start()
        #expect(try await server.send(.GET, "/api/v1/datasets/\(dataset)", key: key).object["rows"] as? Int == 167)
        #expect(try await server.send(.GET, "/api/v1/jobs/\(job)", key: key).object["state"] as? String == "succeeded")
        let again = try await server.send(.POST, "/api/v1/models/servo-rise/predict", key: key, json: ["rows": Self.servoRows])
        #expect((again.object["predictions"] as? [[String: Any]])?.compactMap { $0.number("prediction") } == values)

        // Deleting erases the files: the pilot's data belongs to the SME.
        let stored = { (folder: String) in (try? FileManager.default.contentsOfDirectory(atPath: "\(server.dataDirectory)/\(folder)")) ?? [] }
        #expect(stored("datasets").count == 1 && stored("models").count == 1)
        #expect(try await server.send(.DELETE, "/api/v1/datasets/\(dataset)", key: key).status == 204)
        #expect(try await server.send(.DELETE, "/api/v1/models/servo-rise", key: key).status == 204)
        #expect(stored("datasets").isEmpty && stored("models").isEmpty)
        #expect(try await server.send(.GET, "/api/v1/models/servo-rise", key: key).status == 404)
        #expect(try await server.send(.DELETE, "/api/v1/models/glass-type", key: key).status == 403)
    }

    @Test func binaryDecisionsFollowTheThresholdAndTheCosts() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("clinic-lab")
        let dataset = try await server.upload("PimaIndiansDiabetes2.csv", name: "pima", key: key)
        let created = try await server.send(.POST, "/api/v1/jobs", key: key,
                                            json: ["dataset": dataset, "target": "diabetes", "algorithms": "logistic", "model_name": "pima"])
        let job = try #require(created.object["id"] as? String)
        let final = try await server.watchJob(job, key: key) { ["succeeded", "failed"].contains($0["state"] as? String) }.last!
        #expect(final["state"] as? String == "succeeded", "\(final)")

        let rows: [[String: Any]] = [
            ["pregnant": 6, "glucose": 148, "pressure": 72, "triceps": 35, "mass": 33.6, "pedigree": 0.627, "age": 50],
            ["pregnant": 1, "glucose": 85, "pressure": 66, "triceps": 29, "mass": 26.6, "pedigree": 0.351, "age": 31],
            ["pregnant": 3, "glucose": 120, "pressure": 70, "triceps": 25, "insulin": 100, "mass": 30, "pedigree": 0.4, "age": 35],
        ]
        func decisions(_ extra: [String: Any]) async throws -> (probabilities: [Double], decisions: [String], warnings: [[String]]) {
            let reply = try await server.send(.POST, "/api/v1/models/pima/predict", key: key, json: extra.merging(["rows": rows]) { $1 })
            let scored = try #require(reply.object["predictions"] as? [[String: Any]], "\(reply.text)")
            return (scored.map { ($0["probabilities"] as! [String: Double])["pos"]! }, scored.map { $0["decision"] as! String },
                    scored.map { $0["warnings"] as! [String] })
        }
        let plain = try await decisions([:])
        #expect(plain.decisions == plain.probabilities.map { $0 >= 0.5 ? "pos" : "neg" })
        #expect(plain.warnings[0].contains("insulin: missing value imputed"))
        for threshold in [0.1, 0.3, 0.9] {
            let decided = try await decisions(["threshold": threshold])
            #expect(decided.decisions == plain.probabilities.map { $0 >= threshold ? "pos" : "neg" })
        }
        // Missing a diabetic costs 10 times a false alarm: "pos" from p(pos) > 1/11.
        let costly = try await decisions(["costs": [[0, 1], [10, 0]]])
        #expect(costly.decisions == plain.probabilities.map { $0 * 10 > (1 - $0) ? "pos" : "neg" })

        // The V2 protocol: one [N, F] tensor in feature order, probabilities as predict_proba.
        let metadata = try await server.send(.GET, "/v2/models/pima", key: key).object
        let order = try #require((metadata["parameters"] as? [String: String])?["feature_order"]?.split(separator: ",").map(String.init))
        let matrix = rows.map { row in order.map { (row[$0] as? NSNumber)?.doubleValue ?? 0 } }
        // The third row has every feature: a tensor cannot leave a cell missing.
        let tensor: [String: Any] = ["name": "input-0", "shape": [1, order.count], "datatype": "FP64", "data": matrix[2]]
        let inferred = try await server.send(.POST, "/v2/models/pima/infer", key: key, json: ["inputs": [tensor], "outputs": [["name": "predict_proba"]]])
        let outputs = try #require(inferred.object["outputs"] as? [[String: Any]], "\(inferred.text)")
        #expect(outputs.count == 1 && outputs[0]["shape"] as? [Int] == [1, 2])
        #expect((outputs[0]["data"] as? [Double])?[1] == plain.probabilities[2])

        // The command line decides the same, from the same model file and the same rule.
        let models = "\(server.dataDirectory)/models"
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: models).first)
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("pima-\(UUID()).csv").path
        let costs = FileManager.default.temporaryDirectory.appendingPathComponent("costs-\(UUID()).json").path
        defer { for path in [input, costs] { try? FileManager.default.removeItem(atPath: path) } }
        let columns = ["pregnant", "glucose", "pressure", "triceps", "insulin", "mass", "pedigree", "age"]
        try (([columns.joined(separator: ",")] + rows.map { row in columns.map { row[$0].map { "\($0)" } ?? "" }.joined(separator: ",") })
            .joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        try "[[0, 1], [10, 0]]".write(toFile: costs, atomically: true, encoding: .utf8)
        for (options, expected) in [(["--threshold", "0.3"], try await decisions(["threshold": 0.3]).decisions),
                                    (["--costs", costs], costly.decisions)] {
            let cli = try Self.run(["predict", "--model", "\(models)/\(file)", "--data", input] + options)
            let lines = cli.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let column = try #require(lines.first?.firstIndex(of: "decision"), "\(cli)")
            #expect(lines.dropFirst().map { $0[column] } == expected, "\(options)")
        }
    }

    /// `testbed` with `arguments`; its standard output.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = ServerProcess.executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A log with one timestamp column: the server splits it in time order by itself, says so on
    /// the card with both figures and the warning, and every answer carries its interval.
    @Test func aLogIsValidatedInTimeOrderAndEveryAnswerHasItsRange() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("transit")
        let dataset = try await server.upload("Chicago.csv", name: "chicago", key: key)
        let profile = try #require(try await server.send(.GET, "/api/v1/datasets/\(dataset)", key: key).object["profile"] as? [String: Any])
        let date = try #require((profile["columns"] as? [[String: Any]])?.first { $0["name"] as? String == "date" })
        #expect(date["kind"] as? String == "timestamp")
        let time = try #require(date["time"] as? [String: Any])
        #expect(time["first"] as? String == "2001-01-22T00:00:00Z" && time["last"] as? String == "2016-08-28T00:00:00Z")
        #expect(time["in_order"] as? Bool == true && time.number("typical_step_seconds") == 86_400)

        // Splits the data cannot support are refused before a job is queued.
        let twoGroups = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "ridership", "group_column": "Bears_Home"])
        #expect(twoGroups.status == 422 && twoGroups.text.contains("the group column 'Bears_Home' has 2 groups; a group split with 5 folds needs at least 5"), "\(twoGroups.text)")
        let shifts = try await server.uploadCSV("when,y\n" + (1...20).map { "shift \($0 % 3),\($0)" }.joined(separator: "\n") + "\n", name: "shifts", key: key)
        let notTimes = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": shifts, "target": "y", "time_column": "when"])
        #expect(notTimes.status == 422 && notTimes.text.contains("the time column 'when' cannot be read as times (it is categorical)"), "\(notTimes.text)")
        #expect(try await server.send(.GET, "/api/v1/jobs", key: key).array.isEmpty)

        let created = try await server.send(.POST, "/api/v1/jobs", key: key, json: [
            "dataset": dataset, "target": "ridership", "algorithms": "gbdt", "model_name": "riders", "coverage": 0.8])
        #expect(created.status == 202, "\(created.text)")
        #expect(created.object["split"] == nil || created.object["split"] is NSNull)
        let final = try await server.watchJob(try #require(created.object["id"] as? String), key: key) { ["succeeded", "failed"].contains($0["state"] as? String) }.last!
        #expect(final["state"] as? String == "succeeded", "\(final)")

        let card = try await server.send(.GET, "/api/v1/models/riders", key: key).object
        let validation = try #require(card["validation"] as? [String: Any])
        #expect(validation["scheme"] as? String == "time" && validation["time_column"] as? String == "date")
        #expect((validation["reason"] as? String)?.contains("only timestamp column") == true)
        let ordered = try #require((card["metrics"] as? [String: [String: Double]])?["rmse"]?["mean"])
        let random = try #require(((card["random_folds"] as? [String: Any])?["metrics"] as? [String: Double])?["rmse"])
        #expect(ordered > random)
        #expect((card["warnings"] as? [String])?.contains { $0.hasPrefix("random folds: rmse") } == true)
        #expect((card["conformal"] as? [String: Any])?.number("coverage") == 0.8)
        #expect((card["features"] as? [[String: Any]])?.first { $0["name"] as? String == "date" }?["kind"] as? String == "timestamp")

        // An answer with its range; a Sunday rides less than a Wednesday; an unreadable date is warned.
        var row: [String: Any] = [:]
        for column in (profile["columns"] as? [[String: Any]]) ?? [] {
            guard let name = column["name"] as? String, name != "ridership", name != "date" else { continue }
            row[name] = ((column["summary"] as? [String: Any])?["median"] as? NSNumber)?.doubleValue ?? 0
        }
        let days = ["2016-09-04", "2016-09-07", "someday"].map { day in row.merging(["date": day]) { $1 } }
        let answer = try await server.send(.POST, "/api/v1/models/riders/predict", key: key, json: ["rows": days])
        #expect(answer.status == 200 && answer.object.number("coverage") == 0.8, "\(answer.text)")
        let scored = try #require(answer.object["predictions"] as? [[String: Any]])
        let (sunday, wednesday) = (try #require(scored[0].number("prediction")), try #require(scored[1].number("prediction")))
        #expect(sunday < wednesday - 5, "sunday \(sunday), wednesday \(wednesday)")
        for point in scored {
            let interval = try #require(point["interval"] as? [Double])
            #expect(interval[0] < point.number("prediction")! && point.number("prediction")! < interval[1])
        }
        #expect((scored[2]["warnings"] as? [String])?.contains { $0.hasPrefix("date: 'someday' is not a time written as in training") } == true)

        // What-if over the date: the 21 days around the row's, every point with its band; the
        // Sundays ride least.
        let whatIf = try await server.send(.POST, "/api/v1/models/riders/whatif", key: key, json: ["row": days[0], "feature": "date"])
        let points = try #require(whatIf.object["points"] as? [[String: Any]], "\(whatIf.text)")
        #expect(points.count == 21 && points.allSatisfy { ($0["interval"] as? [Double])?.count == 2 })
        #expect((points.first?["value"] as? String)?.hasPrefix("2016-08-25") == true && (points.last?["value"] as? String)?.hasPrefix("2016-09-14") == true)
        let lowest = points.min { $0.number("prediction")! < $1.number("prediction")! }
        #expect(["2016-08-28", "2016-09-04", "2016-09-11"].contains { (lowest?["value"] as? String)?.hasPrefix($0) == true }, "\(String(describing: lowest))")
        let numeric = try await server.send(.POST, "/api/v1/models/riders/whatif", key: key, json: ["row": days[0], "feature": "date", "range": ["from": 0, "to": 10, "step": 5]])
        #expect(numeric.status == 422 && numeric.text.contains("is a date or time"), "\(numeric.text)")
        let garbage = try await server.send(.POST, "/api/v1/models/riders/whatif", key: key, json: ["row": days[0], "feature": "date", "values": ["2016-09-01", 7]])
        #expect(garbage.status == 422 && garbage.text.contains("values[1] is not a date or time"), "\(garbage.text)")

        // The V2 protocol refuses a date it cannot read (it has no warnings to say so) or one not sent as BYTES.
        let tensors = { (date: Any, type: String) -> [[String: Any]] in
            row.keys.sorted().map { ["name": $0, "shape": [1], "datatype": "FP64", "data": [row[$0]!]] }
                + [["name": "date", "shape": [1], "datatype": type, "data": [date]]]
        }
        let good = try await server.send(.POST, "/v2/models/riders/infer", key: key, json: ["inputs": tensors("2016-09-04", "BYTES")])
        let goodOutputs = try #require(good.object["outputs"] as? [[String: Any]], "\(good.text)")
        #expect((goodOutputs.first { $0["name"] as? String == "predict" }?["data"] as? [Double])?.first == sunday)
        let unreadable = try await server.send(.POST, "/v2/models/riders/infer", key: key, json: ["inputs": tensors("someday", "BYTES")])
        #expect(unreadable.status == 422 && unreadable.text.contains("'someday' is not a date or time the model can read"), "\(unreadable.text)")
        let number = try await server.send(.POST, "/v2/models/riders/infer", key: key, json: ["inputs": tensors(1_472_947_200, "FP64")])
        #expect(number.status == 422 && number.text.contains("is a date or time: send it as BYTES"), "\(number.text)")
    }
}
