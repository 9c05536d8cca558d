import Foundation
import InferenceCore

/// Building blocks of the schemas in ``OpenAPIDocument``, and the schemas that cannot be read
/// off a `Decodable` type: request bodies (whose limits a type does not state) and the Open
/// Inference Protocol's answers (written by hand, in `KServe/`).
enum Schema {
    nonisolated(unsafe) static let string: JSONSchema = ["type": "string"]
    nonisolated(unsafe) static let number: JSONSchema = ["type": "number"]
    nonisolated(unsafe) static let integer: JSONSchema = ["type": "integer"]
    nonisolated(unsafe) static let boolean: JSONSchema = ["type": "boolean"]
    /// Any JSON object.
    nonisolated(unsafe) static let anyObject: JSONSchema = ["type": "object"]

    static func string(pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil, enum values: [String]? = nil) -> JSONSchema {
        var schema = string
        if let pattern { schema["pattern"] = pattern }
        if let minLength { schema["minLength"] = minLength }
        if let maxLength { schema["maxLength"] = maxLength }
        if let values { schema["enum"] = values }
        return schema
    }

    static func integer(minimum: Int? = nil, maximum: Int? = nil) -> JSONSchema {
        var schema = integer
        if let minimum { schema["minimum"] = minimum }
        if let maximum { schema["maximum"] = maximum }
        return schema
    }

    /// A number in `minimum...maximum`, or between them exclusive.
    static func number(minimum: Double? = nil, maximum: Double? = nil, exclusive: Bool = false) -> JSONSchema {
        var schema = number
        if let minimum { schema[exclusive ? "exclusiveMinimum" : "minimum"] = minimum }
        if let maximum { schema[exclusive ? "exclusiveMaximum" : "maximum"] = maximum }
        return schema
    }

    static func array(_ items: JSONSchema, minItems: Int? = nil, maxItems: Int? = nil) -> JSONSchema {
        var schema: JSONSchema = ["type": "array", "items": items]
        if let minItems { schema["minItems"] = minItems }
        if let maxItems { schema["maxItems"] = maxItems }
        return schema
    }

    static func object(_ properties: [String: JSONSchema], required: [String] = []) -> JSONSchema {
        ["type": "object", "properties": properties, "required": required]
    }

    /// A request body's object: its optional fields may also be `null`, which the server reads
    /// as if the field were left out (as `Decodable` does).
    static func request(_ properties: [String: JSONSchema], required: [String] = []) -> JSONSchema {
        object(properties.mapValues { $0 }.reduce(into: [:]) { result, entry in
            result[entry.key] = required.contains(entry.key) ? entry.value : nullable(entry.value)
        }, required: required)
    }

    /// `schema`, or `null`.
    static func nullable(_ schema: JSONSchema) -> JSONSchema {
        var schema = schema
        if let values = schema["enum"] as? [Any] { schema["enum"] = values + [NSNull()] }
        if let type = schema["type"] as? String {
            schema["type"] = [type, "null"]
        } else if let types = schema["type"] as? [String] {
            if !types.contains("null") { schema["type"] = types + ["null"] }
        } else if let choices = schema["oneOf"] as? [JSONSchema] {
            schema["oneOf"] = choices + [["type": "null"]]
        }
        return schema
    }

    /// Not both of two fields with a value (`null` counts as left out).
    static func notBoth(_ first: String, _ second: String, in properties: [String: JSONSchema]) -> JSONSchema {
        ["required": [first, second], "properties": [first: properties[first] ?? [:], second: properties[second] ?? [:]]]
    }

    /// An object whose keys are free and whose values all have `values`' schema.
    static func map(_ values: JSONSchema) -> JSONSchema { ["type": "object", "additionalProperties": values] }

    /// The schema of what the server encodes for `type` (``SchemaReflection``).
    static func of<T: Decodable>(_ type: T.Type) -> JSONSchema { SchemaReflection.schema(of: type) }

    static func ref(_ component: String) -> JSONSchema { ["$ref": "#/components/schemas/\(component)"] }

    static func described(_ schema: JSONSchema, _ description: String) -> JSONSchema {
        schema.merging(["description": description]) { _, new in new }
    }

    // MARK: Values the API shares

    /// Names of tenants, datasets and models (``ResourceName``).
    nonisolated(unsafe) static let resourceName = string(pattern: "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")
    /// A version in a path or query (``VersionNumber``).
    nonisolated(unsafe) static let version = described(integer(minimum: 1, maximum: 999_999_999), "a version number: 1, 2, 3, …")
    /// A cell of a JSON row (``JSONCell``).
    nonisolated(unsafe) static let cell: JSONSchema = ["type": ["number", "string", "boolean", "null"]]
    /// A row of a table: column name to value.
    nonisolated(unsafe) static let row: JSONSchema = ["type": "object", "additionalProperties": cell, "minProperties": 1]
    /// The error every route answers with, with the status that says what went wrong.
    nonisolated(unsafe) static let error = described(object(["error": described(string, "what was wrong and what to send instead"),
                                         "code": described(string, "stable for programs: not_found, invalid_json, unauthorized, …")],
                                        required: ["error", "code"]),
                                 "An error: the status says what kind, `error` what exactly.")

