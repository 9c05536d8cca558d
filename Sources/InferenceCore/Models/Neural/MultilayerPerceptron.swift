import Foundation

/// `mlp`: a multilayer perceptron with one or two hidden ReLU layers, trained by Adam on
/// mini-batches with an L2 penalty, as scikit-learn's `MLPRegressor` and `MLPClassifier`
/// (Glorot-uniform start, the same parameter names and defaults). Forward and backward passes are
/// GEMMs. Regression targets are standardised for training and scaled back in predictions.
public enum MultilayerPerceptron {
    public static let algorithm = Algorithm(
        name: "mlp", tasks: [.regression, .classification],
        parameters: [
            ParameterSpec("hidden_units", default: 100, range: 1...4096, integer: true),
            ParameterSpec("hidden_layers", default: 1, range: 1...2, integer: true),
            ParameterSpec("alpha", default: 1e-4, range: 0...Double.infinity),
            ParameterSpec("learning_rate_init", default: 1e-3, range: 0...1, lowerBoundExcluded: true),
            ParameterSpec("max_iter", default: 200, range: 1...100_000, integer: true),
            ParameterSpec("batch_size", default: 200, range: 1...1_000_000, integer: true),
            // -1: on when there are at least 1,000 rows; 0 off; 1 on. A tenth of the rows is held out
            // and the weights of the best epoch on them are kept.
            ParameterSpec("early_stopping", default: -1, range: -1...1, integer: true),
        ],
        model: NeuralNetwork.self
    ) { x, target, parameters, seed in
        try fit(x, target, parameters: parameters, seed: seed)
    }

    /// Epochs without an improvement larger than `tolerance` before training stops (scikit-learn's `n_iter_no_change`, `tol`).
    static let patience = 10
    static let tolerance = 1e-4

    static func fit(_ x: Matrix, _ target: Target, parameters: Hyperparameters, seed: UInt64) throws -> NeuralNetwork {
        let classification = target.task == .classification
        let outputs = classification ? target.classes.count : 1
        var generator = SeededGenerator(seed: seed)
        var order = Array(0..<x.rows)
        generator.shuffle(&order)
        let earlyStopping = parameters["early_stopping"]! == 1 || (parameters["early_stopping"]! == -1 && x.rows >= 1_000)
        let validation = earlyStopping ? Array(order.prefix(max(1, x.rows / 10))) : []
        let training = Array(order.dropFirst(validation.count))

        let (mean, std) = classification ? (0, 1) : training.map { target.values[$0] }.meanAndStandardDeviation()
        let scale = std > 0 ? std : 1
        // Targets as the network sees them: one-hot rows, or standardised values.
        var encoded = Matrix(rows: x.rows, columns: outputs)
        for row in 0..<x.rows {
            if classification { encoded[row, Int(target.values[row])] = 1 } else { encoded[row, 0] = (target.values[row] - mean) / scale }
        }

        let width = Int(parameters["hidden_units"]!)
        let sizes = [x.columns] + [Int](repeating: width, count: Int(parameters["hidden_layers"]!)) + [outputs]
        var network = NeuralNetwork(layers: zip(sizes, sizes.dropFirst()).map { fanIn, fanOut in
            let bound = (6 / Double(fanIn + fanOut)).squareRoot()
            let uniform = { Double(generator.next() >> 11) / Double(1 << 53) * 2 * bound - bound }
            return NeuralNetwork.Layer(weights: Matrix(rows: fanIn, columns: fanOut, storage: (0..<fanIn * fanOut).map { _ in uniform() }),
                                       biases: (0..<fanOut).map { _ in uniform() })
        }, softmax: classification, targetMean: mean, targetScale: scale, epochs: 0)

        var optimizer = Adam(learningRate: parameters["learning_rate_init"]!, network: network)
        let alpha = parameters["alpha"]!
        let batchSize = min(Int(parameters["batch_size"]!), training.count)
        let validationX = x.selectingRows(validation), validationY = encoded.selectingRows(validation)
        var best = (loss: Double.infinity, network: network)
        var stale = 0
        var shuffled = training
        for _ in 0..<Int(parameters["max_iter"]!) {
            network.epochs += 1
            generator.shuffle(&shuffled)
            var epochLoss = 0.0
            for start in stride(from: 0, to: shuffled.count, by: batchSize) {
                let batch = shuffled[start ..< min(start + batchSize, shuffled.count)]
                let (loss, gradients) = lossAndGradients(network, x.selectingRows(batch), encoded.selectingRows(batch), alpha: alpha)
                epochLoss += loss * Double(batch.count)
                optimizer.step(&network, gradients)
            }
            // Judged on the held-out rows when stopping early, as scikit-learn, else on the training loss.
            let loss = earlyStopping ? lossAndGradients(network, validationX, validationY, alpha: 0, gradients: false).loss
                                     : epochLoss / Double(shuffled.count)
            guard loss.isFinite else {
                throw TestbedError(.numericalFailure, "mlp training diverged (the loss became \(loss)); try a smaller learning_rate_init")
            }
            if loss < best.loss - tolerance { stale = 0 } else { stale += 1 }
            if loss < best.loss { best = (loss, network) }
            if stale >= patience { break }
        }
        if earlyStopping { (best.network.epochs, network) = (network.epochs, best.network) }
        return network
    }

