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

    public var inputWidth: Int { layers[0].weights.rows }

    public func predict(_ x: Matrix) -> Matrix {
        var output = forward(x).last!
        if softmax {
            output.storage.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<x.rows {
                    Softmax.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * output.columns ..< (row + 1) * output.columns]))
                }
            }
        } else {
            for index in output.storage.indices { output.storage[index] = output.storage[index] * targetScale + targetMean }
        }
        return output
    }

    /// Every layer's output for a batch, ReLU applied to all but the last (the output scores).
    func forward(_ x: Matrix) -> [Matrix] {
        var activations: [Matrix] = []
        var input = x
        for (index, layer) in layers.enumerated() {
            var output = Matrix(rows: x.rows, columns: layer.weights.columns)
            for row in 0..<x.rows { for column in 0..<output.columns { output.storage[row * output.columns + column] = layer.biases[column] } }
            BLAS.gemm(input, layer.weights, beta: 1, into: &output)
            if index < layers.count - 1 {
                for position in output.storage.indices where output.storage[position] < 0 { output.storage[position] = 0 }
            }
            activations.append(output)
            input = output
        }
        return activations
    }
}