    // MARK: Request bodies

    nonisolated(unsafe) static let createTenant = request(["id": described(resourceName, "a short name, used in URLs and logs"), "display_name": string],
                                     required: ["id"])

    static var createJob: JSONSchema {
        let algorithm = string(enum: ["auto"] + AlgorithmRegistry.all.map(\.name))
        return request([
            "dataset": described(string, "the id of one of your datasets"),
            "target": described(string, "the column to predict"),
            "task": string(enum: LearningTask.allCases.map(\.rawValue)),
            "algorithms": described(["oneOf": [algorithm, array(string(enum: AlgorithmRegistry.all.map(\.name)), minItems: 1)]],
                                    "auto (a search over every family), one algorithm, or several to search among (GET /api/v1/algorithms)"),
            "folds": integer(minimum: 2, maximum: 20),
            "seed": integer(minimum: 0, maximum: Int.max),
            "time_budget_seconds": described(["type": "number", "exclusiveMinimum": 0, "maximum": 86_400], "default 300"),
            "model_name": described(resourceName, "a new name, or one of your models' to add its next version"),
            "split": described(string(enum: SplitScheme.allCases.map(\.rawValue)),
                               "how rows are split into folds (default: time order for a dataset with one timestamp column, group with group_column, else random)"),
            "time_column": string,
            "group_column": string,
            "gap": described(integer(minimum: 0, maximum: Int.max), "time splits: rows left out between training and test"),
            "coverage": described(number(minimum: 0, maximum: 1, exclusive: true), "share of new rows the prediction intervals or sets cover (default 0.9)"),
            "promote": described(boolean, "with an existing model_name: the new version serves as soon as it is trained"),
        ], required: ["dataset", "target"])
    }

    nonisolated(unsafe) static let retrain = request(["dataset": described(string, "the id of a newer upload of the same table"), "promote": boolean],
                                required: ["dataset"])

    nonisolated(unsafe) static let feedback: JSONSchema = {
        var schema = request([
            "outcomes": array(object(["prediction_id": described(string, "as /predict answered it"), "actual": ["type": ["number", "string"]]],
                                     required: ["prediction_id", "actual"]), minItems: 1),
            "rows": described(array(row, minItems: 1), "rows with the actual value in the target column"),
        ])
        // Exactly one of the two, the other left out or null.
        schema["oneOf"] = [["required": ["outcomes"], "properties": ["outcomes": ["type": "array"], "rows": ["type": "null"]]],
                           ["required": ["rows"], "properties": ["rows": ["type": "array"], "outcomes": ["type": "null"]]]]
        return schema
    }()

    nonisolated(unsafe) static let settingsChange = request(["prediction_retention_days": integer(minimum: 1, maximum: 3_650), "log_inputs": boolean])

    nonisolated(unsafe) static let predict: JSONSchema = {
        var schema = request([
            "rows": array(row, minItems: 1),
            "threshold": described(number(minimum: 0, maximum: 1), "two-class models: the probability of the second class from which it is decided"),
            "costs": described(array(array(number(minimum: 0), minItems: 1), minItems: 1), "costs[actual][decided], classes in the model's order"),
            "explain": described(boolean, "add each row's largest contributions and their base value"),
            "top": described(integer(minimum: 1, maximum: 999_999_999), "contributions per row when explained (default 5)"),
        ], required: ["rows"])
        schema["not"] = notBoth("threshold", "costs", in: ["threshold": number, "costs": ["type": "array"]])
        return schema
    }()

    nonisolated(unsafe) static let whatIf: JSONSchema = {
        var schema = request([
            "row": row, "feature": described(string, "a feature of the model"),
            "values": described(array(cell, minItems: 1, maxItems: WhatIfGrid.maxPoints), "the values of the feature to predict at"),
            "range": described(object(["from": number, "to": number, "step": number(minimum: 0, exclusive: true)], required: ["from", "to", "step"]),
                               "or a grid of numbers"),
        ], required: ["row", "feature"])
        schema["not"] = notBoth("values", "range", in: ["values": ["type": "array"], "range": ["type": "object"]])
        return schema
    }()

    /// A CSV table: `format` names it for tools that can make one (schemathesis, through
    /// scripts/schemathesis_hooks.py), since a JSON schema cannot describe CSV.
    nonisolated(unsafe) static let csv = described(string(minLength: 1).merging(["format": "csv"]) { _, new in new },
                                                   "a CSV table: a header line of column names, then one line per row, each with as many fields")

    // MARK: The Open Inference Protocol (its types encode by hand or live in KServe/)

