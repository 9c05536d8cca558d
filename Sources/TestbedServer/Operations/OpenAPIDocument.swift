import Foundation
import Hummingbird
import InferenceCore

/// The OpenAPI 3.1 description of every route, served at `/openapi.json`. A test checks that it
/// lists exactly the routes the router serves.
enum OpenAPIDocument {
    struct Operation {
        var method: String
        var path: String
        var tag: String
        var summary: String
        /// The request body's media type and schema, when there is one.
        var body: (type: String, schema: [String: Any])? = nil
        var secured = true
        var success = "200"
    }

    private static var object: [String: Any] { ["type": "object"] }
    private static func schema(_ properties: [String: Any], required: [String] = []) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required]
    }
    private static var string: [String: Any] { ["type": "string"] }
    private static var number: [String: Any] { ["type": "number"] }
    private static var integer: [String: Any] { ["type": "integer"] }
    private static var row: [String: Any] { ["type": "object", "additionalProperties": ["type": ["number", "string", "boolean", "null"]]] }

    static var operations: [Operation] { [
        Operation(method: "GET", path: "/v2/health/live", tag: "inference", summary: "Liveness (no key needed)", secured: false),
        Operation(method: "GET", path: "/v2/health/ready", tag: "inference", summary: "Readiness (no key needed)", secured: false),
        Operation(method: "GET", path: "/openapi.json", tag: "operations", summary: "This document (no key needed)", secured: false),
        Operation(method: "GET", path: "/", tag: "dashboard", summary: "The web dashboard (HTML; no key needed, it asks for one)", secured: false),
        Operation(method: "GET", path: "/ui/{file}", tag: "dashboard", summary: "The dashboard's scripts, styles and images", secured: false),
        Operation(method: "GET", path: "/metrics", tag: "operations", summary: "Prometheus metrics (admin key)"),
        Operation(method: "POST", path: "/api/v1/tenants", tag: "admin", summary: "Create a tenant; returns its API key once (admin key)",
                  body: ("application/json", schema(["id": string, "display_name": string], required: ["id"])), success: "201"),
        Operation(method: "GET", path: "/api/v1/me", tag: "admin", summary: "Who the key belongs to: the admin or a tenant"),
        Operation(method: "GET", path: "/api/v1/tenants", tag: "admin", summary: "List tenants and their keys (admin key)"),
        Operation(method: "POST", path: "/api/v1/tenants/{tenant}/keys", tag: "admin", summary: "Issue another key to a tenant (admin key)", success: "201"),
        Operation(method: "DELETE", path: "/api/v1/tenants/{tenant}", tag: "admin", summary: "Delete a tenant and everything it owns: keys, datasets, jobs, models, monitoring, predictions, outcomes (admin key; refused while its jobs run)", success: "204"),
        Operation(method: "DELETE", path: "/api/v1/tenants/{tenant}/keys/{key}", tag: "admin", summary: "Revoke a key (admin key)", success: "204"),
        Operation(method: "GET", path: "/api/v1/audit", tag: "admin", summary: "The audit log, newest first; ?limit= (admin key)"),
        Operation(method: "POST", path: "/api/v1/datasets", tag: "datasets", summary: "Upload a CSV file as the body; ?name=",
                  body: ("text/csv", string), success: "201"),
        Operation(method: "GET", path: "/api/v1/datasets", tag: "datasets", summary: "List your datasets"),
        Operation(method: "GET", path: "/api/v1/datasets/{id}", tag: "datasets", summary: "A dataset with its profile"),
        Operation(method: "DELETE", path: "/api/v1/datasets/{id}", tag: "datasets", summary: "Delete a dataset and erase its file", success: "204"),
        Operation(method: "POST", path: "/api/v1/jobs", tag: "jobs", summary: "Train on a dataset",
                  body: ("application/json", schema([
                      "dataset": string, "target": string, "task": ["enum": ["regression", "classification"]],
                      "algorithms": ["oneOf": [string, ["type": "array", "items": string]]], "folds": integer, "seed": integer,
                      "time_budget_seconds": number, "model_name": string,
                      "split": ["enum": ["random", "time", "group"], "description": "how rows are split into folds (default: time order for a dataset with one timestamp column, group with group_column, else random)"],
                      "time_column": string, "group_column": string,
                      "gap": ["type": "integer", "minimum": 0, "description": "time splits: rows left out between training and test"],
                      "coverage": ["type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "description": "share of new rows the prediction intervals or sets cover (default 0.9)"],
                  ], required: ["dataset", "target"])), success: "202"),
        Operation(method: "GET", path: "/api/v1/jobs", tag: "jobs", summary: "List your jobs"),
        Operation(method: "GET", path: "/api/v1/algorithms", tag: "catalog", summary: "The algorithms a job may name: name, title, description and the tasks each learns"),
        Operation(method: "GET", path: "/api/v1/metrics", tag: "catalog", summary: "Every metric of cards, leaderboards and live quality: name, title, description, task, higher_is_better"),
        Operation(method: "GET", path: "/api/v1/jobs/{id}", tag: "jobs", summary: "A job: state, progress, leaderboard so far, error"),
        Operation(method: "POST", path: "/api/v1/jobs/{id}/cancel", tag: "jobs", summary: "Cancel a queued or running job", success: "202"),
        Operation(method: "GET", path: "/api/v1/models", tag: "models", summary: "Your models and the demonstration models"),
        Operation(method: "GET", path: "/api/v1/models/{name}", tag: "models", summary: "The model card of the serving version"),
        Operation(method: "DELETE", path: "/api/v1/models/{name}", tag: "models", summary: "Delete your model: every version, its files, monitoring windows, logged predictions and outcomes", success: "204"),
        Operation(method: "GET", path: "/api/v1/models/{name}/versions", tag: "models", summary: "The model's versions with their cross-validated figures, the serving one marked"),
        Operation(method: "GET", path: "/api/v1/models/{name}/versions/{version}", tag: "models", summary: "The model card of one version"),
        Operation(method: "DELETE", path: "/api/v1/models/{name}/versions/{version}", tag: "models", summary: "Delete a version that does not serve", success: "204"),
        Operation(method: "POST", path: "/api/v1/models/{name}/versions/{version}/promote", tag: "models", summary: "Make this version the serving one (a rollback promotes an earlier one)"),
        Operation(method: "POST", path: "/api/v1/models/{name}/versions/{version}/predict", tag: "models", summary: "Predictions of one version (as /predict)",
                  body: ("application/json", schema(["rows": ["type": "array", "items": row]], required: ["rows"]))),
        Operation(method: "POST", path: "/api/v1/models/{name}/versions/{version}/whatif", tag: "models", summary: "What-if of one version (as /whatif)",
                  body: ("application/json", schema(["row": row, "feature": string], required: ["row", "feature"]))),
        Operation(method: "POST", path: "/api/v1/models/{name}/retrain", tag: "models", summary: "Train the serving version's job again on another upload of the same table; adds the next version",
                  body: ("application/json", schema(["dataset": string, "promote": ["type": "boolean"]], required: ["dataset"])), success: "202"),
        Operation(method: "GET", path: "/api/v1/models/{name}/monitoring", tag: "monitoring", summary: "Drift of inputs and predictions per window (PSI against training, flags) and live quality from outcomes; ?version="),
        Operation(method: "POST", path: "/api/v1/models/{name}/feedback", tag: "monitoring", summary: "Actual outcomes, for prediction ids or as rows with the target; answers the live metrics",
                  body: ("application/json", schema([
                      "outcomes": ["type": "array", "items": schema(["prediction_id": string, "actual": ["type": ["number", "string"]]], required: ["prediction_id", "actual"])],
                      "rows": ["type": "array", "items": row],
                  ]))),
        Operation(method: "GET", path: "/api/v1/settings", tag: "monitoring", summary: "What is kept of your predictions, and for how long"),
        Operation(method: "PUT", path: "/api/v1/settings", tag: "monitoring", summary: "Change prediction_retention_days (1 to 3650) and log_inputs",
                  body: ("application/json", schema(["prediction_retention_days": integer, "log_inputs": ["type": "boolean"]]))),
        Operation(method: "POST", path: "/api/v1/models/{name}/predict", tag: "models",
                  summary: "Predictions with intervals (regression) or prediction sets (classification), probabilities, decisions, reasons and warnings; JSON rows or a CSV body (text/csv, ?threshold=&explain=true&top=)",
                  body: ("application/json", schema([
                      "rows": ["type": "array", "items": row], "threshold": number,
                      "costs": ["type": "array", "items": ["type": "array", "items": number], "description": "costs[actual][decided], classes in the model's order"],
                      "explain": ["type": "boolean"], "top": integer,
                  ], required: ["rows"]))),
        Operation(method: "POST", path: "/api/v1/models/{name}/whatif", tag: "models", summary: "The prediction (with its interval or set) for each value of one feature, the rest of the row fixed",
                  body: ("application/json", schema([
                      "row": row, "feature": string, "values": ["type": "array"],
                      "range": schema(["from": number, "to": number, "step": number], required: ["from", "to", "step"]),
                  ], required: ["row", "feature"]))),
        Operation(method: "POST", path: "/invocations", tag: "mlflow", summary: "MLflow scoring protocol: the model named by the X-Model-Name header (X-Model-Version for another version); dataframe_split, dataframe_records, instances or inputs JSON, or text/csv",
                  body: ("application/json", object)),
        Operation(method: "POST", path: "/api/v1/models/{name}/invocations", tag: "mlflow", summary: "MLflow scoring protocol for the serving version",
                  body: ("application/json", object)),
        Operation(method: "POST", path: "/api/v1/models/{name}/versions/{version}/invocations", tag: "mlflow", summary: "MLflow scoring protocol for one version",
                  body: ("application/json", object)),
        Operation(method: "GET", path: "/v2", tag: "inference", summary: "Server metadata"),
        Operation(method: "GET", path: "/v2/models/{model}", tag: "inference", summary: "Model metadata (inputs in feature order)"),
        Operation(method: "GET", path: "/v2/models/{model}/versions/{version}", tag: "inference", summary: "Model metadata"),
        Operation(method: "GET", path: "/v2/models/{model}/ready", tag: "inference", summary: "Model readiness"),
        Operation(method: "GET", path: "/v2/models/{model}/versions/{version}/ready", tag: "inference", summary: "Model readiness"),
        Operation(method: "POST", path: "/v2/models/{model}/infer", tag: "inference", summary: "Inference (Open Inference Protocol)",
                  body: ("application/json", inferenceRequest)),
        Operation(method: "POST", path: "/v2/models/{model}/versions/{version}/infer", tag: "inference", summary: "Inference (Open Inference Protocol)",
                  body: ("application/json", inferenceRequest)),
        Operation(method: "POST", path: "/v2/repository/index", tag: "inference", summary: "Models and their state (repository extension)"),
        Operation(method: "POST", path: "/v2/repository/models/{model}/load", tag: "inference", summary: "Load a model (repository extension)"),
        Operation(method: "POST", path: "/v2/repository/models/{model}/unload", tag: "inference", summary: "Unload a model (repository extension)"),
    ] }

    private static var inferenceRequest: [String: Any] {
        schema([
            "id": string,
            "inputs": ["type": "array", "items": schema([
                "name": string, "shape": ["type": "array", "items": integer],
                "datatype": ["enum": InferenceProtocol.allTypes.sorted()], "data": ["type": "array"],
            ], required: ["name", "shape", "datatype", "data"])],
            "outputs": ["type": "array", "items": schema(["name": string], required: ["name"])],
        ], required: ["inputs"])
    }

    /// The document as JSON bytes.
    static func json() throws -> Data {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            var entry: [String: Any] = [
                "summary": operation.summary, "tags": [operation.tag],
                "responses": [
                    operation.success: ["description": "success"],
                    "default": ["description": "an error", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
                ],
            ]
            let parameters = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { part -> [String: Any] in
                ["name": String(part.dropFirst().dropLast()), "in": "path", "required": true, "schema": string]
            }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if let body = operation.body { entry["requestBody"] = ["required": true, "content": [body.type: ["schema": body.schema]]] }
            if !operation.secured { entry["security"] = [] as [Any] }
            paths[operation.path, default: [:]][operation.method.lowercased()] = entry
        }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": ["title": "Applied-AI Testbed", "version": TestbedVersion.current,
                     "description": "Pilot workspaces for SMEs: datasets, training jobs, models with predictions, reasons and what-if; the Open Inference Protocol (KServe V2)."],
            "security": [["bearer": [] as [Any]]],
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
                "schemas": ["Error": schema(["error": string, "code": string], required: ["error"])],
            ],
            "paths": paths,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    }
}
