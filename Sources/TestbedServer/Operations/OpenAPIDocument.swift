import Foundation
import Hummingbird
import InferenceCore

/// The OpenAPI 3.1 description of every route, served at `/openapi.json`.
///
/// One entry per route in ``operations``: its method and path, who may call it, its query
/// parameters, its request body, its answers on success and the error statuses it can answer.
/// Path parameters are described by name (``pathParameter(_:path:)``), and the errors that
/// follow from the route's shape (a key, a path parameter, a body) are added by
/// ``Operation/errorStatuses``. Response schemas are read off the `Decodable` conformance of
/// the types the routes encode (``SchemaReflection``); tests check the document against the
/// router's routes and against encoded answers.
///
/// To add a route, add its entry to ``operations`` next to its kin; the test that compares the
/// document with the router fails until you do. For example:
///
///     Operation("GET", "/api/v1/models/{name}/export", .models, "The model as ONNX",
///               query: [Parameter(name: "format", schema: Schema.string(enum: ["onnx"]), description: "…")],
///               returns: [200: [.binary("application/onnx")]], errors: [422])
///     Operation("POST", "/invocations", .inference, "MLflow scoring", body: [.json(Schema.invocations), .csv],
///               returns: [200: [.json(InvocationsResponse.self)]], errors: [422])
///
/// - `access`: who may call it (`.tenant` by default; 401, 403 and 429 follow from it).
/// - `body`: one ``Content`` per media type; a body adds 400 and 413. A new path parameter
///   name needs a line in ``pathParameter(_:path:)``; a path parameter adds 404.
/// - `returns`: each success status with its contents (`[]` for no body). `.json(T.self)` reads the
///   schema off `T`'s `Decodable` conformance (add `Decodable` beside its `Encodable`; a type that
///   encodes by hand conforms to ``JSONSchemaDescribed`` or is described in ``Schema``).
/// - `errors`: the other statuses it can answer (409, 422, 503, …); each is the `Error` schema.
enum OpenAPIDocument {
    /// Who may call a route.
    enum Access {
        /// No key.
        case open
        /// The admin key or a tenant's.
        case anyKey
        /// A tenant's key (403 for the admin key, which owns no data).
        case tenant
        /// The admin key (403 for a tenant's).
        case admin
    }

    enum Tag: String, CaseIterable {
        case admin, datasets, jobs, catalog, models, monitoring, inference, mlflow, operations, dashboard
    }

    /// A request or response body of one media type.
    struct Content {
        var mediaType: String
        var schema: JSONSchema
        /// A named schema this content refers to, added to `components/schemas`.
        var component: (name: String, schema: JSONSchema)?

        /// JSON of what the server encodes for `type`, as the component `type`'s name.
        static func json<T: Decodable>(_ type: T.Type, named name: String? = nil) -> Content {
            let name = name ?? String(describing: T.self)
            return Content(mediaType: "application/json", schema: Schema.ref(name), component: (name, Schema.of(type)))
        }
        /// A JSON array of `type`.
        static func jsonArray<T: Decodable>(of type: T.Type, named name: String? = nil) -> Content {
            let name = name ?? String(describing: T.self)
            return Content(mediaType: "application/json", schema: Schema.array(Schema.ref(name)), component: (name, Schema.of(type)))
        }
        /// JSON described by hand.
        static func json(_ schema: JSONSchema, named name: String? = nil) -> Content {
            guard let name else { return Content(mediaType: "application/json", schema: schema) }
            return Content(mediaType: "application/json", schema: Schema.ref(name), component: (name, schema))
        }
        nonisolated(unsafe) static let csv = Content(mediaType: "text/csv", schema: Schema.csv)
        static func text(_ mediaType: String) -> Content { Content(mediaType: mediaType, schema: Schema.string) }
        /// Bytes that are not text (an ONNX file, the binary tensor extension's body).
        static func binary(_ mediaType: String = "application/octet-stream") -> Content {
            Content(mediaType: mediaType, schema: ["type": "string", "contentMediaType": mediaType])
        }
    }

    /// A query or header parameter (path parameters are described by name, ``pathParameter(_:path:)``).
    struct Parameter {
        enum Location: String { case query, header }
        var name: String
        var schema: JSONSchema
        var description: String
        var location = Location.query
        var required = false
    }

