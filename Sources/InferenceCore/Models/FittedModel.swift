/// A trained model: it maps an encoded input matrix (see ``Preprocessor``) to predictions.
///
/// Fitted models are values produced by an ``Algorithm``'s fit; there is no unfitted state.
public protocol FittedModel: Sendable, Codable {
    /// The number of input columns the model was trained on.
    var inputWidth: Int { get }
    /// Regression: one column of predicted values. Classification: one column of probability
    /// per class, in the order of the target's classes.
    func predict(_ x: Matrix) -> Matrix
    /// What does not fit together in a decoded model, or `nil`: its arrays against each other,
    /// against ``inputWidth`` and against the `predictedColumns` that ``predict(_:)`` must make
    /// (1 for regression, the number of classes for classification). A model file is JSON that
    /// anyone can edit; one whose parts disagree must be refused when it is loaded, not trap (or
    /// read out of bounds) the first time it predicts.
    func inconsistency(predictedColumns: Int) -> String?
}

extension FittedModel {
    /// ``predict(_:)`` after checking the input width.
    public func checkedPredict(_ x: Matrix) throws -> Matrix {
        guard x.columns == inputWidth else {
            throw TestbedError(.shapeMismatch, "the input has \(x.columns) feature columns, but the model was trained on \(inputWidth)")
        }
        return predict(x)
    }
}

/// Hyper-parameters by name. Values are plain numbers with no logic, as scikit-learn's.
public typealias Hyperparameters = [String: Double]

/// A hyper-parameter an algorithm accepts, with its default and allowed range.
public struct ParameterSpec: Sendable {
    public var name: String
    public var defaultValue: Double
    public var range: ClosedRange<Double>
    /// Whether the lower bound itself is excluded (for example `C > 0`).
    public var lowerBoundExcluded: Bool
    /// Whether only whole numbers are allowed.
    public var integer: Bool

    public init(_ name: String, default defaultValue: Double, range: ClosedRange<Double>, lowerBoundExcluded: Bool = false, integer: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.range = range
        self.lowerBoundExcluded = lowerBoundExcluded
        self.integer = integer
    }

    /// Checks `value`, with an error that names the parameter, the value and the allowed range.
    func validate(_ value: Double, algorithm: String) throws {
        let tooLow = lowerBoundExcluded ? value <= range.lowerBound : value < range.lowerBound
        if !value.isFinite || tooLow || value > range.upperBound || (integer && value.rounded() != value) {
            let lower = "\(lowerBoundExcluded ? ">" : ">=") \(formatNumber(range.lowerBound))"
            let upper = range.upperBound.isInfinite ? "" : " and <= \(formatNumber(range.upperBound))"
            throw TestbedError(.invalidParameter, "\(algorithm): \(name) == \(formatNumber(value)), must be \(integer ? "a whole number " : "")\(lower)\(upper)")
        }
    }
}
