import Foundation
import InferenceCore

/// Fuzzes the model-file loader the registry uses (`TrainedModel.load` reads the file, then
/// `TrainedModel(jsonData:)`): a model file that loads must be usable, or refused with an
/// error, on one ordinary row — never crash. A loaded model is also explained, saved again and
/// exported to ONNX (the export reads every array of the file).
enum ModelFileFuzzing {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let model = try? TrainedModel(jsonData: Data(input)) else { return }
        let table = oneRow(for: model)
        if let predictions = try? model.predict(table, missingColumns: .impute) {
            if model.task == .classification { _ = predictions.labels }
            _ = try? model.explain(table, predictions: predictions, missingColumns: .impute)
        }
        _ = try? model.jsonData()
        _ = try? ExportFormat.onnx.export(model)
    }

    /// One row with every feature present: numbers at their training mean (else 1), text
    /// features at their most frequent training category (else "a").
    static func oneRow(for model: TrainedModel) -> DataTable {
        let summaries = Dictionary(model.training.featureSummaries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let columns = model.features.map { feature -> Column in
            let summary = summaries[feature.name]
            if feature.kind == .numeric {
                return Column(name: feature.name, values: .numeric([summary?.mean ?? 1]))
            }
            let category = summary?.categoryCounts?.max { $0.value < $1.value }?.key ?? "a"
            return Column(name: feature.name, values: TableInput.textValues([category]))
        }
        return DataTable(columns: columns)
    }
}