    struct Operation {
        var method: String
        var path: String
        var tag: Tag
        var summary: String
        var access: Access
        /// Query and header parameters.
        var query: [Parameter]
        /// The request body's media types (empty: no body).
        var body: [Content]
        /// Success statuses and their bodies (an empty list: no body, as for 204).
        var returns: [Int: [Content]]
        /// Error statuses beyond those the route's shape implies.
        var errors: Set<Int>

        init(_ method: String, _ path: String, _ tag: Tag, _ summary: String, access: Access = .tenant, query: [Parameter] = [],
             body: [Content] = [], returns: [Int: [Content]], errors: Set<Int> = []) {
            (self.method, self.path, self.tag, self.summary, self.access) = (method, path, tag, summary, access)
            (self.query, self.body, self.returns, self.errors) = (query, body, returns, errors)
        }

        var pathParameters: [String] {
            path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
        }

        /// Every error status: those listed, and those that follow from the route's shape.
        var errorStatuses: Set<Int> {
            var statuses = errors
            if access != .open { statuses.formUnion([401, 429]) }
            if access == .tenant || access == .admin { statuses.insert(403) }
            if !pathParameters.isEmpty { statuses.insert(404) }
            // A version that is not a number: 400 in the pilot API, 404 in the Open Inference Protocol.
            if pathParameters.contains("version") && path.hasPrefix("/api/") { statuses.insert(400) }
            if !body.isEmpty { statuses.formUnion([400, 413]) }
            if !query.isEmpty { statuses.insert(400) }
            return statuses
        }
    }

    // MARK: Routes

    /// Query parameters shared by the routes that score.
    nonisolated(unsafe) private static let scoringQuery = [
        Parameter(name: "threshold", schema: Schema.number(minimum: 0, maximum: 1), description: "two-class models: decide for the second class from this probability (a JSON body's own wins)"),
        Parameter(name: "explain", schema: Schema.boolean, description: "true: each row's largest contributions (a JSON body's own wins)"),
        Parameter(name: "top", schema: Schema.integer(minimum: 1, maximum: 999_999_999), description: "contributions per row when explained (default 5)"),
    ]
    nonisolated(unsafe) private static let predictions: [Int: [Content]] = [200: [.json(ModelRoutes.PredictResponse.self, named: "Predictions"), .text("text/csv")]]
    nonisolated(unsafe) private static let card: [Int: [Content]] = [200: [.json(ModelCard.self)]]
    nonisolated(unsafe) private static let noContent: [Int: [Content]] = [204: []]
    nonisolated(unsafe) private static let exportFormat = Parameter(name: "format", schema: Schema.string(enum: ExportFormat.allCases.map(\.rawValue)),
                                                                    description: "the file's format (default onnx; docs/onnx-export.md)")
    /// JSON, or with a binary output the binary data extension's framing.
    nonisolated(unsafe) private static let inferenceAnswers: [Int: [Content]] = [200: [.json(Schema.inferenceResponse, named: "InferenceResponse"), .binary()]]
    nonisolated(unsafe) private static let invocationAnswers: [Int: [Content]] = [200: [.json(Schema.invocationsResponse, named: "InvocationsResponse")]]

