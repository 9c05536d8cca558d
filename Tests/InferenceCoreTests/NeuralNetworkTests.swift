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
    @Test("Large batches predict as single rows and the training forward pass do",
          arguments: [("classes", 1), ("classes", 2), ("x.17", 1), ("x.17", 2)])
    func largeBatchesPredictAsSingleRowsDo(_ target: String, _ hiddenLayers: Int) throws {
        let design = try TestData.design("Satellite.csv", target: target, exclude: target == "classes" ? [] : ["classes"])
        let network = try #require(MultilayerPerceptron.algorithm.fit(
            design.matrix, design.target, parameters: ["hidden_units": 16, "hidden_layers": Double(hiddenLayers), "max_iter": 2], seed: 3) as? NeuralNetwork)
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

    @Test func earlyStoppingKeepsTheBestEpochAndStops() throws {
        let design = try TestData.design("Satellite.csv", target: "classes", exclude: [])
        let parameters = try MultilayerPerceptron.algorithm.resolve(["max_iter": 500, "early_stopping": 1])
        let network = try #require(MultilayerPerceptron.algorithm.fit(design.matrix, design.target, parameters: parameters, seed: 4) as? NeuralNetwork)
        let accuracy = ClassificationMetrics.compute(actual: design.target.classIndices, probabilities: network.predict(design.matrix))["accuracy"]!
        #expect(network.epochs < 500, "early stopping should stop before 500 epochs")
        #expect(accuracy > 0.88, "training accuracy \(accuracy)")
    }
}
