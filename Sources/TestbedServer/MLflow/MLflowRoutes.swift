import Foundation
import HTTPTypes
import Hummingbird
import InferenceCore

/// MLflow's model scoring protocol, as `mlflow models serve` answers it, so that scoring clients
/// written for MLflow work unchanged: `POST /invocations` (the model named by the `X-Model-Name`
/// header, and `X-Model-Version` for another than the serving one) and
/// `POST /api/v1/models/{name}[/versions/{version}]/invocations`. JSON in any of MLflow's four
/// shapes (``MLflowInput``) or `text/csv`; `{"predictions": [...]}` out: numbers for regression,
/// class labels for classification (numbers when every label is an integer, as scikit-learn's).
struct MLflowRoutes {
    let services: Services

    func add(to secured: RouterGroup<TestbedContext>, api: RouterGroup<TestbedContext>) {
        secured.post("invocations") { request, context -> ScoringResponse in
            guard let name = request.headers[.modelName], !name.isEmpty else {
                throw APIError.badRequest("POST /invocations needs the model's name in the header 'X-Model-Name: <model>' (or POST /api/v1/models/<model>/invocations)")
            }
            let version = try request.headers[.modelVersion].map(VersionNumber.required)
            return try await invoke(request, served: services.registry.find(name, version: version, for: context.tenant()), tenant: context.tenant())
        }
        for prefix in ["models/{name}", "models/{name}/versions/{version}"] {
            api.post(RouterPath(prefix + "/invocations")) { request, context -> ScoringResponse in
                try await invoke(request, served: ModelRoutes.model(context, registry: services.registry), tenant: context.tenant())
            }
        }
    }

    /// `{"predictions": [...]}`, in row order.
    struct ScoringResponse: ResponseEncodable {
        enum Value: Encodable {
            case number(Double), integer(Int64), label(String)
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .number(let value): try container.encode(value)
                case .integer(let value): try container.encode(value)
                case .label(let value): try container.encode(value)
                }
            }
        }
        var predictions: [Value]
    }

    private func invoke(_ request: Request, served: ServedModel, tenant: String) async throws -> ScoringResponse {
        let model = served.model
        let type = request.headers[.contentType]?.lowercased() ?? "application/json"
        let csv = type.hasPrefix("text/csv")
        guard csv || type.hasPrefix("application/json") else {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type",
                           message: "Content-Type '\(type.clipped(to: 80))' is not one MLflow's scoring protocol takes; send application/json or text/csv")
        }
        let buffer = try await request.collectBody(limit: services.limits.maxRequestBytes)
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest(#"the body is empty; expected JSON such as {"dataframe_split": {"columns": [...], "data": [[...]]}} or CSV with Content-Type: text/csv"#, code: "invalid_json")
        }
        let table: DataTable
        if csv {
            table = try CSVReader(options: CSVReadOptions(textColumns: model.textColumns, maxColumns: services.limits.maxColumns))
                .read(bytes: Array(buffer.readableBytesView))
        } else {
            table = try buffer.withUnsafeReadableBytes { try MLflowInput.table(JSONParser.parse($0), model: model, limits: services.limits) }
        }
        try MLflowInput.checkColumns(table, model: model, name: served.name, limits: services.limits)
        let (predictions, _) = try await Scoring.predict(served, table)
        _ = services.monitoring.record(served, tenant: tenant, table: table, predictions: predictions)
        guard model.task == .classification else { return ScoringResponse(predictions: predictions.values.map(ScoringResponse.Value.number)) }
        if let integers = model.integerClasses {
            return ScoringResponse(predictions: predictions.values.map { .integer(integers[Int($0)]) })
        }
        return ScoringResponse(predictions: predictions.labels.map(ScoringResponse.Value.label))
    }
}

extension HTTPField.Name {
    /// Which model `POST /invocations` scores with.
    static let modelName = Self("X-Model-Name")!
    /// Which version of it; the serving one when absent.
    static let modelVersion = Self("X-Model-Version")!
}
