import Foundation

/// A fitted multilayer perceptron: dense layers with ReLU between them, and a linear output
/// layer followed by softmax (classification) or a rescaling to the target's units (regression).
public struct NeuralNetwork: FittedModel, Equatable {
    /// One dense layer: `output = input · weights + biases`, weights `inputs × outputs`.
    public struct Layer: Sendable, Codable, Equatable {
        public var weights: Matrix
        public var biases: [Double]
    }

    public var layers: [Layer]
    /// Whether the output layer's scores go through softmax (classification).
    public var softmax: Bool
    /// Regression: the network predicts `(y − targetMean) / targetScale`.
    public var targetMean: Double
    public var targetScale: Double
    /// Passes over the training rows made before training stopped.
    public var epochs: Int

    enum CodingKeys: String, CodingKey {
        case layers, softmax, epochs
        case targetMean = "target_mean"
        case targetScale = "target_scale"
    }

    public var inputWidth: Int { layers.first?.weights.rows ?? 0 }

    public func inconsistency(predictedColumns: Int) -> String? {
        guard let last = layers.last else { return "a network without layers" }
        for (index, layer) in layers.enumerated() {
            guard layer.biases.count == layer.weights.columns, index == 0 || layers[index - 1].weights.columns == layer.weights.rows else {
                return "layer \(index + 1)'s \(layer.weights.rows) × \(layer.weights.columns) weights and \(layer.biases.count) biases do not follow the layer before"
            }
        }
        guard last.weights.columns == predictedColumns, softmax || predictedColumns == 1 else {
            return "the last layer makes \(last.weights.columns) outputs where \(predictedColumns) are needed"
        }
        return nil
    }

    /// Rows per forward pass when predicting: large batches go through in blocks so that a hidden
    /// layer's activations stay in cache (65,536 rows × 100 units would be 52 MB per layer).
    static let predictionBlockRows = 2048

    public func predict(_ x: Matrix) -> Matrix {
        let block = Self.predictionBlockRows
        guard x.rows > block else { return predictBlock(x) }
        var storage: [Double] = []
        storage.reserveCapacity(x.rows * layers[layers.count - 1].weights.columns)
        for start in stride(from: 0, to: x.rows, by: block) {
            storage += predictBlock(x.selectingRows(start ..< min(start + block, x.rows))).storage
        }
        return Matrix(rows: x.rows, columns: layers[layers.count - 1].weights.columns, storage: storage)
    }

    private func predictBlock(_ x: Matrix) -> Matrix {
        var output = forward(x).last!
        if softmax {
            output.storage.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<x.rows {
                    Softmax.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * output.columns ..< (row + 1) * output.columns]))
                }
            }
        } else {
            output.storage.withUnsafeMutableBufferPointer { values in
                for index in values.indices { values[index] = values[index] * targetScale + targetMean }
            }
        }
        return output
    }

    /// Every layer's output for a batch, ReLU applied to all but the last (the output scores).
    func forward(_ x: Matrix) -> [Matrix] {
        var activations: [Matrix] = []
        var input = x
        for (index, layer) in layers.enumerated() {
            // Each row starts as the biases; GEMM adds input · weights to it.
            let width = layer.weights.columns
            var output = Matrix(rows: x.rows, columns: width, storage: [Double](unsafeUninitializedCapacity: x.rows * width) { buffer, count in
                layer.biases.withUnsafeBufferPointer { biases in
                    for row in 0..<x.rows { _ = UnsafeMutableBufferPointer(rebasing: buffer[row * width ..< (row + 1) * width]).initialize(fromContentsOf: biases) }
                }
                count = x.rows * width
            })
            BLAS.gemm(input, layer.weights, beta: 1, into: &output)
            if index < layers.count - 1 {
                output.storage.withUnsafeMutableBufferPointer { values in
                    for position in values.indices { values[position] = max(values[position], 0) }
                }
            }
            activations.append(output)
            input = output
        }
        return activations
    }
}