    static var operations: [Operation] { [
        // Open: health, this document, the dashboard.
        Operation("GET", "/v2/health/live", .inference, "Liveness (no key needed)", access: .open,
                  returns: [200: [.json(Schema.liveState, named: "LiveState")]]),
        Operation("GET", "/v2/health/ready", .inference, "Readiness (no key needed)", access: .open,
                  returns: [200: [.json(Schema.readyState, named: "ReadyState")]]),
        Operation("GET", "/openapi.json", .operations, "This document (no key needed)", access: .open, returns: [200: [.json(Schema.anyObject)]]),
        Operation("GET", "/", .dashboard, "The web dashboard (HTML; no key needed, it asks for one)", access: .open, returns: [200: [.text("text/html")]]),
        Operation("GET", "/ui/{file}", .dashboard, "The dashboard's scripts, styles and images", access: .open,
                  returns: [200: Set(DashboardRoutes.contentTypes.values.map { String($0.prefix { $0 != ";" }) }).sorted().map(Content.text)]),
        Operation("GET", "/metrics", .operations, "Prometheus metrics (admin key)", access: .admin, returns: [200: [.text("text/plain")]]),

        // Tenants and keys (the admin's).
        Operation("POST", "/api/v1/tenants", .admin, "Create a tenant; returns its API key once (admin key)", access: .admin,
                  body: [.json(Schema.createTenant)], returns: [201: [.json(TenantRoutes.IssuedKey.self)]], errors: [409, 507]),
        Operation("GET", "/api/v1/me", .admin, "Who the key belongs to: the admin or a tenant", access: .anyKey,
                  returns: [200: [.json(TenantRoutes.Identity.self)]]),
        Operation("GET", "/api/v1/tenants", .admin, "List tenants and their keys (admin key)", access: .admin,
                  returns: [200: [.jsonArray(of: TenantRoutes.TenantView.self, named: "Tenant")]]),
        Operation("POST", "/api/v1/tenants/{tenant}/keys", .admin, "Issue another key to a tenant (admin key)", access: .admin,
                  returns: [201: [.json(TenantRoutes.IssuedKey.self)]], errors: [507]),
        Operation("DELETE", "/api/v1/tenants/{tenant}", .admin, "Delete a tenant and everything it owns: keys, datasets, jobs, models, monitoring, predictions, outcomes (admin key; refused while its jobs run)",
                  access: .admin, returns: noContent, errors: [409]),
        Operation("DELETE", "/api/v1/tenants/{tenant}/keys/{key}", .admin, "Revoke a key (admin key)", access: .admin, returns: noContent),
        Operation("GET", "/api/v1/audit", .admin, "The audit log, newest first (admin key)", access: .admin,
                  query: [Parameter(name: "limit", schema: Schema.integer(minimum: 1, maximum: 10_000), description: "entries (default 100)")],
                  returns: [200: [.jsonArray(of: TenantRoutes.AuditView.self, named: "AuditEntry")]]),

        // Datasets.
        Operation("POST", "/api/v1/datasets", .datasets, "Upload a CSV file as the body",
                  query: [Parameter(name: "name", schema: Schema.resourceName, description: "the dataset's name (default dataset-<time>)")],
                  body: [.csv], returns: [201: [.json(DatasetRoutes.DatasetView.self, named: "Dataset")]], errors: [422, 503, 507]),
        Operation("GET", "/api/v1/datasets", .datasets, "List your datasets (without profiles)",
                  returns: [200: [.jsonArray(of: DatasetRoutes.DatasetView.self, named: "Dataset")]]),
        Operation("GET", "/api/v1/datasets/{id}", .datasets, "A dataset with its profile", returns: [200: [.json(DatasetRoutes.DatasetView.self, named: "Dataset")]]),
        Operation("DELETE", "/api/v1/datasets/{id}", .datasets, "Delete a dataset and erase its file", returns: noContent, errors: [409]),

        // Jobs and the catalog.
        Operation("POST", "/api/v1/jobs", .jobs, "Train on a dataset", body: [.json(Schema.createJob)],
                  returns: [202: [.json(JobRoutes.JobView.self, named: "Job")]], errors: [404, 409, 422, 429, 507]),
        Operation("GET", "/api/v1/jobs", .jobs, "List your jobs", returns: [200: [.jsonArray(of: JobRoutes.JobView.self, named: "Job")]]),
        Operation("GET", "/api/v1/jobs/{id}", .jobs, "A job: state, progress, leaderboard so far, error", returns: [200: [.json(JobRoutes.JobView.self, named: "Job")]]),
        Operation("POST", "/api/v1/jobs/{id}/cancel", .jobs, "Cancel a queued or running job", returns: [202: [.json(JobRoutes.JobView.self, named: "Job")]], errors: [409]),
        Operation("GET", "/api/v1/algorithms", .catalog, "The algorithms a job may name: name, title, description and the tasks each learns", access: .anyKey,
                  returns: [200: [.jsonArray(of: CatalogRoutes.AlgorithmView.self, named: "Algorithm")]]),
        Operation("GET", "/api/v1/metrics", .catalog, "Every metric of cards, leaderboards and live quality: name, title, description, task, higher_is_better", access: .anyKey,
                  returns: [200: [.jsonArray(of: CatalogRoutes.MetricView.self, named: "Metric")]]),

        // Models.
        Operation("GET", "/api/v1/models", .models, "Your models and the demonstration models", returns: [200: [.jsonArray(of: ModelSummary.self)]]),
        Operation("GET", "/api/v1/models/{name}", .models, "The model card of the serving version", returns: card),
        Operation("DELETE", "/api/v1/models/{name}", .models, "Delete your model: every version, its files, monitoring windows, logged predictions and outcomes",
                  returns: noContent, errors: [409]),
        Operation("GET", "/api/v1/models/{name}/versions", .models, "The model's versions with their cross-validated figures, the serving one marked",
                  returns: [200: [.json(ModelRoutes.VersionsView.self, named: "Versions")]]),
        Operation("GET", "/api/v1/models/{name}/versions/{version}", .models, "The model card of one version", returns: card),
        Operation("DELETE", "/api/v1/models/{name}/versions/{version}", .models, "Delete a version that does not serve", returns: noContent, errors: [409]),
        Operation("POST", "/api/v1/models/{name}/versions/{version}/promote", .models, "Make this version the serving one (a rollback promotes an earlier one)",
                  returns: [200: [.json(ModelRoutes.Promotion.self)]], errors: [409]),
        Operation("POST", "/api/v1/models/{name}/predict", .models,
                  "Predictions with intervals (regression) or prediction sets (classification), probabilities, decisions, reasons and warnings; JSON rows or a CSV body; CSV answers with Accept: text/csv",
                  query: scoringQuery, body: [.json(Schema.predict), .csv], returns: predictions, errors: [422]),
        Operation("POST", "/api/v1/models/{name}/versions/{version}/predict", .models, "Predictions of one version (as /predict)",
                  query: scoringQuery, body: [.json(Schema.predict), .csv], returns: predictions, errors: [422]),
        Operation("POST", "/api/v1/models/{name}/whatif", .models, "The prediction (with its interval or set) for each value of one feature, the rest of the row fixed",
                  body: [.json(Schema.whatIf)], returns: [200: [.json(ModelRoutes.WhatIfResponse.self, named: "WhatIf")]], errors: [422]),
        Operation("POST", "/api/v1/models/{name}/versions/{version}/whatif", .models, "What-if of one version (as /whatif)",
                  body: [.json(Schema.whatIf)], returns: [200: [.json(ModelRoutes.WhatIfResponse.self, named: "WhatIf")]], errors: [422]),
        Operation("GET", "/api/v1/models/{name}/export", .models, "The serving version as a file for other runtimes (an attachment): ONNX with its preprocessing; 422 for a family the format cannot hold (an ensemble)",
                  query: [exportFormat], returns: [200: [.binary()]], errors: [422]),
        Operation("GET", "/api/v1/models/{name}/versions/{version}/export", .models, "One version as a file for other runtimes, as /export",
                  query: [exportFormat], returns: [200: [.binary()]], errors: [422]),
        Operation("POST", "/api/v1/models/{name}/retrain", .models, "Train the serving version's job again on another upload of the same table; adds the next version",
                  body: [.json(Schema.retrain)], returns: [202: [.json(JobRoutes.JobView.self, named: "Job")]], errors: [409, 422, 429, 507]),

        // Monitoring.
        Operation("GET", "/api/v1/models/{name}/monitoring", .monitoring, "Drift of inputs and predictions per window (PSI against training, flags) and live quality from outcomes",
                  query: [Parameter(name: "version", schema: Schema.version, description: "a version other than the serving one")],
                  returns: [200: [.json(MonitoringRoutes.MonitoringView.self, named: "Monitoring")]]),
        Operation("POST", "/api/v1/models/{name}/feedback", .monitoring, "Actual outcomes, for prediction ids or as rows with the target; answers the live metrics",
                  body: [.json(Schema.feedback)], returns: [200: [.json(MonitoringRoutes.FeedbackAnswer.self, named: "Feedback")]], errors: [409, 422, 507]),
        Operation("GET", "/api/v1/settings", .monitoring, "What is kept of your predictions, and for how long",
                  returns: [200: [.json(MonitoringRoutes.RetentionView.self, named: "Settings")]], errors: [404]),
        Operation("PUT", "/api/v1/settings", .monitoring, "Change prediction_retention_days (1 to 3650) and log_inputs",
                  body: [.json(Schema.settingsChange)], returns: [200: [.json(MonitoringRoutes.RetentionView.self, named: "Settings")]], errors: [404, 507]),

        // The Open Inference Protocol (KServe V2).
        Operation("GET", "/v2", .inference, "Server metadata", access: .anyKey, returns: [200: [.json(Schema.serverMetadata, named: "ServerMetadata")]]),
        Operation("GET", "/v2/models/{model}", .inference, "Model metadata (inputs in feature order)", returns: [200: [.json(Schema.modelMetadata, named: "ModelMetadata")]]),
        Operation("GET", "/v2/models/{model}/versions/{version}", .inference, "Model metadata", returns: [200: [.json(Schema.modelMetadata, named: "ModelMetadata")]]),
        Operation("GET", "/v2/models/{model}/ready", .inference, "Model readiness: 200 when ready, 409 not_ready when unloaded", returns: [200: [.json(Schema.readyState, named: "ReadyState")]], errors: [409]),
        Operation("GET", "/v2/models/{model}/versions/{version}/ready", .inference, "Model readiness: 200 when ready, 409 not_ready when unloaded",
                  returns: [200: [.json(Schema.readyState, named: "ReadyState")]], errors: [409]),
        Operation("POST", "/v2/models/{model}/infer", .inference,
                  "Inference (Open Inference Protocol): JSON, or (Content-Type application/octet-stream) a JSON header of Inference-Header-Content-Length bytes followed by raw tensor data, the binary tensor data extension (docs/clients.md)",
                  body: [.json(Schema.inferenceRequest)], returns: inferenceAnswers, errors: [409, 422]),
        Operation("POST", "/v2/models/{model}/versions/{version}/infer", .inference, "Inference (Open Inference Protocol) with one version, as /v2/models/{model}/infer",
                  body: [.json(Schema.inferenceRequest)], returns: inferenceAnswers, errors: [409, 422]),
        // MLflow's scoring protocol.
        Operation("POST", "/invocations", .mlflow,
                  "MLflow scoring: the model named by the X-Model-Name header (X-Model-Version for another than the serving one); dataframe_split, dataframe_records, instances or inputs JSON, or CSV",
                  query: [Parameter(name: "X-Model-Name", schema: Schema.string(minLength: 1), description: "the model: one of yours or a demonstration model",
                                    location: .header, required: true),
                          Parameter(name: "X-Model-Version", schema: Schema.version, description: "a version other than the serving one", location: .header)],
                  body: [.json(Schema.invocations), .csv], returns: invocationAnswers, errors: [404, 415, 422]),
        Operation("POST", "/api/v1/models/{name}/invocations", .mlflow, "MLflow scoring with the serving version, as /invocations",
                  body: [.json(Schema.invocations), .csv], returns: invocationAnswers, errors: [415, 422]),
        Operation("POST", "/api/v1/models/{name}/versions/{version}/invocations", .mlflow, "MLflow scoring with one version, as /invocations",
                  body: [.json(Schema.invocations), .csv], returns: invocationAnswers, errors: [415, 422]),

        Operation("POST", "/v2/repository/index", .inference, "Models and their state (repository extension)",
                  returns: [200: [.json(Schema.array(Schema.repositoryEntry))]]),
        Operation("POST", "/v2/repository/models/{model}/load", .inference, "Load a model (repository extension)", returns: [200: [.json(Schema.empty)]]),
        Operation("POST", "/v2/repository/models/{model}/unload", .inference, "Unload a model (repository extension)", returns: [200: [.json(Schema.empty)]]),
    ] }