    /// The request as the server reads it: `parameters` (of the request, its inputs and
    /// outputs) are accepted and ignored, so they are not described.
    /// A `parameters` object: the flags this server reads, and any other (ignored), as the protocol allows.
    static func parameters(_ known: [String: JSONSchema]) -> JSONSchema {
        ["type": "object", "properties": known, "additionalProperties": true]
    }

    nonisolated(unsafe) static let inferenceRequest = described(request([
        "id": string,
        "parameters": parameters(["binary_data_output": described(boolean, "true: every output as raw bytes (binary tensor data extension)")]),
        "inputs": array(object([
            "name": string, "shape": array(integer(minimum: 0, maximum: InferenceProtocol.largestDimension), minItems: 1),
            "datatype": string(enum: InferenceProtocol.allTypes.sorted()),
            // Flat or nested row-major; elements are numbers, strings, booleans or null, never objects.
            "data": ["type": "array", "items": ["type": ["number", "string", "boolean", "null", "array"],
                                                "items": ["type": ["number", "string", "boolean", "null", "array"], "items": cell]]],
            "parameters": parameters([:]),
        ], required: ["name", "shape", "datatype", "data"]), minItems: 1),
        "outputs": array(object(["name": string, "parameters": parameters(["binary_data": described(boolean, "true: this output as raw bytes")])],
                                required: ["name"])),
    ], required: ["inputs"]), "the shape's product must equal the number of values in data (nested arrays are flattened); with Content-Type application/octet-stream and Inference-Header-Content-Length, inputs give parameters.binary_data_size instead of data and their raw bytes follow the JSON header")

    /// MLflow's scoring bodies: exactly one of the four shapes.
    nonisolated(unsafe) static let invocations: JSONSchema = {
        // At least one row in every shape: a body without rows is refused.
        let rows: JSONSchema = ["oneOf": [array(["oneOf": [row, array(cell), cell]], minItems: 1),
                                          map(array(cell, minItems: 1)).merging(["minProperties": 1]) { _, new in new }]]
        let shapes: [String: JSONSchema] = [
            "dataframe_split": object(["columns": array(string, minItems: 1), "data": array(array(cell, minItems: 1), minItems: 1), "index": ["type": "array"]],
                                      required: ["columns", "data"]),
            "dataframe_records": array(row, minItems: 1),
            "instances": rows,
            "inputs": rows,
        ]
        return described(["type": "object", "properties": shapes.merging(["params": anyObject]) { a, _ in a },
                          "oneOf": shapes.keys.sorted().map { ["required": [$0]] }],
                         "exactly one of dataframe_split, dataframe_records, instances and inputs, as MLflow's scoring server takes; params is ignored")
    }()

    nonisolated(unsafe) static let invocationsResponse = object(["predictions": described(array(["type": ["number", "string"]]),
        "in row order: numbers for regression, class labels for classification (numbers when every label is an integer)")], required: ["predictions"])

    nonisolated(unsafe) static let tensorMetadata = object(["name": string, "datatype": string, "shape": array(integer)], required: ["name", "datatype", "shape"])

    nonisolated(unsafe) static let inferenceResponse = object([
        "model_name": string, "model_version": string, "id": string,
        "parameters": described(map(string), "prediction_ids: each row's id for feedback, comma-separated"),
        "outputs": array(object([
            "name": string, "datatype": string, "shape": array(integer),
            "parameters": map(string),
            "data": array(["type": ["number", "string", "boolean"]]),
        ], required: ["name", "datatype", "shape", "data"])),
    ], required: ["model_name", "model_version", "outputs"])

    nonisolated(unsafe) static let modelMetadata = object([
        "name": string, "versions": array(string), "platform": string,
        "inputs": array(tensorMetadata), "outputs": array(tensorMetadata), "parameters": map(string),
    ], required: ["name", "versions", "platform", "inputs", "outputs", "parameters"])

    nonisolated(unsafe) static let serverMetadata = object(["name": string, "version": string, "extensions": array(string)], required: ["name", "version", "extensions"])
    nonisolated(unsafe) static let liveState = object(["live": boolean], required: ["live"])
    nonisolated(unsafe) static let readyState = object(["name": string, "ready": boolean], required: ["ready"])
    nonisolated(unsafe) static let repositoryEntry = object(["name": string, "version": string, "state": string(enum: ["READY", "UNAVAILABLE"]), "reason": string],
                                        required: ["name", "version", "state", "reason"])
    nonisolated(unsafe) static let empty = object([:])
}

extension JSONCell: JSONSchemaDescribed {
    static var jsonSchema: JSONSchema { Schema.cell }
    static var schemaPlaceholder: JSONCell { .null }
}

extension PredictedValue: JSONSchemaDescribed {
    static var jsonSchema: JSONSchema { ["type": ["number", "string"], "description": "a number (regression) or a class label"] }
    static var schemaPlaceholder: PredictedValue { .number(0) }
}
