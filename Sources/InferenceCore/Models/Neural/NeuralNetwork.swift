import Foundation

/// A fitted multilayer perceptron: dense layers with ReLU between them, and a linear output
/// layer followed by softmax (classification) or a rescaling to the target's units (regression).
public struct NeuralNetwork: FittedModel, Equatable {
    /// One dense layer: `output = input · weights + biases`, weights `inputs × outputs`.
    public struct Layer: Sendable, Codable, Equatable {
        public var weights: Matrix
        public var biases: [Double]

        /// `rows` rows of inputs at `input` through this layer into `output` (`rows × biases.count`),
        /// with ReLU when `rectified`: in one pass by `kernel`, or without one, by OpenBLAS adding
        /// the product to rows set to the biases. With `next` (a one-output layer; a kernel only),
        /// the rows go on through it into `output` (`rows` values), this layer's activations never
        /// stored.
        func apply(rows: Int, _ input: UnsafePointer<Double>, into output: UnsafeMutablePointer<Double>, rectified: Bool,
                   kernel: BLAS.DenseKernel?, then next: Layer? = nil) {
            let width = biases.count
            guard rows > 0, width > 0 else { return }
            precondition(next.map { kernel != nil && $0.weights.columns == 1 && $0.weights.rows == width } ?? true,
                         "apply: only a kernel goes on through a next layer, of one output")
            weights.storage.withUnsafeBufferPointer { weights in
                biases.withUnsafeBufferPointer { biases in
                    if let kernel {
                        (next?.weights.storage ?? []).withUnsafeBufferPointer { nextWeights in
                            BLAS.dense(kernel, rows: rows, inputs: self.weights.rows, width: width, input, weights: weights.baseAddress!,
                                       biases: biases.baseAddress!, rectified: rectified, into: output,
                                       then: next.map { (nextWeights.baseAddress!, $0.biases[0]) })
                        }
                        return
                    }
                    // Each row starts as the biases; the product adds input · weights to them.
                    for row in 0..<rows { (output + row * width).update(from: biases.baseAddress!, count: width) }
                    if width == 1 {
                        BLAS.gemv(rows: rows, columns: self.weights.rows, input, weights.baseAddress!, beta: 1, into: output)
                    } else {
                        BLAS.gemm(rows: rows, inner: self.weights.rows, columns: width, input, weights.baseAddress!, beta: 1, into: output)
                    }
                    if rectified {
                        // `v < 0 ? 0 : v` rather than `max`, whose NaN rule keeps the loop from vectorising.
                        for index in 0..<rows * width { let value = output[index]; output[index] = value < 0 ? 0 : value }
                    }
                }
            }
        }
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

    /// Rows per block when predicting: a power of two (OpenBLAS's kernels work through rows in
    /// fours and eights) such that a block's widest layer of activations is at most 16,384 values
    /// (128 KB, well within a core's L2 cache); 128 rows for 100 units. In a sweep with the
    /// benchmark's MLP at 4,096 rows, blocks of 128 to 256 rows were the fastest and 2,048 (the
    /// old block) the slowest, though figures on this machine vary by a quarter between runs.
    var predictionBlockRows: Int {
        let widest = max(1, layers.map(\.weights.columns).max() ?? 1)
        var rows = 16
        while rows < 256, 2 * rows * widest <= 16_384 { rows *= 2 }
        return rows
    }

    /// The batch goes through every layer one block of rows at a time, each layer's activations
    /// in one of two scratch buffers reused from block to block, and the last layer writes
    /// straight into the result. Where the processor has AVX2 (or AVX-512), the layers go through
    /// a kernel of `Sources/CBLAS/dense.h`, and a one-output layer is computed with the layer
    /// before it, from its activations still in registers; elsewhere through OpenBLAS, a single
    /// output by GEMV (its GEMM with one column took four times as long).
    public func predict(_ x: Matrix) -> Matrix { predict(x, kernel: BLAS.DenseKernel.fastest) }

    /// ``predict(_:)`` by a given kernel, or by OpenBLAS (`nil`): for tests to compare them.
    func predict(_ x: Matrix, kernel: BLAS.DenseKernel?) -> Matrix {
        precondition(x.columns == inputWidth, "predict: \(x.columns) columns for a network of \(inputWidth) inputs")
        let outputs = layers[layers.count - 1].weights.columns
        var result = Matrix(rows: x.rows, columns: outputs)
        guard x.rows > 0 else { return result }
        let fusesOutput = kernel != nil && outputs == 1 && layers.count > 1
        let stages = fusesOutput ? layers.count - 1 : layers.count
        let blockRows = min(predictionBlockRows, x.rows)
        let widest = layers.dropLast().map(\.weights.columns).max() ?? 0
        let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2 * blockRows * widest)
        defer { scratch.deallocate() }
        x.storage.withUnsafeBufferPointer { input in
            result.storage.withUnsafeMutableBufferPointer { output in
                for start in stride(from: 0, to: x.rows, by: blockRows) {
                    let rows = min(blockRows, x.rows - start)
                    var source = UnsafePointer(input.baseAddress! + start * x.columns)
                    for index in 0..<stages {
                        let isLast = index == stages - 1
                        let target = isLast ? output.baseAddress! + start * outputs : scratch.baseAddress! + (index % 2) * blockRows * widest
                        layers[index].apply(rows: rows, source, into: target, rectified: index < layers.count - 1, kernel: kernel,
                                            then: fusesOutput && isLast ? layers[index + 1] : nil)
                        source = UnsafePointer(target)
                    }
                    finish(UnsafeMutableBufferPointer(rebasing: output[start * outputs ..< (start + rows) * outputs]), columns: outputs)
                }
            }
        }
        return result
    }

    /// Output scores to predictions in place: softmax over each row's scores, or the target's units.
    private func finish(_ values: UnsafeMutableBufferPointer<Double>, columns: Int) {
        if softmax {
            for start in stride(from: 0, to: values.count, by: columns) {
                Softmax.normalize(UnsafeMutableBufferPointer(rebasing: values[start ..< start + columns]))
            }
        } else {
            for index in values.indices { values[index] = values[index] * targetScale + targetMean }
        }
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
