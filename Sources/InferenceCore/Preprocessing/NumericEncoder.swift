/// Median imputation (or none), an optional missing-indicator column and standardisation for one numeric
/// (or boolean) column, as scikit-learn's `SimpleImputer(strategy="median")` followed by
/// `StandardScaler` in a pipeline: the scaler sees the imputed values.
public struct NumericEncoder: Sendable, Codable, Equatable {
    public var column: String
    /// For a boolean column: its spellings; the true one encodes as 1.
    public var boolean: BooleanLevels?
    /// The value a missing cell takes; `nil` keeps it missing (NaN) for models that handle it.
    public var median: Double?
    public var center: Double
    /// Population standard deviation of the imputed values; 1 for a constant column.
    public var scale: Double
    /// Whether a 0/1 column marks the cells that were missing (only when training had some).
    public var missingIndicator: Bool

    enum CodingKeys: String, CodingKey {
        case column, boolean, median, center, scale
        case missingIndicator = "missing_indicator"
    }

    /// Fits on the training values (NaN is missing).
    init(column: String, values: [Double], boolean: BooleanLevels?, standardize: Bool, impute: Bool, addIndicator: Bool) {
        let present = values.sortedPresent()
        let median = present.isEmpty ? 0 : NumericSummary.median(ofSorted: present)
        let (mean, std) = impute ? values.map { $0.isNaN ? median : $0 }.meanAndStandardDeviation() : present.meanAndStandardDeviation()
        self.column = column
        self.boolean = boolean
        self.median = impute ? median : nil
        self.center = standardize ? mean : 0
        // As scikit-learn: a scale that is zero up to rounding counts as zero and becomes 1.
        self.scale = !standardize || std < 10 * Double.ulpOfOne * max(abs(mean), 1) ? 1 : std
        self.missingIndicator = addIndicator && present.count < values.count
    }

    var outputNames: [String] {
        missingIndicator ? [column, "\(column) (missing)"] : [column]
    }

    /// Writes the encoded value (and indicator) of one cell.
    @inline(__always)
    func encode(_ value: Double, into output: UnsafeMutablePointer<Double>) {
        output[0] = ((value.isNaN ? median ?? .nan : value) - center) / scale
        if missingIndicator { output[1] = value.isNaN ? 1 : 0 }
    }
}
