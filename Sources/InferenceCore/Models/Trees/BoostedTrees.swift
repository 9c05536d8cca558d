import Foundation

/// A fitted ensemble of boosted regression trees: scores start at `baseline` and every tree adds
/// its leaf output to one of them; a link turns scores into predictions.
public struct BoostedTrees: FittedModel, Equatable {
    public enum Loss: String, Sendable, Codable {
        case squaredError = "squared_error"
        /// Binary: one score, the log-odds of the second class.
        case logLoss = "log_loss"
        /// Multiclass: one score per class.
        case softmax
    }

    public var loss: Loss
    public var outputs: Int
    public var baseline: [Double]
    /// Round after round; within a round, one tree per output.
    public var trees: [FlatTree]
    public var inputWidth: Int

    enum CodingKeys: String, CodingKey {
        case loss, outputs, baseline, trees
        case inputWidth = "input_width"
    }

    public func inconsistency(predictedColumns: Int) -> String? {
        let expected = switch loss { case .squaredError: 1; case .logLoss: 2; case .softmax: outputs }
        guard outputs >= 1, baseline.count == outputs, expected == predictedColumns, loss == .softmax || outputs == 1,
              trees.count % outputs == 0, trees.allSatisfy({ $0.outputs == 1 }) else {
            return "\(trees.count) trees and \(baseline.count) baselines for \(outputs) outputs of a \(loss.rawValue) model that must make \(predictedColumns)"
        }
        return trees.lazy.compactMap { $0.inconsistency(inputWidth: inputWidth) }.first
    }

    public func predict(_ x: Matrix) -> Matrix {
        var scores = baselineScores(rows: x.rows)
        FlatTree.accumulate(trees, x, into: &scores, stride: outputs) { $0 % outputs }
        if loss == .squaredError { return Matrix(rows: x.rows, columns: 1, storage: scores) }
        let probabilities = link(scores)
        if loss == .softmax { return Matrix(rows: x.rows, columns: outputs, storage: probabilities) }
        return Matrix(rows: x.rows, columns: 2, storage: probabilities.flatMap { [1 - $0, $0] })
    }

    /// `baseline` repeated for `rows` rows.
    func baselineScores(rows: Int) -> [Double] {
        var scores: [Double] = []
        scores.reserveCapacity(rows * outputs)
        for _ in 0..<rows { scores.append(contentsOf: baseline) }
        return scores
    }

    /// Scores to probabilities (row-major, `outputs` per row).
    func link(_ scores: [Double]) -> [Double] {
        switch loss {
        case .squaredError: return scores
        case .logLoss: return scores.map(Sigmoid.value)
        case .softmax:
            var probabilities = scores
            probabilities.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<(scores.count / outputs) {
                    Softmax.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * outputs ..< (row + 1) * outputs]))
                }
            }
            return probabilities
        }
    }

    /// The starting scores: the mean, the log-odds, or the log class shares of the training targets.
    static func baseline(_ loss: Loss, _ targets: [Double], classCount: Int) -> [Double] {
        switch loss {
        case .squaredError:
            return [targets.reduce(0, +) / Double(targets.count)]
        case .logLoss:
            let share = min(max(targets.reduce(0, +) / Double(targets.count), 1e-15), 1 - 1e-15)
            return [log(share / (1 - share))]
        case .softmax:
            var counts = [Double](repeating: 0, count: classCount)
            for label in targets { counts[Int(label)] += 1 }
            return counts.map { log(max($0 / Double(targets.count), 1e-15)) }
        }
    }

    /// Gradient and hessian of the loss for output `k`, from the current probabilities (or
    /// scores, for squared error). Hessians are floored so that histogram sums stay positive.
    static func gradients(_ loss: Loss, _ probabilities: [Double], _ targets: [Double], output k: Int, outputs: Int,
                          into gradients: inout [Double], _ hessians: inout [Double]) {
        for row in targets.indices {
            let p = probabilities[row * outputs + k]
            switch loss {
            case .squaredError:
                gradients[row] = p - targets[row]
                hessians[row] = 1
            case .logLoss, .softmax:
                let y: Double = loss == .logLoss ? targets[row] : (Int(targets[row]) == k ? 1 : 0)
                gradients[row] = p - y
                hessians[row] = max(p * (1 - p), 1e-16)
            }
        }
    }

    /// Mean loss of scores against targets (for early stopping).
    func loss(_ scores: [Double], _ targets: [Double]) -> Double {
        let probabilities = link(scores)
        var total = 0.0
        for row in targets.indices {
            switch loss {
            case .squaredError: total += (scores[row] - targets[row]) * (scores[row] - targets[row]) / 2
            case .logLoss:
                let p = min(max(probabilities[row], 1e-15), 1 - 1e-15)
                total -= targets[row] == 1 ? log(p) : log(1 - p)
            case .softmax: total -= log(max(probabilities[row * outputs + Int(targets[row])], 1e-15))
            }
        }
        return total / Double(max(targets.count, 1))
    }
}
