#if FUZZING
import Foundation
import InferenceCore
import SwiftProtobuf

/// `testbed fuzz seeds DIR`: writes seed inputs that depend on the fuzzing models (their index
/// in ``FuzzModels`` and their columns) into `DIR/<target>/`, to be reviewed and committed under
/// `Tests/Fuzz/corpus/`. Rerun it when ``FuzzModels`` changes.
enum FuzzSeeds {
    static func write(to directory: String) throws {
        let models = try FuzzModels.load().map(\.model)
        for (index, model) in models.enumerated() {
            let name = "\(index)-\(model.algorithm)-\(model.task.rawValue)"
            let row = sampleRow(model)
            try save(directory, "tensor", "\(name)-columns", index: index, columnTensors(model, row: row))
            if let matrix = matrixTensor(model, row: row) {
                try save(directory, "tensor", "\(name)-matrix", index: index, matrix)
            }
            try write(binaryTensors(model, row: row, index: index), to: "\(directory)/tensor/\(name)-binary")
            let inputs = model.preprocessor.inputColumns
            try save(directory, "mlflow", "\(name)-split", index: index,
                     ["dataframe_split": ["columns": inputs, "data": [inputs.map { row[$0] ?? NSNull() }]]])
            try save(directory, "mlflow", "\(name)-records", index: index, ["dataframe_records": [row]])
            try save(directory, "mlflow", "\(name)-inputs", index: index, ["inputs": row.mapValues { [$0, $0] }, "params": [:] as [String: Any]])
            try save(directory, "mlflow", "\(name)-instances", index: index, ["instances": [inputs.map { row[$0] ?? NSNull() }]])
            var predict: [String: Any] = ["rows": [row, [:]], "explain": true, "top": 3]
            if model.task == .classification {
                let count = model.classes.count
                predict[count == 2 ? "threshold" : "costs"] = count == 2 ? 0.3 as Any : (0..<count).map { actual in (0..<count).map { $0 == actual ? 0.0 : 1.0 } } as Any
            }
            try save(directory, "predict", name, index: index, predict)
            try save(directory, "predict", "\(name)-whatif", index: 0x80 | index, whatIf(model, row: row))
            // Feedback: rows with their actual value (the first class, or the training mean), and outcomes by id.
            let actual: Any = model.task == .classification ? model.classes[0] as Any : (model.training.featureSummaries.first?.mean ?? 1) as Any
            var labelled = row
            labelled[model.target] = actual
            try save(directory, "feedback", "\(name)-rows", index: index, ["rows": [labelled, [model.target: actual]]])
            try save(directory, "feedback", "\(name)-outcomes", index: index,
                     ["outcomes": [["prediction_id": "1a2b3c4d-0", "actual": actual], ["prediction_id": "-", "actual": NSNull()]]])
            // gRPC ModelInfer messages: every column typed, every column raw, and the raw matrix.
            for (form, message) in grpcMessages(model, row: row) {
                try write([UInt8(index)] + (try message.serializedBytes()), to: "\(directory)/grpc/\(name)-\(form)")
            }
            // A small model file of each family for the loader (the demo models are large).
            if index >= FuzzModels.demoModels.count {
                try write(Array(try model.jsonData()), to: "\(directory)/modelfile/\(model.algorithm)-\(model.task.rawValue)-\(index).json")
            }
        }
    }

    /// One row as JSON values: numbers at their training mean, text at its most frequent category.
    static func sampleRow(_ model: TrainedModel) -> [String: Any] {
        var row: [String: Any] = [:]
        let table = ModelFileFuzzing.oneRow(for: model)
        for column in table.columns {
            switch column.values {
            case .numeric(let values): row[column.name] = values[0]
            default: row[column.name] = column.values.text(at: 0) ?? NSNull()
            }
        }
        return row
    }

    /// A what-if body for the first feature: a range over its training span when numeric,
    /// its categories when not, the rest of `row` held.
    static func whatIf(_ model: TrainedModel, row: [String: Any]) -> [String: Any] {
        let feature = model.features[0]
        var body: [String: Any] = ["row": row, "feature": feature.name]
        let summary = model.training.featureSummaries.first { $0.name == feature.name }
        if let low = summary?.min, let high = summary?.max, high > low {
            body["range"] = ["from": low, "to": high, "step": (high - low) / 7]
        } else if let counts = summary?.categoryCounts {
            body["values"] = counts.keys.sorted() + ["unseen"]
        }
        return body
    }

