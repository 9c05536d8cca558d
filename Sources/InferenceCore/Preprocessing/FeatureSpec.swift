/// A model input: a column of the training table and how it is interpreted.
public struct FeatureSpec: Sendable, Codable, Equatable {
    public var name: String
    /// `.numeric`, `.boolean`, `.categorical` or `.timestamp`.
    public var kind: ColumnKind
    /// `.timestamp`: how the training column's cells are written.
    public var timestampFormat: TimestampFormat?

    enum CodingKeys: String, CodingKey {
        case name, kind
        case timestampFormat = "timestamp_format"
    }

    public init(name: String, kind: ColumnKind, timestampFormat: TimestampFormat? = nil) {
        self.name = name
        self.kind = kind
        self.timestampFormat = timestampFormat
    }

    /// The feature columns of `table`: every numeric, boolean, categorical and timestamp column except the
    /// target and `excluded`, with a note for each column left out and why.
    public static func select(from table: DataTable, target: String?, excluded: Set<String> = []) -> (features: [FeatureSpec], notes: [String]) {
        var features: [FeatureSpec] = []
        var notes: [String] = []
        for column in table.columns where column.name != target && !excluded.contains(column.name) {
            let (kind, times) = ColumnKind.classify(column.values)
            if let times {
                let format = times.format
                features.append(FeatureSpec(name: column.name, kind: kind, timestampFormat: format))
                notes.append("column '\(column.name)' holds times (\(format.layout.description)); the model uses its \(format.hasTime ? "hour, " : "")day of week, month and day of year, not the time itself")
                if let odd = times.oddNote { notes.append("column '\(column.name)': \(odd)") }
                if !format.orderProven {
                    notes.append("column '\(column.name)': no day above 12 settles whether the first number is the day or the month; read as \(format.layout.description)")
                }
            } else if kind.isFeature {
                features.append(FeatureSpec(name: column.name, kind: kind))
            } else {
                notes.append("column '\(column.name)' is \(kind == .identifier ? "an identifier (a different value in almost every row)" : "empty"); left out of the features")
            }
        }
        return (features, notes)
    }
}

/// Options for fitting a ``Preprocessor``.
public struct PreprocessingOptions: Sendable, Codable, Equatable {
    /// Centre and scale numeric columns (linear models, k-NN and MLPs need it; trees do not).
    public var standardize: Bool
    /// Replace missing numbers by the training median; when `false` they stay NaN, for models
    /// that learn where missing values go (gradient-boosted trees).
    public var imputeMissing: Bool
    /// Add a 0/1 column after each numeric column that had missing cells in training.
    public var missingIndicators: Bool
    /// Categorical columns with more levels keep the most frequent ones and group the rest.
    public var maxCategories: Int

    public init(standardize: Bool = true, imputeMissing: Bool = true, missingIndicators: Bool = false,
                maxCategories: Int = OneHotEncoder.defaultMaxCategories) {
        self.standardize = standardize
        self.imputeMissing = imputeMissing
        self.missingIndicators = missingIndicators
        self.maxCategories = maxCategories
    }

    /// `impute_missing` came with gradient-boosted trees; files without it imputed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        standardize = try container.decode(Bool.self, forKey: .standardize)
        imputeMissing = try container.decodeIfPresent(Bool.self, forKey: .imputeMissing) ?? true
        missingIndicators = try container.decode(Bool.self, forKey: .missingIndicators)
        maxCategories = try container.decode(Int.self, forKey: .maxCategories)
    }

    enum CodingKeys: String, CodingKey {
        case standardize
        case imputeMissing = "impute_missing"
        case missingIndicators = "missing_indicators"
        case maxCategories = "max_categories"
    }
}

/// What to do when a feature column is absent from the input.
public enum MissingColumnPolicy: Sendable {
    /// Fail with an error that names the absent columns.
    case reject
    /// Treat every cell of the column as missing (and warn on each row).
    case impute
}