    /// The mean loss of a batch (squared error / 2, or cross-entropy) plus the L2 penalty
    /// `alpha / 2 · Σ w² / rows`, and its gradient for every layer (when asked for).
    static func lossAndGradients(_ network: NeuralNetwork, _ x: Matrix, _ y: Matrix, alpha: Double, gradients wanted: Bool = true)
        -> (loss: Double, gradients: [NeuralNetwork.Layer]) {
        let activations = network.forward(x)
        var delta = activations.last!
        let rows = Double(x.rows)
        var loss = 0.0
        let scores = UnsafeMutableBufferPointer<Double>.allocate(capacity: delta.columns)
        defer { scores.deallocate() }
        for row in 0..<x.rows {
            if network.softmax {
                for k in 0..<delta.columns { scores[k] = delta[row, k] }
                let logSum = Softmax.normalize(scores)
                for k in 0..<delta.columns {
                    if y[row, k] == 1 { loss += logSum - delta[row, k] }
                    delta[row, k] = (scores[k] - y[row, k]) / rows
                }
            } else {
                let error = delta[row, 0] - y[row, 0]
                loss += error * error / 2
                delta[row, 0] = error / rows
            }
        }
        let squares = network.layers.reduce(0) { $0 + $1.weights.storage.reduce(0) { $0 + $1 * $1 } }
        loss = loss / rows + alpha / 2 * squares / rows
        guard wanted else { return (loss, []) }

        var gradients = network.layers
        for index in stride(from: network.layers.count - 1, through: 0, by: -1) {
            let input = index == 0 ? x : activations[index - 1]
            let layer = network.layers[index]
            var weights = layer.weights
            for position in weights.storage.indices { weights.storage[position] *= alpha / rows }
            BLAS.gemm(input, transposeA: true, delta, beta: 1, into: &weights)
            var biases = [Double](repeating: 0, count: delta.columns)
            for row in 0..<delta.rows { for column in 0..<delta.columns { biases[column] += delta[row, column] } }
            gradients[index] = NeuralNetwork.Layer(weights: weights, biases: biases)
            guard index > 0 else { break }
            // Back through this layer's weights and the ReLU before it.
            var previous = BLAS.product(delta, layer.weights, transposeB: true)
            for position in previous.storage.indices where input.storage[position] <= 0 { previous.storage[position] = 0 }
            delta = previous
        }
        return (loss, gradients)
    }
}

/// Adam (Kingma & Ba, 2015) with scikit-learn's defaults: β₁ 0.9, β₂ 0.999, ε 1e-8.
struct Adam {
    let learningRate: Double
    let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    var steps = 0
    /// First and second moments, laid out as the network's parameters.
    var first: [NeuralNetwork.Layer]
    var second: [NeuralNetwork.Layer]

    init(learningRate: Double, network: NeuralNetwork) {
        self.learningRate = learningRate
        let zeros = network.layers.map { layer in
            NeuralNetwork.Layer(weights: Matrix(rows: layer.weights.rows, columns: layer.weights.columns),
                                biases: [Double](repeating: 0, count: layer.biases.count))
        }
        (first, second) = (zeros, zeros)
    }

    mutating func step(_ network: inout NeuralNetwork, _ gradients: [NeuralNetwork.Layer]) {
        steps += 1
        let rate = learningRate * (1 - pow(beta2, Double(steps))).squareRoot() / (1 - pow(beta1, Double(steps)))
        for index in network.layers.indices {
            update(&network.layers[index].weights.storage, gradients[index].weights.storage,
                   &first[index].weights.storage, &second[index].weights.storage, rate: rate)
            update(&network.layers[index].biases, gradients[index].biases, &first[index].biases, &second[index].biases, rate: rate)
        }
    }

    private func update(_ parameters: inout [Double], _ gradient: [Double], _ m: inout [Double], _ v: inout [Double], rate: Double) {
        for i in parameters.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * gradient[i]
            v[i] = beta2 * v[i] + (1 - beta2) * gradient[i] * gradient[i]
            parameters[i] -= rate * m[i] / (v[i].squareRoot() + epsilon)
        }
    }
}
