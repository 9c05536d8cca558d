/// The preprocessing of a ``Preprocessor`` as graph nodes: each step reads its column's input
/// and makes the same encoded columns, in the same order, as ``Preprocessor/transform(_:missingColumns:)``.
///
/// Every operation is the one our code performs on a double, in the same order, so the encoded
/// matrix is bit for bit ours.
extension ONNXGraph {
    /// The encoded matrix `[N, width]` (double) made from the graph inputs, one per step's column.
    mutating func preprocess(_ preprocessor: Preprocessor) throws -> String {
        var columns: [String] = []
        for step in preprocessor.steps {
            switch step {
            case .numeric(let encoder) where encoder.boolean != nil:
                columns += encodeNumber(try booleanValue(encoder.column, levels: encoder.boolean!), encoder)
            case .numeric(let encoder):
                columns += encodeNumber(encoder.column, encoder)
            case .categorical(let encoder):
                columns += try oneHot(encoder.column, encoder)
            case .time(let encoder):
                columns += try timeFeatures(encoder.column, encoder)
            }
        }
        guard !columns.isEmpty else {
            throw TestbedError(.invalidModelFile, "the model's preprocessing makes no input columns, so there is nothing to export")
        }
        return columns.count == 1 ? columns[0] : add("Concat", columns, [ONNXAttribute.int("axis", 1)], output: uniqueName("features"))
    }

    /// ``NumericEncoder/encode(_:into:)``: `((x is NaN ? median : x) − center) / scale`, then the
    /// missing indicator. A subtraction of 0 or division by 1 changes no double, so they are left out.
    mutating func encodeNumber(_ x: String, _ encoder: NumericEncoder) -> [String] {
        var value = x
        let isMissing = add("IsNaN", [x])
        if let median = encoder.median {
            value = add("Where", [isMissing, scalar(median), value])
        }
        if encoder.center != 0 { value = add("Sub", [value, scalar(encoder.center)]) }
        if encoder.scale != 1 { value = add("Div", [value, scalar(encoder.scale)]) }
        guard encoder.missingIndicator else { return [value] }
        return [value, add("Cast", [isMissing], [ONNXAttribute.to(.double)])]
    }

    /// A yes/no column sent as text: 1 for the true spelling, 0 for the false one (in any case, as
    /// ``BooleanLevels/value(of:)``), NaN (missing) for anything else, the empty string included.
    mutating func booleanValue(_ x: String, levels: BooleanLevels) throws -> String {
        func matches(_ text: String) throws -> String {
            guard let spellings = ONNXGraph.caseVariants(of: text) else {
                throw TestbedError(.invalidModelFile, "the yes/no column '\(x.clipped())' has a spelling '\(text.clipped())' that no yes/no column has")
            }
            let equal = add("Cast", [add("Equal", [x, constant(strings: spellings, hint: "spellings")])], [ONNXAttribute.to(.double)])
            let any = add("ReduceMax", [equal, constant(int64: [1], hint: "axes")], [ONNXAttribute.int("keepdims", 1)])
            return add("Cast", [any], [ONNXAttribute.to(.bool)])
        }
        let isTrue = try matches(levels.trueText), isFalse = try matches(levels.falseText)
        return add("Where", [isTrue, scalar(1), add("Where", [isFalse, scalar(0), scalar(.nan)])])
    }

    /// Every upper/lower-case spelling of `text` (`yes`, `Yes`, `yEs`, …): ONNX compares strings
    /// exactly, and its case folding (`StringNormalizer`) depends on the runtime's locale. The
    /// spellings ``BooleanLevels`` knows are at most five letters, so at most 32 variants; `nil` for
    /// text with more than 8 letters, which only an edited model file has (the count doubles per
    /// letter, and a file must not make the export run out of memory).
    static func caseVariants(of text: String) -> [String]? {
        var variants = [""]
        for character in text {
            let forms = Set([String(character).lowercased(), String(character).uppercased()]).sorted()
            guard variants.count * forms.count <= 256 else { return nil }
            variants = variants.flatMap { prefix in forms.map { prefix + $0 } }
        }
        return variants
    }

    /// ``OneHotEncoder``: one 0/1 column per kept category (exact string equality), then `other`
    /// (a present value that is none of them) and `(missing)` (the empty string) when the encoder
    /// has them. An unknown category without an `other` column is all zeros, as
    /// `handle_unknown="ignore"`.
    mutating func oneHot(_ x: String, _ encoder: OneHotEncoder) throws -> [String] {
        guard !encoder.categories.contains("") else {
            throw TestbedError(.unsupported, "column '\(encoder.column.clipped())' has the empty string as a category, which an exported model cannot tell from a missing value")
        }
        var columns: [String] = []
        var known: String?
        if !encoder.categories.isEmpty {
            let equal = add("Equal", [x, constant(strings: encoder.categories, hint: "categories")])
            known = add("Cast", [equal], [ONNXAttribute.to(.double)])
            columns.append(known!)
        }
        guard encoder.otherCategory || encoder.missingCategory else { return columns }
        let missing = add("Cast", [add("Equal", [x, constant(strings: [""], hint: "empty")])], [ONNXAttribute.to(.double)])
        if encoder.otherCategory {
            // A present value that matched no category: (1 − matched) · (1 − missing), all 0s and 1s.
            let present = add("Sub", [scalar(1), missing])
            if let known {
                let matched = add("ReduceSum", [known, constant(int64: [1], hint: "axes")], [ONNXAttribute.int("keepdims", 1)])
                columns.append(add("Mul", [add("Sub", [scalar(1), matched]), present]))
            } else {
                columns.append(present)
            }
        }
        if encoder.missingCategory { columns.append(missing) }
        return columns
    }
}