    // MARK: Parameters and errors

    /// A path parameter's description, by its name (and for `{id}`, the resource before it).
    static func pathParameter(_ name: String, path: String) -> JSONSchema {
        let (schema, description): (JSONSchema, String) = switch name {
        case "version": (Schema.version, "a version number: 1, 2, 3, …")
        case "name", "model": (Schema.string(minLength: 1), "a model: one of yours or a demonstration model (GET /api/v1/models)")
        case "tenant": (Schema.string(minLength: 1), "a tenant's id")
        case "key": (Schema.string(minLength: 1), "a key's id (key_id)")
        case "file": (Schema.string(minLength: 1), "a file of the dashboard, such as app.js")
        case "id": (Schema.string(minLength: 1), path.contains("/jobs/") ? "a job's id" : "a dataset's id")
        default: preconditionFailure("the path parameter '\(name)' of \(path) has no description; add it to OpenAPIDocument.pathParameter")
        }
        return ["name": name, "in": "path", "required": true, "schema": schema, "description": description]
    }

    /// What each error status means, for the document's readers.
    static let errorMeanings: [Int: String] = [
        400: "the request is malformed: the message names the field and what was expected",
        401: "no key, or not a valid one",
        403: "the key may not do this (the admin key owns no data; tenants' keys manage no tenants; demonstration models are read-only)",
        404: "no such resource for this key",
        409: "it conflicts with the resource's state (a name taken, a job already finished, a serving version, …)",
        413: "the request is larger than this server accepts (bytes or rows)",
        422: "well-formed, but the data does not suit it (a target that cannot be learnt, a prediction that is not finite, …)",
        429: "too many requests or jobs: retry after Retry-After seconds",
        503: "not ready: the model is unloaded, or the server is stopping",
        507: "the server's disk is full; nothing was stored",
    ]

