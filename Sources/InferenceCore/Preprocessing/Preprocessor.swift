/// The fitted transformation from a table's feature columns to a model's input matrix.
///
/// Fitted on training rows only and stored in the model file, so that prediction applies
/// exactly what training saw.
public struct Preprocessor: Sendable, Codable, Equatable {
    /// One encoder per feature, in feature order.
    public enum Step: Sendable, Equatable {
        case numeric(NumericEncoder)
        case categorical(OneHotEncoder)
        case time(TimeEncoder)

        var column: String {
            switch self {
            case .numeric(let encoder): return encoder.column
            case .categorical(let encoder): return encoder.column
            case .time(let encoder): return encoder.column
            }
        }

        var outputNames: [String] {
            switch self {
            case .numeric(let encoder): return encoder.outputNames
            case .categorical(let encoder): return encoder.outputNames
            case .time(let encoder): return encoder.outputNames
            }
        }
    }

    public var steps: [Step]

    /// What does not fit together in decoded preprocessing, or `nil`: a category listed twice
    /// would give one level two encoded columns.
    var inconsistency: String? {
        for case .categorical(let encoder) in steps where Set(encoder.categories).count != encoder.categories.count {
            return "column '\(encoder.column.clipped())' lists a category twice"
        }
        for case .time(let encoder) in steps where !encoder.isConsistent {
            return "timestamp column '\(encoder.column.clipped())' does not have one encoder per derived part"
        }
        return nil
    }
    public var options: PreprocessingOptions
    /// The names of the matrix columns that ``transform(_:missingColumns:)`` produces.
    public var outputNames: [String] { steps.flatMap(\.outputNames) }
    /// The number of matrix columns.
    public var width: Int { outputNames.count }
    /// The input columns, in order.
    public var inputColumns: [String] { steps.map(\.column) }
    /// For each matrix column, the index of the input column (feature) it encodes.
    public var outputFeatureIndex: [Int] {
        steps.enumerated().flatMap { index, step in repeatElement(index, count: step.outputNames.count) }
    }

    /// Fits the encoders on the rows of `table` (the training rows).
    public static func fit(_ table: DataTable, features: [FeatureSpec], options: PreprocessingOptions = PreprocessingOptions()) throws -> Preprocessor {
        let steps = try features.map { feature -> Step in
            let values = try table.column(named: feature.name).values
            switch (feature.kind, values) {
            case (.numeric, .numeric(let numbers)):
                return .numeric(NumericEncoder(column: feature.name, values: numbers, boolean: nil,
                                               standardize: options.standardize, impute: options.imputeMissing, addIndicator: options.missingIndicators))
            case (.boolean, .text(let codes, let levels)):
                guard let boolean = BooleanLevels(levels) else { fallthrough }
                return .numeric(NumericEncoder(column: feature.name, values: boolean.numbers(codes: codes, levels: levels), boolean: boolean,
                                               standardize: options.standardize, impute: options.imputeMissing, addIndicator: options.missingIndicators))
            case (.categorical, _):
                let (codes, levels) = values.textCodes
                return .categorical(OneHotEncoder(column: feature.name, codes: codes, levels: levels, maxCategories: options.maxCategories))
            case (.timestamp, .text(let codes, let levels)):
                guard let format = feature.timestampFormat else { fallthrough }
                return .time(TimeEncoder(column: feature.name, format: format, seconds: Self.seconds(codes: codes, levels: levels, format: format, wallClock: true), options: options))
            default:
                throw TestbedError(.unsuitableData, "column '\(feature.name)' cannot be used as a \(feature.kind.rawValue) feature")
            }
        }
        return Preprocessor(steps: steps, options: options)
    }

    /// Encodes the feature columns of `table` into a matrix with one row per table row.
    public func transform(_ table: DataTable, missingColumns: MissingColumnPolicy = .reject) throws -> Matrix {
        var noWarnings: [[String]]?
        return try transform(table, missingColumns: missingColumns, warnings: &noWarnings)
    }

    /// Encodes `table` and collects, per row, warnings about what was imputed or not recognised.
    public func transformWithWarnings(_ table: DataTable, missingColumns: MissingColumnPolicy = .reject) throws -> (matrix: Matrix, warnings: [[String]]) {
        var warnings: [[String]]? = [[String]](repeating: [], count: table.rowCount)
        let matrix = try transform(table, missingColumns: missingColumns, warnings: &warnings)
        return (matrix, warnings!)
    }