    /// One tensor per input column, as MLServer's `pd` content type sends them.
    static func columnTensors(_ model: TrainedModel, row: [String: Any]) -> [String: Any] {
        let inputs = model.preprocessor.inputColumns.map { name -> [String: Any] in
            let value = row[name] ?? NSNull()
            return ["name": name, "shape": [1], "datatype": value is Double ? "FP64" : "BYTES", "data": [value]]
        }
        return ["id": "seed", "inputs": inputs]
    }

    /// The column tensors in the binary data extension's framing: the model byte with its high
    /// bit set, the header's length in two bytes, the header, then each column's raw bytes.
    static func binaryTensors(_ model: TrainedModel, row: [String: Any], index: Int) throws -> [UInt8] {
        var data: [UInt8] = []
        let inputs = model.preprocessor.inputColumns.map { name -> [String: Any] in
            let bytes: [UInt8]
            switch row[name] {
            case let number as Double: bytes = withUnsafeBytes(of: number.bitPattern.littleEndian, Array.init)
            case let text as String: bytes = withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian, Array.init) + Array(text.utf8)
            default: bytes = withUnsafeBytes(of: UInt32(0).littleEndian, Array.init)
            }
            data += bytes
            return ["name": name, "shape": [1, 1], "datatype": row[name] is Double ? "FP64" : "BYTES", "parameters": ["binary_data_size": bytes.count]]
        }
        let header = Array(try JSONSerialization.data(withJSONObject: ["inputs": inputs, "parameters": ["binary_data_output": true]], options: [.sortedKeys]))
        return [UInt8(0x80 | index), UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + data
    }

    /// One `[2, F]` tensor in feature order, when every input column is numeric.
    static func matrixTensor(_ model: TrainedModel, row: [String: Any]) -> [String: Any]? {
        let values = model.preprocessor.inputColumns.map { row[$0] as? Double }
        guard values.allSatisfy({ $0 != nil }) else { return nil }
        let numbers = values.map { $0! }
        return ["inputs": [["name": "input-0", "shape": [2, numbers.count], "datatype": "FP64", "data": [numbers, numbers.map { -$0 }]]],
                "outputs": [["name": "predict"]]]
    }

    /// The row as gRPC messages: one tensor per column in typed contents and in
    /// `raw_input_contents`, and, when every input is numeric, one raw `[2, F]` matrix asking for
    /// binary outputs.
    static func grpcMessages(_ model: TrainedModel, row: [String: Any]) -> [(String, Inference_ModelInferRequest)] {
        var typed = Inference_ModelInferRequest(), raw = Inference_ModelInferRequest()
        typed.id = "seed"
        for name in model.preprocessor.inputColumns {
            var tensor = Inference_ModelInferRequest.InferInputTensor()
            (tensor.name, tensor.shape) = (name, [1])
            var rawTensor = tensor
            if let number = row[name] as? Double {
                (tensor.datatype, rawTensor.datatype) = ("FP64", "FP64")
                tensor.contents.fp64Contents = [number]
                raw.rawInputContents.append(Data(RawTensorData.encode(.numbers([number]))))
            } else {
                let text = row[name] as? String ?? ""
                (tensor.datatype, rawTensor.datatype) = ("BYTES", "BYTES")
                tensor.contents.bytesContents = [Data(text.utf8)]
                raw.rawInputContents.append(Data(RawTensorData.encode(.strings([text]))))
            }
            typed.inputs.append(tensor)
            raw.inputs.append(rawTensor)
        }
        var messages = [("typed", typed), ("raw", raw)]
        let numbers = model.preprocessor.inputColumns.compactMap { row[$0] as? Double }
        if numbers.count == model.preprocessor.inputColumns.count {
            var matrix = Inference_ModelInferRequest()
            matrix.inputs = [.with { $0.name = "input-0"; $0.datatype = "FP64"; $0.shape = [2, Int64(numbers.count)] }]
            matrix.rawInputContents = [Data(RawTensorData.encode(.numbers(numbers + numbers.map { -$0 })))]
            matrix.parameters["binary_data_output"] = .with { $0.boolParam = true }
            matrix.outputs = [.with { $0.name = "predict" }]
            messages.append(("matrix", matrix))
        }
        return messages
    }

    private static func save(_ directory: String, _ target: String, _ name: String, index: Int, _ body: Any) throws {
        let json = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        try write([UInt8(index)] + Array(json), to: "\(directory)/\(target)/\(name)")
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
#endif
