import Testing
@testable import InferenceCore

@Suite("Multilayer perceptron")
struct NeuralNetworkTests {
    /// Back-propagation through the GEMMs must agree with central finite differences of the loss,
    /// for every weight and bias of a two-hidden-layer network, on rows of real tables.
    @Test("Gradients match finite differences", arguments: [("Glass.csv", "Type"), ("Servo.csv", "Class")])
    func gradientsMatchFiniteDifferences(_ dataset: String, _ target: String) throws {
        let design = try TestData.design(dataset, target: target, exclude: [])
        let rows = Array(0..<40)
        let x = design.matrix.selectingRows(rows)
        let network = try #require(MultilayerPerceptron.algorithm.fit(
            design.matrix, design.target, parameters: ["hidden_units": 6, "hidden_layers": 2, "max_iter": 3], seed: 2) as? NeuralNetwork)
        var y = Matrix(rows: rows.count, columns: network.layers.last!.weights.columns)
        for row in rows {
            if network.softmax { y[row, Int(design.target.values[row])] = 1 } else { y[row, 0] = (design.target.values[row] - network.targetMean) / network.targetScale }
        }
        let alpha = 0.01
        let analytic = MultilayerPerceptron.lossAndGradients(network, x, y, alpha: alpha).gradients
        let step = 1e-6
        /// The central difference of the loss when `nudge` moves one parameter by ±step.
        func numeric(_ nudge: (inout NeuralNetwork, Double) -> Void) -> Double {
            var plus = network, minus = network
            nudge(&plus, step)
            nudge(&minus, -step)
            return (MultilayerPerceptron.lossAndGradients(plus, x, y, alpha: alpha, gradients: false).loss
                - MultilayerPerceptron.lossAndGradients(minus, x, y, alpha: alpha, gradients: false).loss) / (2 * step)
        }
        var worst = 0.0
        for layer in network.layers.indices {
            for index in network.layers[layer].weights.storage.indices {
                let difference = numeric { $0.layers[layer].weights.storage[index] += $1 }
                worst = max(worst, abs(difference - analytic[layer].weights.storage[index]))
            }
            for index in network.layers[layer].biases.indices {
                let difference = numeric { $0.layers[layer].biases[index] += $1 }
                worst = max(worst, abs(difference - analytic[layer].biases[index]))
            }
        }
        #expect(worst < 1e-7, "largest gradient error \(worst)")
    }

    /// Batches larger than a block go through the network block by block, with GEMV for a single
    /// output: every row's answer must be the one it gets on its own, and the one the training
    /// path's forward pass gives (softmax or the target's units applied), for one and two hidden
    /// layers, with one output (regression) and six (classification).
    /// Widths of 16, 7 and 29 units take the kernels' wide tiles and their masked last tiles;
    /// Satellite's 6,435 rows end in a block of 35, whose last group of 4 rows is short, and
    /// single rows are groups of one.
    @Test("Large batches predict as single rows and the training forward pass do",
          arguments: [("classes", 1, 16), ("classes", 2, 16), ("x.17", 1, 16), ("x.17", 2, 16), ("x.17", 1, 7), ("classes", 2, 29)])
    func largeBatchesPredictAsSingleRowsDo(_ target: String, _ hiddenLayers: Int, _ units: Int) throws {
        let design = try TestData.design("Satellite.csv", target: target, exclude: target == "classes" ? [] : ["classes"])
        let network = try #require(MultilayerPerceptron.algorithm.fit(
            design.matrix, design.target, parameters: ["hidden_units": Double(units), "hidden_layers": Double(hiddenLayers), "max_iter": 2], seed: 3) as? NeuralNetwork)
        // Several whole blocks and a partial one.
        #expect(design.matrix.rows > 2 * network.predictionBlockRows && design.matrix.rows % network.predictionBlockRows != 0)
        let batch = network.predict(design.matrix)
        #expect(batch.rows == design.matrix.rows && batch.columns == (network.softmax ? design.target.classes.count : 1))
        var scores = network.forward(design.matrix).last!
        for row in 0..<scores.rows {
            if network.softmax {
                _ = scores.storage.withUnsafeMutableBufferPointer { values in
                    Softmax.normalize(UnsafeMutableBufferPointer(rebasing: values[row * scores.columns ..< (row + 1) * scores.columns]))
                }
            } else {
                scores[row, 0] = scores[row, 0] * network.targetScale + network.targetMean
            }
        }
        var worstSingle = 0.0, worstForward = 0.0
        for row in 0..<design.matrix.rows {
            let single = network.predict(design.matrix.selectingRows([row]))
            for column in 0..<batch.columns {
                worstSingle = max(worstSingle, abs(single[0, column] - batch[row, column]))
                worstForward = max(worstForward, abs(scores[row, column] - batch[row, column]) / max(1, abs(scores[row, column])))
            }
        }
        #expect(worstSingle < 1e-12, "largest difference from single rows \(worstSingle)")
        #expect(worstForward < 1e-12, "largest relative difference from the forward pass \(worstForward)")
        #expect(network.predict(design.matrix.selectingRows([Int]())).rows == 0)
    }

    /// Each layer kernel this processor runs (`Sources/CBLAS/dense.h`) against OpenBLAS on the
    /// same networks: every layer shape the kernels tile differently, one output (fused with the
    /// layer before) and several, batches that end in a partial tile of rows, and the NaN and the
    /// infinity an input can carry through ReLU (where lanes past the width must not turn
    /// infinity × 0 into a NaN).
    @Test("The layer kernels predict as OpenBLAS does", .enabled(if: !BLAS.DenseKernel.supported.isEmpty),
          arguments: [(1, 16, 1), (2, 7, 1), (1, 29, 6), (2, 13, 3), (0, 0, 1), (1, 100, 1), (1, 51, 1), (1, 32, 1), (2, 32, 2)])
    func denseKernelsMatchOpenBLAS(_ hiddenLayers: Int, _ units: Int, _ outputs: Int) {
        var random = SeededGenerator(seed: UInt64(31 * units + outputs))
        let inputs = 5 + units % 4
        var widths = [inputs] + Array(repeating: units, count: hiddenLayers) + [outputs]
        if hiddenLayers == 0 { widths = [inputs, outputs] }
        var layers = zip(widths, widths.dropFirst()).map { fanIn, fanOut in
            NeuralNetwork.Layer(weights: Matrix(rows: fanIn, columns: fanOut, storage: (0..<fanIn * fanOut).map { _ in Double.random(in: -1...1, using: &random) }),
                                biases: (0..<fanOut).map { _ in Double.random(in: -0.5...0.5, using: &random) })
        }
        // Input 0 weighs positively into every first unit: a row whose input 0 is −∞ makes them all
        // −∞, ReLU makes them 0, and the network's answer for it is finite.
        for unit in 0..<widths[1] { layers[0].weights[0, unit] = abs(layers[0].weights[0, unit]) }
        let network = NeuralNetwork(layers: layers, softmax: outputs > 1, targetMean: 3, targetScale: 2, epochs: 1)
        for rows in [1, 3, 4, 5, 130, 517] {
            var x = Matrix(rows: rows, columns: inputs, storage: (0..<rows * inputs).map { _ in Double.random(in: -3...3, using: &random) })
            if rows == 130 { x[7, 2] = .nan }
            if rows == 517 { x[11, 1] = .infinity; x[300, 0] = -.infinity }
            let openBLAS = network.predict(x, kernel: nil)
            for kernel in BLAS.DenseKernel.supported {
                let predicted = network.predict(x, kernel: kernel)
                for index in predicted.storage.indices {
                    let (ours, theirs) = (predicted.storage[index], openBLAS.storage[index])
                    #expect(ours == theirs || (ours.isNaN && theirs.isNaN) || abs(ours - theirs) <= 1e-12 * max(1, abs(theirs)),
                            "\(kernel), \(rows) rows, value \(index): \(ours) against \(theirs)")
                }
                if rows == 130 { #expect((0..<predicted.columns).allSatisfy { predicted[7, $0].isNaN }) }
                if rows == 517 && hiddenLayers > 0 { #expect((0..<predicted.columns).allSatisfy { predicted[300, $0].isFinite }, "\(kernel)") }
            }
        }
    }

    @Test func earlyStoppingKeepsTheBestEpochAndStops() throws {
        let design = try TestData.design("Satellite.csv", target: "classes", exclude: [])
        let parameters = try MultilayerPerceptron.algorithm.resolve(["max_iter": 500, "early_stopping": 1])
        let network = try #require(MultilayerPerceptron.algorithm.fit(design.matrix, design.target, parameters: parameters, seed: 4) as? NeuralNetwork)
        let accuracy = ClassificationMetrics.compute(actual: design.target.classIndices, probabilities: network.predict(design.matrix))["accuracy"]!
        #expect(network.epochs < 500, "early stopping should stop before 500 epochs")
        #expect(accuracy > 0.88, "training accuracy \(accuracy)")
    }
}