    private static func errorResponse(_ status: Int) -> JSONSchema {
        var response: JSONSchema = ["description": errorMeanings[status] ?? "an error",
                                    "content": ["application/json": ["schema": Schema.ref("Error")]]]
        switch status {
        case 401: response["headers"] = ["WWW-Authenticate": ["schema": Schema.string, "required": true]]
        case 429: response["headers"] = ["Retry-After": ["schema": Schema.integer(minimum: 0), "description": "seconds"]]
        default: break
        }
        return response
    }

    // MARK: The document

    /// The document as JSON bytes.
    static func json() throws -> Data {
        try JSONSerialization.data(withJSONObject: document(), options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// The document as `JSONSerialization` objects.
    static func document() -> [String: Any] {
        var paths: [String: [String: Any]] = [:]
        var components: [String: JSONSchema] = ["Error": Schema.error]
        func content(_ contents: [Content]) -> [String: Any] {
            var media: [String: Any] = [:]
            for item in contents {
                media[item.mediaType] = ["schema": item.schema]
                if let component = item.component { components[component.name] = component.schema }
            }
            return media
        }
        for operation in operations {
            var responses: [String: Any] = [:]
            for (status, contents) in operation.returns {
                responses[String(status)] = contents.isEmpty ? ["description": "done; no body"] : ["description": "success", "content": content(contents)]
            }
            for status in operation.errorStatuses { responses[String(status)] = errorResponse(status) }
            var entry: [String: Any] = [
                "summary": operation.summary, "tags": [operation.tag.rawValue],
                "responses": responses,
            ]
            let parameters = operation.pathParameters.map { pathParameter($0, path: operation.path) }
                + operation.query.map { ["name": $0.name, "in": $0.location.rawValue, "required": $0.required, "schema": $0.schema, "description": $0.description] }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if !operation.body.isEmpty { entry["requestBody"] = ["required": true, "content": content(operation.body)] }
            if operation.access == .open { entry["security"] = [] as [Any] }
            paths[operation.path, default: [:]][operation.method.lowercased()] = entry
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Applied-AI Testbed", "version": TestbedVersion.current, "description": description],
            "security": [["bearer": [] as [Any]]],
            "tags": Tag.allCases.map { ["name": $0.rawValue] },
            "components": ["securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]], "schemas": components],
            "paths": paths,
        ]
    }

    private static let description = """
        Pilot workspaces for SMEs: datasets, training jobs, models with predictions, reasons and what-if; the Open Inference Protocol (KServe V2).

        Every error is JSON, {"error": "…", "code": "…"}, with the status that says what kind. A method a path does not have is answered 405 with `Allow`; \
        OPTIONS on any path answers 204 with `Allow` (no key needed); HEAD is answered wherever GET is, with GET's status and headers and no body.
        """
}
