import Foundation
import GRDB
import Testing

/// Models in production, over real HTTP: versions that are promoted and rolled back, inputs
/// watched for drift against the training data, and outcomes reported back and set against
/// what cross-validation promised.
@Suite("models in production", .serialized)
struct ProductionTests {
    /// The Chicago log's header and its rows by year.
    static let chicago: (header: String, rows: [(year: Int, line: String)]) = {
        let lines = try! String(contentsOf: ServerProcess.dataset("Chicago.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        return (lines[0], lines.dropFirst().map { (Int($0.suffix(10).prefix(4))!, $0) })
    }()
    static var columns: [String] { chicago.header.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } }

    static func csv(years: ClosedRange<Int>) -> String {
        ([chicago.header] + chicago.rows.filter { years.contains($0.year) }.map(\.line)).joined(separator: "\n") + "\n"
    }

    /// A row of the log as `/predict` takes it, and its actual ridership.
    static func row(_ line: String) -> (row: [String: Any], actual: Double) {
        var row: [String: Any] = [:]
        for (name, cell) in zip(columns, line.split(separator: ",", omittingEmptySubsequences: false)) {
            row[name] = name == "date" ? String(cell) : Double(cell)!
        }
        let actual = row.removeValue(forKey: "ridership") as! Double
        return (row, actual)
    }

    static func train(_ server: ServerProcess, key: String, dataset: String, name: String, algorithms: String, promote: Bool? = nil,
                      target: String = "ridership") async throws -> [String: Any] {
        var body: [String: Any] = ["dataset": dataset, "target": target, "algorithms": algorithms, "model_name": name, "seed": 3]
        if let promote { body["promote"] = promote }
        let created = try await server.send(.POST, "/api/v1/jobs", key: key, json: body)
        #expect(created.status == 202, "\(created.text)")
        let job = try #require(created.object["id"] as? String)
        let final = try #require(try await server.watchJob(job, key: key) { ["succeeded", "failed"].contains($0["state"] as? String) }.last)
        #expect(final["state"] as? String == "succeeded", "\(final)")
        return final
    }

    static func infer(_ server: ServerProcess, key: String, path: String) async throws -> (version: String, value: Double) {
        let reply = try await server.send(.POST, path, key: key, json: ["inputs": [
            ["name": "Motor", "datatype": "BYTES", "shape": [1, 1], "data": ["E"]],
            ["name": "Screw", "datatype": "BYTES", "shape": [1, 1], "data": ["E"]],
            ["name": "Pgain", "datatype": "FP64", "shape": [1, 1], "data": [5]],
            ["name": "Vgain", "datatype": "FP64", "shape": [1, 1], "data": [4]],
        ]])
        #expect(reply.status == 200, "\(reply.text)")
        let output = try #require((reply.object["outputs"] as? [[String: Any]])?.first)
        let ids = (reply.object["parameters"] as? [String: Any])?["prediction_ids"] as? String
        #expect(ids?.isEmpty == false, "every V2 answer carries its prediction ids: \(reply.text)")
        return (try #require(reply.object["model_version"] as? String), try #require((output["data"] as? [Double])?.first))
    }

    @Test func versionsArePromotedRolledBackAndDeletedAndV2Follows() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("sawmill")
        let dataset = try await server.upload("Servo.csv", name: "servo", key: key)
        _ = try await Self.train(server, key: key, dataset: dataset, name: "rise", algorithms: "gbdt", target: "Class")
        let second = try await Self.train(server, key: key, dataset: dataset, name: "rise", algorithms: "ridge", target: "Class")
        #expect(second["model_version"] as? Int == 2)
        #expect((second["message"] as? String)?.contains("the serving version stays") == true, "\(second)")

        // The first version still serves; the second has its own card, set against the first on the same folds.
        let versions = try await server.send(.GET, "/api/v1/models/rise/versions", key: key).object
        #expect(versions["serving_version"] as? Int == 1)
        #expect((versions["versions"] as? [[String: Any]])?.map { $0["algorithm"] as? String } == ["gbdt", "ridge"])
        let first = try await server.send(.GET, "/api/v1/models/rise/versions/1", key: key).object
        let card = try await server.send(.GET, "/api/v1/models/rise/versions/2", key: key).object
        #expect(card["version"] as? Int == 2 && card["serving_version"] as? Int == 1 && card["versions"] as? Int == 2)
        let comparison = try #require(card["comparison"] as? [String: Any], "\(card.keys.sorted())")
        #expect(comparison["version"] as? Int == 1 && comparison["algorithm"] as? String == "gbdt")
        #expect((comparison["summary"] as? String)?.hasPrefix("version 2: rmse ") == true, "\(comparison)")
        // Same data, same seed, same folds: the serving version's recipe scores exactly what its own card says.
        let promised = try #require(((first["metrics"] as? [String: Any])?["rmse"] as? [String: Any])?["mean"] as? Double)
        let replayed = try #require(((comparison["metrics"] as? [String: Any])?["rmse"] as? [String: Any])?["mean"] as? Double)
        #expect(abs(promised - replayed) <= 1e-9 * promised, "\(promised) vs \(replayed)")
        #expect(first["comparison"] == nil)

        // V2 follows the serving version; any version is reachable by number.
        let servedFirst = try await Self.infer(server, key: key, path: "/v2/models/rise/infer")
        let asked = try await Self.infer(server, key: key, path: "/v2/models/rise/versions/2/infer")
        #expect(servedFirst.version == "1" && asked.version == "2" && servedFirst.value != asked.value)
        let metadata = try await server.send(.GET, "/v2/models/rise", key: key).object
        #expect(metadata["versions"] as? [String] == ["1", "2"])

        let promoted = try await server.send(.POST, "/api/v1/models/rise/versions/2/promote", key: key, body: Data())
        #expect(promoted.object["serving_version"] as? Int == 2 && promoted.object["previous_version"] as? Int == 1, "\(promoted.text)")
        let afterPromotion = try await Self.infer(server, key: key, path: "/v2/models/rise/infer")
        #expect(afterPromotion == asked)
        #expect(try await server.send(.GET, "/v2/models/rise", key: key).object["versions"] as? [String] == ["2", "1"])
        let pilot = try await server.send(.POST, "/api/v1/models/rise/predict", key: key,
                                          json: ["rows": [["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4]]]).object
        #expect(pilot["version"] as? Int == 2)

        // Rollback is promoting the earlier version.
        _ = try await server.send(.POST, "/api/v1/models/rise/versions/1/promote", key: key, body: Data())
        #expect(try await Self.infer(server, key: key, path: "/v2/models/rise/infer") == servedFirst)

        // Refused, each with nothing changed.
        let serving = try await server.send(.DELETE, "/api/v1/models/rise/versions/1", key: key)
        #expect(serving.status == 409 && serving.error.contains("serving version"), "\(serving.text)")
        let missing = try await server.send(.POST, "/api/v1/models/rise/versions/7/promote", key: key, body: Data())
        #expect(missing.status == 404 && missing.error.contains("no version 7"), "\(missing.text)")
        let word = try await server.send(.POST, "/api/v1/models/rise/versions/latest/promote", key: key, body: Data())
        #expect(word.status == 400 && word.error.contains("not a version number"), "\(word.text)")
        let demonstration = try await server.send(.POST, "/api/v1/models/glass-type/versions/1/promote", key: key, body: Data())
        #expect(demonstration.status == 403, "\(demonstration.text)")
        #expect(try await server.send(.GET, "/api/v1/models/rise/versions", key: key).object["serving_version"] as? Int == 1)
        #expect((try await server.send(.GET, "/api/v1/models/glass-type/versions", key: key).object["versions"] as? [[String: Any]])?.count == 1)

        // A new version must predict what the name predicts.
        let otherTarget = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "Pgain", "model_name": "rise"])
        #expect(otherTarget.status == 409 && otherTarget.error.contains("predicts 'Class' (regression); a new version must too"), "\(otherTarget.text)")

        // Another tenant sees none of it.
        let other = try await server.createTenant("mine")
        #expect(try await server.send(.GET, "/api/v1/models/rise/versions", key: other).status == 404)
        #expect(try await server.send(.POST, "/api/v1/models/rise/versions/2/promote", key: other, body: Data()).status == 404)

        // A job that asks to be promoted serves at once; versions survive a restart.
        let third = try await Self.train(server, key: key, dataset: dataset, name: "rise", algorithms: "knn", promote: true, target: "Class")
        #expect(third["model_version"] as? Int == 3)
        #expect(server.stop() == 0)
        try server.start()
        let restarted = try await server.send(.GET, "/api/v1/models/rise/versions", key: key).object
        #expect(restarted["serving_version"] as? Int == 3)
        #expect((restarted["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 2, 3])

        // A version that does not serve can go; its number is never given again.
        #expect(try await server.send(.DELETE, "/api/v1/models/rise/versions/2", key: key).status == 204)
        #expect(try await server.send(.GET, "/api/v1/models/rise/versions/2", key: key).status == 404)
        let fourth = try await Self.train(server, key: key, dataset: dataset, name: "rise", algorithms: "ridge", target: "Class")
        #expect(fourth["model_version"] as? Int == 4)

        // Retraining repeats the serving version's job on another upload.
        let newer = try await server.upload("Servo.csv", name: "servo", key: key)
        let retrain = try await server.send(.POST, "/api/v1/models/rise/retrain", key: key, json: ["dataset": newer])
        #expect(retrain.status == 202 && retrain.object["algorithms"] as? [String] == ["knn"] && retrain.object["model_name"] as? String == "rise", "\(retrain.text)")
        let glass = try await server.upload("Glass.csv", name: "glass", key: key)
        let unsuitable = try await server.send(.POST, "/api/v1/models/rise/retrain", key: key, json: ["dataset": glass])
        #expect(unsuitable.status == 422 && unsuitable.error.contains("no column 'Class'"), "\(unsuitable.text)")
    }

    @Test func inputsFromTheTrainingPeriodRaiseNoFlagAndAShiftedPeriodIsFlaggedFeatureByFeature() async throws {
        let server = try ServerProcess(arguments: ["--monitoring-window-rows", "200", "--drift-min-rows", "200"])
        let key = try await server.createTenant("transit")
        let dataset = try await server.uploadCSV(Self.csv(years: 2001...2008), name: "chicago-early", key: key)
        _ = try await Self.train(server, key: key, dataset: dataset, name: "riders", algorithms: "ridge")

        // 30 windows of rows drawn from the training years: no feature should be flagged.
        var generator = SystemRandomNumberGenerator()
        let early = Self.chicago.rows.filter { (2001...2008).contains($0.year) }.map(\.line)
        for _ in 0..<30 {
            let rows = (0..<200).map { _ in Self.row(early.randomElement(using: &generator)!).row }
            let reply = try await server.send(.POST, "/api/v1/models/riders/predict", key: key, json: ["rows": rows])
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
        }
        var monitoring = try await Self.monitoring(server, key: key, closedWindows: 30)
        let windows = try #require(monitoring["windows"] as? [[String: Any]])
        let features = (windows.first?["features"] as? [[String: Any]])?.count ?? 0
        let falseAlarms = windows.reduce(0) { $0 + (($1["features"] as? [[String: Any]])?.filter { $0["flagged"] as? Bool == true }.count ?? 0) }
        print("drift false alarms: \(falseAlarms) of \(windows.count * features) window-features (\(windows.count) windows of 200 rows, \(features) features)")
        #expect(features == 48 && windows.count == 30)
        #expect(Double(falseAlarms) <= 0.01 * Double(windows.count * features), "\(falseAlarms) false alarms")
        #expect((monitoring["flagged_features"] as? [String])?.isEmpty == true)
        #expect(monitoring["prediction_flagged"] as? Bool == false)

        // The same model asked about 2014–2016: ridership at the stations grew, the weather did not.
        let late = Self.chicago.rows.filter { (2014...2016).contains($0.year) }.map(\.line)
        let rows = (0..<200).map { _ in Self.row(late.randomElement(using: &generator)!).row }
        #expect(try await server.send(.POST, "/api/v1/models/riders/predict", key: key, json: ["rows": rows]).status == 200)
        monitoring = try await Self.monitoring(server, key: key, closedWindows: 31)
        let flagged = try #require(monitoring["flagged_features"] as? [String])
        let drift = try #require(monitoring["drift"] as? [[String: Any]])
        print("shifted period: flagged \(flagged.count) features, most drifted \(drift.prefix(5).map { "\($0["name"]!) \(String(format: "%.2f", $0.number("psi") ?? 0))" })")
        let stations = Set(Self.columns[1...20])
        #expect(flagged.count >= 5 && stations.contains(flagged[0]), "\(flagged)")
        #expect(drift.prefix(flagged.count).map { $0["name"] as? String } == flagged, "flagged features come first, most drifted first")
        for weather in ["temp", "humidity", "pressure", "wind"] { #expect(!flagged.contains(weather), "\(weather) is flagged") }
        #expect(monitoring["prediction_flagged"] as? Bool == true)

        // Prometheus sees the scores.
        let metrics = try await server.send(.GET, "/metrics", key: server.adminKey).text
        #expect(metrics.contains(#"testbed_feature_drift{model="riders",version="1",tenant="transit",feature="\#(flagged[0])"}"#), "\(metrics.split(separator: "\n").filter { $0.contains("drift") }.prefix(3))")
        #expect(metrics.contains(#"testbed_drift_flagged_features{model="riders",version="1",tenant="transit"} \#(flagged.count)"#))

        // A restart keeps every closed window, and the open one is written at shutdown.
        let open = try await server.send(.POST, "/api/v1/models/riders/predict", key: key, json: ["rows": Array(rows.prefix(10))])
        #expect(open.status == 200)
        #expect(server.stop() == 0)
        try server.start()
        let restarted = try await server.send(.GET, "/api/v1/models/riders/monitoring", key: key).object
        #expect((restarted["windows"] as? [[String: Any]])?.count == 32)
        #expect(restarted["rows_seen"] as? Int == 31 * 200 + 10)
        #expect(restarted["flagged_features"] as? [String] == flagged)
    }

    /// The monitoring answer once `closedWindows` windows have been written.
    static func monitoring(_ server: ServerProcess, key: String, closedWindows: Int) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let reply = try await server.send(.GET, "/api/v1/models/riders/monitoring", key: key)
            #expect(reply.status == 200, "\(reply.text.prefix(300))")
            let closed = (reply.object["windows"] as? [[String: Any]])?.filter { $0["open"] as? Bool == false }.count ?? 0
            if closed >= closedWindows || Date() > deadline { return reply.object }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test func outcomesAreMatchedToPredictionsAndSetAgainstThePromise() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("transit")
        let dataset = try await server.uploadCSV(Self.csv(years: 2001...2010), name: "chicago", key: key)
        _ = try await Self.train(server, key: key, dataset: dataset, name: "riders", algorithms: "ridge")
        let card = try await server.send(.GET, "/api/v1/models/riders", key: key).object
        let promised = try #require((card["metrics"] as? [String: [String: Double]])?["rmse"])

        // Predict the 300 days of 2011, then report what happened.
        let days = Self.chicago.rows.filter { $0.year == 2011 }.prefix(300).map { Self.row($0.line) }
        let reply = try await server.send(.POST, "/api/v1/models/riders/predict", key: key, json: ["rows": days.map(\.row)])
        let predictions = try #require(reply.object["predictions"] as? [[String: Any]])
        let ids = predictions.compactMap { $0["prediction_id"] as? String }
        #expect(ids.count == 300 && Set(ids).count == 300)
        let outcomes = zip(ids, days).map { ["prediction_id": $0, "actual": $1.actual] as [String: Any] }
        let answer = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key, json: ["outcomes": outcomes])
        #expect(answer.status == 200 && answer.object["accepted"] as? Int == 300, "\(answer.text.prefix(300))")
        let live = try #require((answer.object["live"] as? [[String: Any]])?.first)

        // The same figures computed here from the same outcomes.
        let predicted = predictions.compactMap { $0.number("prediction") }
        let actual = days.map(\.actual)
        let rmse = (zip(predicted, actual).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 300).squareRoot()
        let mae = zip(predicted, actual).map { abs($0 - $1) }.reduce(0, +) / 300
        let intervals = predictions.compactMap { $0["interval"] as? [Double] }
        let coverage = Double(zip(intervals, actual).filter { $0[0] <= $1 && $1 <= $0[1] }.count) / 300
        let metrics = try #require(live["metrics"] as? [String: Double])
        #expect(abs(metrics["rmse"]! - rmse) < 1e-9 && abs(metrics["mae"]! - mae) < 1e-9, "\(metrics) vs \(rmse), \(mae)")
        #expect(abs((live.number("coverage") ?? -1) - coverage) < 1e-12 && intervals.count == 300)
        #expect(live["outcomes"] as? Int == 300)
        #expect((live["promised"] as? [String: Double])?["mean"] == promised["mean"])
        let message = try #require(live["message"] as? String)
        #expect(message.hasPrefix("live rmse \(String(format: "%.4g", rmse)) over the last 300 outcomes; cross-validation promised \(String(format: "%.4g", promised["mean"]!))"), "\(message)")
        #expect((live["flagged"] as? Bool) == (abs(rmse - promised["mean"]!) > 2 * promised["std"]!))
        print("live: \(message); coverage \(coverage)")

        // Another spelling of an id is the same prediction: its outcome is replaced, not added.
        let parts = ids[1].split(separator: "-")
        let respelled = "\(parts[0].uppercased())-000\(parts[1])"
        let again = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key, json: ["outcomes": [["prediction_id": respelled, "actual": days[1].actual]]])
        #expect(again.status == 200 && again.object["replaced"] as? Int == 1, "\(again.text.prefix(300))")

        // Predictions made at the same moment from many connections are all found at once.
        let bodies = try stride(from: 0, to: 100, by: 5).map { try JSONSerialization.data(withJSONObject: ["rows": days[$0..<$0 + 5].map(\.row)]) }
        let concurrent = try await withThrowingTaskGroup(of: [String].self) { group in
            for body in bodies {
                group.addTask {
                    let reply = try await server.send(.POST, "/api/v1/models/riders/predict", key: key, body: body)
                    return (reply.object["predictions"] as? [[String: Any]] ?? []).compactMap { $0["prediction_id"] as? String }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(concurrent.count == 100)
        let matched = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key,
                                            json: ["outcomes": concurrent.map { ["prediction_id": $0, "actual": 5.0] }])
        #expect(matched.status == 200 && matched.object["accepted"] as? Int == 100, "\(matched.text.prefix(300))")

        // Rows with their outcome are predicted now and counted too.
        let more = Self.chicago.rows.filter { $0.year == 2012 }.prefix(20).map { line -> [String: Any] in
            var (row, actual) = Self.row(line.line)
            row["ridership"] = actual
            return row
        }
        let byRows = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key, json: ["rows": more])
        #expect(byRows.status == 200 && (byRows.object["prediction_ids"] as? [String])?.count == 20, "\(byRows.text.prefix(300))")
        #expect((byRows.object["live"] as? [[String: Any]])?.first?["outcomes"] as? Int == 420)

        // Bad feedback: a clear 4xx each, nothing stored.
        let other = try await server.createTenant("bakery")
        let otherDataset = try await server.uploadCSV(Self.csv(years: 2001...2003), name: "chicago", key: other)
        _ = try await Self.train(server, key: other, dataset: otherDataset, name: "riders", algorithms: "ridge")
        let foreign = try #require((try await server.send(.POST, "/api/v1/models/riders/predict", key: other,
                                                          json: ["rows": [days[0].row]]).object["predictions"] as? [[String: Any]])?.first?["prediction_id"] as? String)
        let glassID = try #require((try await server.send(.POST, "/api/v1/models/glass-type/predict", key: key,
                                                          json: ["rows": [["RI": 1.52, "Na": 13.6, "Mg": 4.5, "Al": 1.1, "Si": 71.8, "K": 0.06, "Ca": 8.8, "Ba": 0, "Fe": 0]]]).object["predictions"] as? [[String: Any]])?.first?["prediction_id"] as? String)
        let bad: [(Any, Int, String)] = [
            (["outcomes": [["prediction_id": "nonsense", "actual": 1.0]]], 404, "'nonsense' is not a prediction of 'riders'"),
            (["outcomes": [["prediction_id": foreign, "actual": 1.0]]], 404, "is not a prediction of 'riders'"),
            (["outcomes": [["prediction_id": glassID, "actual": 1.0]]], 404, "is not a prediction of 'riders'"),
            (["outcomes": [["prediction_id": ids[0], "actual": "many"]]], 422, "outcomes[0].actual: expected the actual 'ridership' as a finite number"),
            (["outcomes": [["prediction_id": ids[0], "actual": 3.0], ["prediction_id": ids[1], "actual": true]]], 422, "outcomes[1].actual"),
            (["outcomes": []], 400, "with at least one entry"),
            (["outcomes": [["prediction_id": ids[0], "actual": 3.0]], "rows": [days[0].row]], 400, "send either"),
            (["rows": [days[0].row]], 422, "rows[0] has no 'ridership'"),
            (["outcome": [["prediction_id": ids[0], "actual": 3.0]]], 400, "send either"),
            (["outcomes": [["prediction_id": ids[0], "actual": 1e300]]], 422, "of magnitude at most 1e100"),
            (["outcomes": [["prediction_id": ids[0], "actual": "1e999"]]], 422, "as a finite number"),
        ]
        for (body, status, message) in bad {
            let reply = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key, json: body)
            #expect(reply.status == status && reply.error.contains(message), "\(body): \(reply.status) \(reply.text.prefix(300))")
        }
        let glassWrong = try await server.send(.POST, "/api/v1/models/glass-type/feedback", key: key,
                                               json: ["outcomes": [["prediction_id": glassID, "actual": "9"]]])
        #expect(glassWrong.status == 422 && glassWrong.error.contains("is not one of the classes"), "\(glassWrong.text)")
        let unchanged = try await server.send(.GET, "/api/v1/models/riders/monitoring", key: key).object
        #expect((unchanged["live"] as? [String: Any])?["outcomes"] as? Int == 420)
        #expect((unchanged["live"] as? [String: Any])?["message"] as? String == (byRows.object["live"] as? [[String: Any]])?.first?["message"] as? String)

        // A restart keeps the outcomes; deleting the model erases them.
        #expect(server.stop() == 0)
        try server.start()
        let kept = try await server.send(.GET, "/api/v1/models/riders/monitoring", key: key).object
        #expect((kept["live"] as? [String: Any])?["outcomes"] as? Int == 420)
        // Outcomes sent as rows are kept with their ids, and can be corrected by them.
        let rowID = try #require((byRows.object["prediction_ids"] as? [String])?.first)
        let corrected = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key, json: ["outcomes": [["prediction_id": rowID, "actual": 7.5]]])
        #expect(corrected.status == 200 && corrected.object["replaced"] as? Int == 1, "\(corrected.text.prefix(300))")
        let late = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key, json: ["outcomes": [["prediction_id": ids[5], "actual": 9.5]]])
        #expect(late.status == 200 && late.object["replaced"] as? Int == 1, "predictions logged before a restart still match: \(late.text.prefix(200))")
        #expect(try await server.send(.DELETE, "/api/v1/models/riders", key: key).status == 204)
        let retrained = try await Self.train(server, key: key, dataset: dataset, name: "riders", algorithms: "ridge")
        #expect(retrained["model_version"] as? Int == 2, "a deleted model's version numbers are not given again")
        let fresh = try await server.send(.GET, "/api/v1/models/riders/monitoring", key: key).object
        #expect((fresh["live"] as? [String: Any])?["outcomes"] as? Int == 0)
        let gone = try await server.send(.POST, "/api/v1/models/riders/feedback", key: key, json: ["outcomes": [["prediction_id": ids[5], "actual": 9.5]]])
        #expect(gone.status == 404)

        // What is kept is the tenant's to set.
        #expect(try await server.send(.GET, "/api/v1/settings", key: key).object["prediction_retention_days"] as? Int == 30)
        let changed = try await server.send(.PUT, "/api/v1/settings", key: key, json: ["prediction_retention_days": 7, "log_inputs": true])
        #expect(changed.object["prediction_retention_days"] as? Int == 7 && changed.object["log_inputs"] as? Bool == true, "\(changed.text)")
        let refused = try await server.send(.PUT, "/api/v1/settings", key: key, json: ["prediction_retention_days": 0])
        #expect(refused.status == 400 && refused.error.contains("expected 1 to 3650"))
        #expect(try await server.send(.GET, "/api/v1/settings", key: other).object["log_inputs"] as? Bool == false)
    }

    @Test func deletingATenantErasesEverythingItOwned() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("quarry")
        let keeper = try await server.createTenant("keeper")
        let dataset = try await server.upload("Servo.csv", name: "servo", key: key)
        let kept = try await server.upload("Servo.csv", name: "servo", key: keeper)
        _ = try await Self.train(server, key: key, dataset: dataset, name: "rise", algorithms: "ridge", target: "Class")
        _ = try await Self.train(server, key: key, dataset: dataset, name: "rise", algorithms: "knn", target: "Class")
        _ = try await Self.train(server, key: keeper, dataset: kept, name: "rise", algorithms: "ridge", target: "Class")
        let row: [String: Any] = ["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4]
        let id = try #require((try await server.send(.POST, "/api/v1/models/rise/predict", key: key, json: ["rows": [row]]).object["predictions"] as? [[String: Any]])?.first?["prediction_id"] as? String)
        #expect(try await server.send(.POST, "/api/v1/models/rise/feedback", key: key, json: ["outcomes": [["prediction_id": id, "actual": 1.0]]]).status == 200)

        // Not while a job of it may still write.
        let running = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "Class", "time_budget_seconds": 30])
        let busy = try await server.send(.DELETE, "/api/v1/tenants/quarry", key: server.adminKey)
        #expect(busy.status == 409 && busy.error.contains("cancel"), "\(busy.text)")
        #expect(try await server.send(.DELETE, "/api/v1/tenants/quarry", key: key).status == 403)
        _ = try await server.send(.POST, "/api/v1/jobs/\(running.object["id"] as? String ?? "")/cancel", key: key, body: Data())
        _ = try await server.watchJob(running.object["id"] as? String ?? "", key: key) { ($0["state"] as? String).map { ["cancelled", "succeeded", "failed"].contains($0) } ?? true }

        #expect(try await server.send(.DELETE, "/api/v1/tenants/quarry", key: server.adminKey).status == 204)
        #expect(try await server.send(.GET, "/api/v1/models", key: key).status == 401)
        #expect(try await server.send(.DELETE, "/api/v1/tenants/quarry", key: server.adminKey).status == 404)
        // Every row and file it owned is gone; the other tenant's are all there.
        try await Task.sleep(for: .seconds(1.5))  // the monitoring writer's next round finds nothing of it to write
        let database = try DatabaseQueue(path: server.dataDirectory + "/testbed.sqlite")
        for table in ["apiKey", "dataset", "job", "model", "modelSeries", "monitoringWindow", "predictionBatch", "outcome"] {
            let left = try await database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table) WHERE tenantId = 'quarry'") ?? -1 }
            #expect(left == 0, "\(table) still holds \(left) rows of the deleted tenant")
        }
        try database.close()
        for directory in ["datasets", "models"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: server.dataDirectory + "/" + directory)
            #expect(!files.contains { $0.hasPrefix("quarry-") } && files.count == 1, "\(directory): \(files)")
        }
        #expect(try await server.send(.POST, "/api/v1/models/rise/predict", key: keeper, json: ["rows": [row]]).status == 200)

        // Its id is not given again while its requests may still be in flight.
        let again = try await server.send(.POST, "/api/v1/tenants", key: server.adminKey, json: ["id": "quarry"])
        #expect(again.status == 409 && again.error.contains("was deleted moments ago"), "\(again.text)")
    }

    @Test func withMonitoringOffNothingIsKeptAndFeedbackSaysWhy() async throws {
        let server = try ServerProcess(arguments: ["--no-monitoring"])
        let key = try await server.createTenant("bakery")
        let row: [String: Any] = ["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4]
        let predicted = try await server.send(.POST, "/api/v1/models/servo-rise-time/predict", key: key, json: ["rows": [row]])
        #expect(predicted.status == 200 && (predicted.object["predictions"] as? [[String: Any]])?.first?["prediction_id"] == nil, "\(predicted.text)")
        let feedback = try await server.send(.POST, "/api/v1/models/servo-rise-time/feedback", key: key, json: ["rows": [row.merging(["Class": 1.0]) { a, _ in a }]])
        #expect(feedback.status == 409 && feedback.error.contains("--no-monitoring"), "\(feedback.text)")
        let monitoring = try await server.send(.GET, "/api/v1/models/servo-rise-time/monitoring", key: key).object
        #expect((monitoring["note"] as? String)?.contains("monitoring is off") == true && (monitoring["windows"] as? [Any])?.isEmpty == true)
        #expect(server.stop() == 0, "the server stops cleanly with monitoring off")
    }
}