    /// Encodes `table`; when `warnings` is not `nil`, appends each row's warnings to it.
    private func transform(_ table: DataTable, missingColumns: MissingColumnPolicy, warnings: inout [[String]]?) throws -> Matrix {
        let absent = inputColumns.filter { name in !table.columns.contains { $0.name == name } }
        if !absent.isEmpty && missingColumns == .reject {
            throw TestbedError(.unknownColumn, "the input lacks the column\(absent.count == 1 ? "" : "s") \(absent.map { "'\($0)'" }.joined(separator: ", ")) that the model was trained on; expected columns: \(inputColumns.joined(separator: ", "))")
        }
        let rows = table.rowCount
        let width = self.width
        var matrix = Matrix(rows: rows, columns: width)
        var offset = 0
        for step in steps {
            let input = table.columns.first { $0.name == step.column }?.values ?? .numeric([Double](repeating: .nan, count: rows))
            if input.count != rows { throw TestbedError(.shapeMismatch, "column '\(step.column)' has \(input.count) rows, expected \(rows)") }
            if input.missingCount > 0, warnings != nil {
                let absentColumn = absent.contains(step.column)
                for row in 0..<rows where input.isMissing(at: row) {
                    warnings![row].append(absentColumn ? "\(step.column): column not given; treated as missing" : "\(step.column): missing value \(options.imputeMissing ? "imputed" : "sent the way training learned for missing values")")
                }
            }
            try matrix.storage.withUnsafeMutableBufferPointer { output in
                switch step {
                case .numeric(let encoder):
                    let values = try numericValues(input, for: encoder)
                    for row in 0..<rows { encoder.encode(values[row], into: output.baseAddress! + row * width + offset) }
                case .time(let encoder):
                    let (codes, levels) = input.textCodes
                    let levelSeconds = levels.map { encoder.seconds($0) ?? .nan }
                    for row in 0..<rows {
                        let code = Int(codes[row])
                        let seconds = code < 0 ? .nan : levelSeconds[code]
                        if code >= 0 && seconds.isNaN {
                            warnings?[row].append("\(step.column): '\(levels[code].clipped())' is not a time written as in training (\(encoder.format.layout.description)); its calendar features are treated as missing")
                        }
                        encoder.encode(seconds, into: output.baseAddress! + row * width + offset)
                    }
                case .categorical(let encoder):
                    let (codes, levels) = input.textCodes
                    let slots = encoder.slots(for: levels)
                    let known = Set(encoder.categories)
                    for row in 0..<rows {
                        let code = Int(codes[row])
                        if let slot = code < 0 ? encoder.missingSlot : slots[code] { output[row * width + offset + slot] = 1 }
                        if code >= 0 && !known.contains(levels[code]) {
                            warnings?[row].append("\(step.column): category '\(levels[code].clipped())' was not among the training categories\(encoder.otherCategory ? "; treated as 'other'" : "; it adds nothing to the prediction")")
                        }
                    }
                }
            }
            offset += step.outputNames.count
        }
        return matrix
    }

    /// The times of a text column's cells in `format` (NaN for a missing or unreadable cell),
    /// each distinct text parsed once: on the wall clock where they were written (for calendar
    /// features), or in UTC (for ordering).
    static func seconds(codes: [Int32], levels: [String], format: TimestampFormat, wallClock: Bool) -> [Double] {
        let levelSeconds = levels.map { (wallClock ? format.wallClockSeconds($0) : format.seconds($0)) ?? .nan }
        return codes.map { $0 < 0 || Int($0) >= levels.count ? .nan : levelSeconds[Int($0)] }
    }

    /// A numeric feature's values from an input column, which may have arrived as text.
    private func numericValues(_ input: ColumnValues, for encoder: NumericEncoder) throws -> [Double] {
        switch input {
        case .numeric(let numbers):
            if let index = numbers.firstIndex(where: { $0.isInfinite }) {
                throw TestbedError(.unsuitableData, "column '\(encoder.column)', row \(index + 1): \(numbers[index]) is not a finite number")
            }
            return numbers
        case .text(let codes, let levels):
            let levelValues = levels.map { level -> Double? in
                encoder.boolean?.value(of: level.trimmingSpaces) ?? NumberParser.parseEitherMark(level)
            }
            return try codes.enumerated().map { row, code in
                guard code >= 0 else { return .nan }
                guard let value = levelValues[Int(code)] else {
                    let expected = encoder.boolean.map { "'\($0.falseText)' or '\($0.trueText)'" } ?? "a number"
                    throw TestbedError(.unsuitableData, "column '\(encoder.column)', row \(row + 1): '\(levels[Int(code)].clipped())' is not \(expected); the model was trained with \(expected == "a number" ? "numbers" : expected) in this column")
                }
                return value
            }
        }
    }
}
