import Foundation
import Hummingbird
import InferenceCore

/// `/api/v1/models`: model cards, predictions with decisions and reasons, and what-if curves.
struct ModelRoutes {
    let services: Services

    struct PredictRequest {
        var rows: [[String: JSONCell]]
        var threshold: Double?
        var costs: [[Double]]?
        var explain: Bool
        var top: Int?

        /// Read by hand from the parsed body: the hot path of single-row predictions.
        init(_ json: JSONNode) throws {
            func fail(_ field: String, _ expected: String, _ found: JSONNode?) -> APIError {
                APIError.badRequest("\(field): expected \(expected), found \(found?.kind ?? "nothing")", code: "invalid_json")
            }
            guard case .object = json else { throw fail("the body", #"an object {"rows": [{"column": value, …}]}"#, json) }
            guard case .array(let rows)? = json["rows"] else {
                if json["rows"] == nil { throw APIError.badRequest(#"the body lacks 'rows', an array of objects such as [{"column": value, …}]"#, code: "invalid_json") }
                throw fail("rows", "an array of objects", json["rows"])
            }
            self.rows = try rows.enumerated().map { index, row in
                guard case .object(let members) = row else { throw fail("rows[\(index)]", "an object of column: value", row) }
                return try Dictionary(members.map { name, value -> (String, JSONCell) in
                    guard let cell = JSONCell(value) else { throw fail("rows[\(index)].\(name)", "a number, a string, true/false or null", value) }
                    return (name, cell)
                }, uniquingKeysWith: { _, last in last })
            }
            switch json["threshold"] {
            case nil, .null?: threshold = nil
            case .number(let value)?: threshold = value
            case let other?: throw fail("threshold", "a number", other)
            }
            switch json["costs"] {
            case nil, .null?: costs = nil
            case .array(let lines)?:
                costs = try lines.map { line in
                    guard case .numbers(let values) = line else { throw fail("costs", "an array of arrays of numbers", line) }
                    return values
                }
            case let other?: throw fail("costs", "an array of arrays of numbers", other)
            }
            switch json["explain"] {
            case nil, .null?: explain = false
            case .bool(let flag)?: explain = flag
            case let other?: throw fail("explain", "true or false", other)
            }
            switch json["top"] {
            case nil, .null?: top = nil
            case .number(let value)? where value.rounded() == value && abs(value) < 1e9:
                // Checked whether or not the rows are explained: the document says 1 or more.
                guard value >= 1 else { throw APIError.badRequest("top == \(Int(value)); expected 1 or more contributions per row", code: "invalid_parameter") }
                top = Int(value)
            case let other?: throw fail("top", "a whole number", other)
            }
        }
    }

    struct PredictResponse: ResponseEncodable, Decodable {
        var model: String
        var version: Int
        var task: String
        var classes: [String]?
        /// The share of new rows each interval or prediction set is calibrated to cover.
        var coverage: Double?
        /// What the contributions are measured in, when explained.
        var contributionScale: String?
        var predictions: [ScoredRow]
        enum CodingKeys: String, CodingKey { case model, version, task, classes, coverage, predictions; case contributionScale = "contribution_scale" }
    }

    struct WhatIfRequest: Decodable {
        struct Range: Decodable {
            var from: Double
            var to: Double
            var step: Double
        }
        var row: [String: JSONCell]
        var feature: String
        var values: [JSONCell]?
        var range: Range?
    }

    struct WhatIfResponse: ResponseEncodable, Decodable {
        struct Point: Codable {
            var value: PredictedValue
            var prediction: PredictedValue
            var probabilities: [String: Double]?
            /// Regression: the band the actual value falls in at ``coverage``.
            var interval: [Double]?
            /// Classification: the labels that cannot be ruled out.
            var predictionSet: [String]?
            enum CodingKeys: String, CodingKey { case value, prediction, probabilities, interval; case predictionSet = "prediction_set" }
        }
        var model: String
        var feature: String
        var coverage: Double?
        var points: [Point]
    }

    /// A line of `GET /api/v1/models/{name}/versions`.
    struct VersionView: ResponseEncodable, Decodable {
        var version: Int
        var serving: Bool
        var algorithm: String
        var primaryMetric: String
        var score: Double?
        var scoreStd: Double?
        var dataset: String?
        var job: String?
        var createdAt: String
        enum CodingKeys: String, CodingKey {
            case version, serving, algorithm, score, dataset, job
            case primaryMetric = "primary_metric", scoreStd = "score_std", createdAt = "created_at"
        }
    }

    struct VersionsView: ResponseEncodable, Decodable {
        var model: String
        var servingVersion: Int
        var demonstration: Bool
        var versions: [VersionView]
        enum CodingKeys: String, CodingKey { case model, versions, demonstration; case servingVersion = "serving_version" }
    }

    struct Promotion: ResponseEncodable, Decodable {
        var model: String
        var servingVersion: Int
        var previousVersion: Int
        enum CodingKeys: String, CodingKey { case model; case servingVersion = "serving_version", previousVersion = "previous_version" }
    }

    func add(to router: RouterGroup<TestbedContext>) {
        router.get("models") { _, context -> [ModelSummary] in
            try await services.registry.list(for: context.tenant()).map(ModelSummary.init)
        }
        // The name alone is its serving version; `versions/{version}` any of them.
        for prefix in ["models/{name}", "models/{name}/versions/{version}"] {
            router.get(RouterPath(prefix)) { _, context -> ModelCard in
                let served = try await model(context)
                return ModelCard(served, versions: try await services.registry.versions(of: served.name, for: context.tenant()))
            }
            router.post(RouterPath(prefix + "/predict")) { request, context -> Response in
                try await predict(request, context: context, served: try await model(context))
            }
            router.post(RouterPath(prefix + "/whatif")) { request, context -> WhatIfResponse in
                let served = try await model(context)
                let body = try await request.decodeJSON(WhatIfRequest.self, limit: services.limits.maxRequestBytes,
                                                        expected: #"{"row": {…}, "feature": "<column>", "values": [...]}"#)
                return try await whatIf(body, served: served)
            }
        }
        router.delete("models/{name}") { _, context -> HTTPResponse.Status in
            let (tenant, name) = (try context.tenant(), try context.parameters.require("name"))
            try await services.registry.delete(name, for: tenant)
            services.monitoring.forget(tenant: tenant, name: name, version: nil)
            return .noContent
        }
        router.get("models/{name}/versions") { _, context -> VersionsView in
            let (tenant, name) = (try context.tenant(), try context.parameters.require("name"))
            let versions = try await services.registry.versions(of: name, for: tenant)
            var views: [VersionView] = []
            for number in versions.records.isEmpty ? [1] : versions.records.map(\.version) {
                let served = try await services.registry.find(name, version: number, for: tenant)
                let metric = ModelSearch.primaryMetric(for: served.model.task)
                let evaluation = served.model.training.evaluation
                views.append(VersionView(version: number, serving: number == versions.serving, algorithm: served.model.algorithm,
                                         primaryMetric: metric, score: evaluation?.metrics[metric], scoreStd: evaluation?.metricsStd[metric],
                                         dataset: served.record?.datasetId, job: served.record?.jobId, createdAt: served.model.createdAt))
            }
            return VersionsView(model: name, servingVersion: versions.serving, demonstration: versions.records.isEmpty, versions: views)
        }
        router.post("models/{name}/versions/{version}/promote") { _, context -> Promotion in
            let (tenant, name, version) = (try context.tenant(), try context.parameters.require("name"), try Self.version(context))
            let previous = try await services.registry.promote(name, version: version, for: tenant)
            return Promotion(model: name, servingVersion: version, previousVersion: previous)
        }
        router.delete("models/{name}/versions/{version}") { _, context -> HTTPResponse.Status in
            let (tenant, name, version) = (try context.tenant(), try context.parameters.require("name"), try Self.version(context))
            try await services.registry.delete(name, version: version, for: tenant)
            services.monitoring.forget(tenant: tenant, name: name, version: version)
            return .noContent
        }
    }

    /// The model named in the path, at the version in the path or its serving one.
    private func model(_ context: TestbedContext) async throws -> ServedModel {
        try await Self.model(context, registry: services.registry)
    }

    /// The model `{name}` of a `/api/v1/models/…` path, at its `{version}` or the serving one, in
    /// the caller's view: what every route under a model's path scores or describes.
    static func model(_ context: TestbedContext, registry: ModelRegistry) async throws -> ServedModel {
        let version = context.parameters.get("version") == nil ? nil : try version(context)
        return try await registry.find(context.parameters.require("name"), version: version, for: context.tenant())
    }

    /// The `{version}` of a path: a whole number from 1.
    static func version(_ context: TestbedContext) throws -> Int {
        try VersionNumber.required(context.parameters.require("version"))
    }

    /// JSON rows or a CSV body in; JSON out, or CSV when the client accepts only `text/csv`.
    private func predict(_ request: Request, context: TestbedContext, served: ServedModel) async throws -> Response {
        let model = served.model
        let query = try ScoringQuery(request)
        let table: DataTable, extra: [[String]], options: Scoring.Options
        if request.sendsCSV {
            let buffer = try await request.collectBody(limit: services.limits.maxRequestBytes)
            table = try CSVReader(options: CSVReadOptions(textColumns: model.textColumns, maxColumns: services.limits.maxColumns)).read(bytes: Array(buffer.readableBytesView))
            try services.limits.checkRows(table.rowCount)
            extra = TableInput.extraColumnWarnings(table, model: model)
            options = Scoring.Options(decision: try APIError.unprocessable { try DecisionRule(threshold: query.threshold, costs: nil, model: model) },
                                      explainTop: query.explain == true ? top(query.top, model: model) : nil)
        } else {
            let buffer = try await request.collectBody(limit: services.limits.maxRequestBytes)
            guard buffer.readableBytes > 0 else {
                throw APIError.badRequest(#"the body is empty; expected {"rows": [{"column": value, …}]} (or a CSV body with Content-Type: text/csv)"#, code: "invalid_json")
            }
            let body = try PredictRequest(buffer.withUnsafeReadableBytes { try JSONParser.parse($0) })
            table = try TableInput.table(fromRows: body.rows, limits: services.limits)
            extra = TableInput.extraColumnWarnings(body.rows, model: model)
            // The body's own fields win over the query's (explain: true in either explains).
            let threshold = body.threshold ?? (body.costs == nil ? query.threshold : nil)
            options = Scoring.Options(decision: try APIError.unprocessable { try DecisionRule(threshold: threshold, costs: body.costs, model: model) },
                                      explainTop: body.explain || query.explain == true ? top(body.top ?? query.top, model: model) : nil)
        }
        var (rows, scale, predictions) = try await Scoring.rows(served, table, extraWarnings: extra, options: options)
        if let ids = services.monitoring.record(served, tenant: try context.tenant(), table: table, predictions: predictions) {
            for row in rows.indices { rows[row].predictionId = ids[row] }
        }
        if let accept = request.headers[.accept], accept.contains("text/csv"), !accept.contains("json") {
            return csvResponse(rows, model: model)
        }
        let response = PredictResponse(model: served.name, version: served.version, task: model.task.rawValue,
                                       classes: model.task == .classification ? model.classes : nil,
                                       coverage: model.training.evaluation?.conformal?.coverage,
                                       contributionScale: scale?.rawValue, predictions: rows)
        return try response.response(from: request, context: context)
    }

    /// `?threshold=&explain=&top=`: for a CSV body, or in place of a JSON body's own fields.
    /// Checked whenever given, so that a mistyped value is refused rather than ignored.
    struct ScoringQuery {
        var threshold: Double?
        var explain: Bool?
        var top: Int?

        init(_ request: Request) throws {
            func invalid(_ name: String, _ text: String, _ expected: String) -> APIError {
                APIError.badRequest("?\(name)=\(text.clipped()) is not \(expected)", code: "invalid_parameter")
            }
            threshold = try request.query("threshold").map { text in
                guard let value = Double(text), (0...1).contains(value) else { throw invalid("threshold", text, "a probability from 0 to 1") }
                return value
            }
            explain = try request.query("explain").map { text in
                guard let flag = Bool(text) else { throw invalid("explain", text, "true or false") }
                return flag
            }
            top = try request.query("top").map { text in
                guard let value = Int(text), (1...999_999_999).contains(value) else { throw invalid("top", text, "a whole number from 1") }
                return value
            }
        }
    }

    private func top(_ requested: Int?, model: TrainedModel) -> Int {
        min(requested ?? 5, model.features.count)
    }

    private func csvResponse(_ rows: [ScoredRow], model: TrainedModel) -> Response {
        let classes = model.task == .classification ? model.classes : []
        let conformal = model.training.evaluation?.conformal != nil
        let bands = !conformal ? [] : classes.isEmpty ? ["lower", "upper"] : ["prediction_set"]
        let ids = rows.first?.predictionId != nil
        var lines = [(["prediction"] + classes.map { "proba_\($0)" } + (classes.isEmpty ? [] : ["decision"]) + bands
                      + (ids ? ["prediction_id"] : []) + ["warnings"])
            .map(PredictionCSV.quoted).joined(separator: ",")]
        for row in rows {
            var fields: [String]
            switch row.prediction {
            case .number(let value): fields = ["\(value)"]
            case .label(let label): fields = [PredictionCSV.quoted(label)]
            }
            fields += classes.map { "\(row.probabilities?[$0] ?? .nan)" }
            if !classes.isEmpty { fields.append(PredictionCSV.quoted(row.decision ?? "")) }
            if conformal {
                fields += classes.isEmpty ? (row.interval ?? [.nan, .nan]).map { "\($0)" } : [PredictionCSV.quoted((row.predictionSet ?? []).joined(separator: "|"))]
            }
            if let id = row.predictionId { fields.append(id) }
            fields.append(PredictionCSV.quoted(row.warnings.joined(separator: "; ")))
            lines.append(fields.joined(separator: ","))
        }
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
    }

    /// The prediction for each value of one feature, the rest of the row held fixed.
    private func whatIf(_ body: WhatIfRequest, served: ServedModel) async throws -> WhatIfResponse {
        let model = served.model
        let (feature, values, table) = try Self.whatIfTable(body, model: model, limits: services.limits)
        let (predictions, _) = try await Scoring.predict(served, table)
        let points = values.indices.map { row -> WhatIfResponse.Point in
            let value: PredictedValue = if case .number(let number) = values[row] { .number(number) } else { .label(values[row].text ?? "") }
            guard model.task == .classification, let probabilities = predictions.probabilities?.row(row) else {
                return .init(value: value, prediction: .number(predictions.values[row]),
                             interval: predictions.intervals.map { [$0[row].lower, $0[row].upper] })
            }
            return .init(value: value, prediction: .label(predictions.labels[row]),
                         probabilities: Dictionary(uniqueKeysWithValues: zip(model.classes, probabilities)),
                         predictionSet: predictions.predictionSets.map { $0[row].map { model.classes[$0] } })
        }
        return WhatIfResponse(model: served.name, feature: feature, coverage: predictions.coverage, points: points)
    }

    /// The values of the curve and the table of rows to predict: the request's row once per
    /// value, with the feature set to it. Every size is checked before rows are built.
    static func whatIfTable(_ body: WhatIfRequest, model: TrainedModel, limits: Limits) throws
        -> (feature: String, values: [JSONCell], table: DataTable) {
        guard let feature = model.features.first(where: { $0.name == body.feature }) else {
            throw APIError(status: .unprocessableContent, code: TestbedError.Code.unknownColumn.name, message: "'\(body.feature.clipped())' is not a feature of this model; its features are: \(model.features.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        guard body.row.count <= limits.maxColumns else {
            throw APIError.badRequest("'row' has \(body.row.count) columns; this server accepts at most \(limits.maxColumns) (--max-columns)", code: "invalid_parameter")
        }
        let values = try whatIfValues(body, feature: feature, model: model)
        var rows = [[String: JSONCell]](repeating: body.row, count: values.count)
        for index in rows.indices { rows[index][feature.name] = values[index] }
        return (feature.name, values, try TableInput.table(fromRows: rows, limits: limits))
    }

    /// The values asked for; without any, the training categories or 21 points over the training range.
    private static func whatIfValues(_ body: WhatIfRequest, feature: FeatureSpec, model: TrainedModel) throws -> [JSONCell] {
        if body.values != nil && body.range != nil {
            throw APIError.badRequest("give either 'values' or 'range', not both", code: "invalid_parameter")
        }
        if let values = body.values {
            guard !values.isEmpty, values.count <= WhatIfGrid.maxPoints else {
                throw APIError.badRequest("'values' has \(values.count) entries; expected 1 to \(WhatIfGrid.maxPoints)", code: "invalid_parameter")
            }
            // A curve over dates the model cannot read would be a flat line at "missing".
            if feature.kind == .timestamp, let odd = values.firstIndex(where: { cell in
                if case .string(let text) = cell { model.time(text, of: feature.name) == nil } else { true }
            }) {
                throw APIError.doesNotFit("values[\(odd)] is not a date or time the model can read for '\(feature.name.clipped())'; send dates as the training data wrote them or in ISO 8601 (2026-01-05 13:45:00)", code: "invalid_parameter")
            }
            return values
        }
        if let range = body.range {
            guard feature.kind != .timestamp else {
                throw APIError.doesNotFit("'\(feature.name.clipped())' is a date or time: give 'values' as dates, or neither for the 21 days around the row's", code: "invalid_parameter")
            }
            return try APIError.unprocessable { try WhatIfGrid.values(from: range.from, to: range.to, step: range.step) }.map(JSONCell.number)
        }
        let summary = model.training.featureSummaries.first { $0.name == feature.name }
        let rowTime: Double? = if case .string(let text)? = body.row[feature.name] { model.time(text, of: feature.name) } else { nil }
        guard let values = WhatIfGrid.defaultValues(for: feature, summary: summary, rowTime: rowTime) else {
            throw APIError.doesNotFit("give 'values' or 'range' for '\(feature.name)'", code: "invalid_parameter")
        }
        return values.map { value in
            switch value {
            case .number(let number): return .number(number)
            case .text(let text): return .string(text)
            }
        }
    }
}

/// A version in a path or query: 1, 2, 3, … written plainly (no sign, no leading zero).
enum VersionNumber {
    static func parse(_ text: String) -> Int? {
        guard (1...9).contains(text.utf8.count), text.utf8.allSatisfy({ (48...57).contains($0) }), text.first != "0" else { return nil }
        return Int(text)
    }

    /// The version `text` names, or 400.
    static func required(_ text: String) throws -> Int {
        guard let version = parse(text) else {
            throw APIError.badRequest("version '\(text.clipped())' is not a version number; versions are 1, 2, 3, …", code: "invalid_parameter")
        }
        return version
    }
}
