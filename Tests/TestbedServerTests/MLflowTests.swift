import Foundation
import Testing

/// MLflow's scoring protocol: the request shapes of MLflow's documentation give the same
/// predictions as `/predict` for the same rows; bodies in none of them get a clear 4xx.
@Suite("MLflow scoring protocol", .serialized)
struct MLflowTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        var name: String
        /// The body for rows given as (column, value) pairs in the model's input order.
        var body: @Sendable (_ columns: [String], _ rows: [[Any]]) -> Any
        var testDescription: String { name }
    }

    static let shapes: [Shape] = [
        Shape(name: "dataframe_split") { columns, rows in ["dataframe_split": ["columns": columns, "data": rows]] },
        Shape(name: "dataframe_split with an index") { columns, rows in ["dataframe_split": ["index": Array(0..<rows.count), "columns": columns, "data": rows]] },
        Shape(name: "dataframe_records") { columns, rows in ["dataframe_records": rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }] },
        Shape(name: "instances as records") { columns, rows in ["instances": rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }] },
        Shape(name: "instances as arrays") { _, rows in ["instances": rows] },
        Shape(name: "inputs as columns") { columns, rows in
            ["inputs": Dictionary(uniqueKeysWithValues: columns.enumerated().map { index, column in (column, rows.map { $0[index] }) })]
        },
        Shape(name: "inputs as records with params") { columns, rows in
            ["inputs": rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }, "params": [:] as [String: Any]]
        },
    ]

    struct Demo: Sendable, CustomTestStringConvertible {
        var model: String
        var dataset: String
        var testDescription: String { model }
    }
    static let demos = [Demo(model: "glass-type", dataset: "Glass.csv"), Demo(model: "oil-type", dataset: "oils.csv"),
                        Demo(model: "servo-rise-time", dataset: "Servo.csv")]

    /// The first rows of the model's inputs (numbers as numbers, text as text), from its dataset.
    static func rows(_ demo: Demo, columns: [String], count: Int) throws -> [[Any]] {
        try ServerProcess.completeRows(demo.dataset, columns: columns, count: count).map { row in row.map { cell -> Any in Double(cell) ?? cell } }
    }

    static func inputColumns(_ server: ServerProcess, model: String, key: String) async throws -> [String] {
        let metadata = try await server.send(.GET, "/v2/models/\(model)", key: key).object
        return try #require((metadata["inputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String })
    }

    /// What `/predict` answers for the same rows, in MLflow's form.
    static func expected(_ server: ServerProcess, model: String, key: String, columns: [String], rows: [[Any]]) async throws -> [AnyHashable] {
        let reply = try await server.send(.POST, "/api/v1/models/\(model)/predict", key: key,
                                          json: ["rows": rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }])
        return try #require(reply.object["predictions"] as? [[String: Any]]).map { row in
            let prediction = row["prediction"]
            if let label = prediction as? String { return Double(label).map { AnyHashable($0) } ?? AnyHashable(label) }
            return AnyHashable((prediction as? NSNumber)?.doubleValue)
        }
    }

    static func predictions(_ reply: ServerProcess.Reply) throws -> [AnyHashable] {
        try #require(reply.object["predictions"] as? [Any]).map { value in
            if let label = value as? String { return AnyHashable(label) }
            return AnyHashable((value as? NSNumber)?.doubleValue)
        }
    }

    @Test(arguments: demos, shapes)
    func mlflowsRequestShapesPredictAsPredictDoes(_ demo: Demo, _ shape: Shape) async throws {
        let (server, key) = try await Self.shared.get()
        let columns = try await Self.inputColumns(server, model: demo.model, key: key)
        let rows = try Self.rows(demo, columns: columns, count: 12)
        let expected = try await Self.expected(server, model: demo.model, key: key, columns: columns, rows: rows)
        #expect(expected.count == 12)

        let byPath = try await server.send(.POST, "/api/v1/models/\(demo.model)/invocations", key: key, json: shape.body(columns, rows))
        #expect(byPath.status == 200, "\(byPath.text)")
        #expect(try Self.predictions(byPath) == expected)
        let byHeader = try await server.send(.POST, "/invocations", key: key, body: try JSONSerialization.data(withJSONObject: shape.body(columns, rows)),
                                             headers: [("X-Model-Name", demo.model)])
        #expect(try Self.predictions(byHeader) == expected)
        let byVersion = try await server.send(.POST, "/api/v1/models/\(demo.model)/versions/1/invocations", key: key, json: shape.body(columns, rows))
        #expect(try Self.predictions(byVersion) == expected)
    }

    @Test(arguments: demos)
    func csvPredictsAsPredictDoes(_ demo: Demo) async throws {
        let (server, key) = try await Self.shared.get()
        let columns = try await Self.inputColumns(server, model: demo.model, key: key)
        let rows = try Self.rows(demo, columns: columns, count: 12)
        let csv = ([columns.joined(separator: ",")] + rows.map { $0.map { "\($0)" }.joined(separator: ",") }).joined(separator: "\n") + "\n"
        let reply = try await server.send(.POST, "/invocations", key: key, body: Data(csv.utf8), contentType: "text/csv",
                                          headers: [("X-Model-Name", demo.model)])
        #expect(reply.status == 200, "\(reply.text)")
        let expected = try await Self.expected(server, model: demo.model, key: key, columns: columns, rows: rows)
        #expect(try Self.predictions(reply) == expected)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var path = "/api/v1/models/glass-type/invocations"
        var body: String
        var contentType = "application/json"
        var headers: [(String, String)] = []
        var status = 400
        var message: String
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        Bad(name: "none of the shapes", body: #"{"rows": [{"RI": 1.5}]}"#, message: "exactly one of 'dataframe_split', 'dataframe_records', 'instances', 'inputs'; it has none (and 'rows', which MLflow does not define)"),
        Bad(name: "two shapes", body: #"{"instances": [], "inputs": []}"#, message: "it has 'instances', 'inputs'"),
        Bad(name: "not an object", body: "[1, 2]", message: "must be a JSON object"),
        Bad(name: "split without columns", body: #"{"dataframe_split": {"data": [[1]]}}"#, message: "dataframe_split.columns: expected an array of column names"),
        Bad(name: "a ragged split", body: #"{"dataframe_split": {"columns": ["RI", "Na"], "data": [[1.5]]}}"#, status: 422, message: "dataframe_split.data[0] has 1 values for 2 columns"),
        Bad(name: "records that are not objects", body: #"{"dataframe_records": [1.5]}"#, message: "dataframe_records: expected an array of objects"),
        Bad(name: "a record that is not an object", body: #"{"dataframe_records": [{"RI": 1.5}, "x"]}"#, message: "dataframe_records[1]: expected an object"),
        Bad(name: "a nested cell", body: #"{"dataframe_records": [{"RI": [1.5]}]}"#, message: "dataframe_records[0].RI: expected a number, a string, true/false or null"),
        Bad(name: "an array row of the wrong width", body: #"{"instances": [[1.5, 13.6]]}"#, status: 422, message: "instances[0] has 2 values; a row as an array needs the model's 9 inputs in order"),
        Bad(name: "a bare value for a model of nine inputs", body: #"{"instances": [1.5]}"#, status: 422, message: "a bare value fits a model of one input; this model has 9"),
        Bad(name: "ragged columns", body: #"{"inputs": {"RI": [1.5, 1.6], "Na": [13.6]}}"#, status: 422, message: "column 'Na' has 1 values, but 'RI' has 2"),
        Bad(name: "missing inputs", body: #"{"dataframe_records": [{"RI": 1.5}]}"#, status: 422, message: "the rows lack the model's inputs 'Na', 'Mg'"),
        Bad(name: "no rows", body: #"{"dataframe_records": []}"#, message: "holds no rows"),
        Bad(name: "an empty body", body: "", message: "the body is empty"),
        Bad(name: "malformed JSON", body: #"{"instances": [1,]}"#, message: "not valid JSON"),
        Bad(name: "an unsupported content type", body: "RI=1.5", contentType: "application/x-www-form-urlencoded", status: 415, message: "is not one MLflow's scoring protocol takes"),
        Bad(name: "the bare route without a model", path: "/invocations", body: #"{"instances": []}"#, message: "needs the model's name in the header 'X-Model-Name"),
        Bad(name: "the bare route with an unknown model", path: "/invocations", body: #"{"instances": []}"#, headers: [("X-Model-Name", "turbine")], status: 404, message: "no model 'turbine'"),
        Bad(name: "the bare route with a version that is no number", path: "/invocations", body: #"{"instances": []}"#,
            headers: [("X-Model-Name", "glass-type"), ("X-Model-Version", "latest")], message: "version 'latest' is not a version number"),
        Bad(name: "an unknown version", path: "/api/v1/models/glass-type/versions/4/invocations", body: #"{"instances": []}"#, status: 404, message: "its only version is 1"),
        Bad(name: "a non-finite number", body: #"{"dataframe_split": {"columns": ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"], "data": [[1e999, 13.6, 4.5, 1.1, 71.8, 0.06, 8.75, 0, 0]]}}"#, message: "too large to be finite"),
    ]

    @Test(arguments: bad)
    func badBodiesAreRefusedClearly(_ bad: Bad) async throws {
        let (server, _) = try await Self.shared.get()
        // A tenant of its own, so that what the other tests score does not count here.
        let key = try await server.createTenant("mlflow-bad-\(abs(bad.name.hashValue))")
        let reply = try await server.send(.POST, bad.path, key: key, body: Data(bad.body.utf8), contentType: bad.contentType, headers: bad.headers)
        #expect(reply.status == bad.status, "\(reply.text)")
        #expect(reply.error.contains(bad.message), "\(reply.text)")
        // Nothing was recorded for a refused body.
        let monitoring = try await server.send(.GET, "/api/v1/models/glass-type/monitoring", key: key).object
        #expect(monitoring["rows_seen"] as? Int == 0, "\(monitoring)")
    }

    @Test func anotherTenantsModelIsNotFound() async throws {
        let server = try ServerProcess()
        let owner = try await server.createTenant("owner")
        let dataset = try await server.upload("Glass.csv", name: "glass", key: owner)
        let job = try await server.send(.POST, "/api/v1/jobs", key: owner, json: ["dataset": dataset, "target": "Type", "algorithms": ["ridge", "logistic"], "model_name": "private-glass"])
        let id = try #require(job.object["id"] as? String)
        _ = try await server.watchJob(id, key: owner) { $0["state"] as? String == "succeeded" }
        let stranger = try await server.createTenant("stranger")
        let body = #"{"instances": [{"RI": 1.5}]}"#
        for (path, headers) in [("/api/v1/models/private-glass/invocations", [(String, String)]()), ("/invocations", [("X-Model-Name", "private-glass")])] {
            let reply = try await server.send(.POST, path, key: stranger, body: Data(body.utf8), headers: headers)
            #expect(reply.status == 404 && reply.error.contains("no model 'private-glass'"), "\(reply.text)")
        }
        let own = try await server.send(.POST, "/invocations", key: owner, body: Data(#"{"dataframe_records": [{"RI": 1.52, "Na": 13.6, "Mg": 4.5, "Al": 1.1, "Si": 71.8, "K": 0.06, "Ca": 8.75, "Ba": 0, "Fe": 0}]}"#.utf8),
                                        headers: [("X-Model-Name", "private-glass")])
        #expect(own.status == 200, "\(own.text)")
        #expect(try Self.predictions(own).count == 1)
    }

    /// One server for the cases that need no model of their own.
    actor Fixture {
        private var state: (server: ServerProcess, key: String)?
        func get() async throws -> (server: ServerProcess, key: String) {
            if let state { return state }
            let server = try ServerProcess()
            state = (server, try await server.createTenant("mlflow"))
            return state!
        }
    }
    static let shared = Fixture()
}
