/// One-hot encoding of a categorical column, as scikit-learn's
/// `OneHotEncoder(handle_unknown="ignore")`: categories in sorted order, a missing value as a
/// category of its own (last), and an unseen category as all zeros.
///
/// Columns with more than `maxCategories` levels keep the most frequent `maxCategories - 1`
/// and group the rest, and any unseen value, as `other`.
public struct OneHotEncoder: Sendable, Codable, Equatable {
    public static let defaultMaxCategories = 100

    public var column: String
    /// The kept categories, sorted by their Unicode scalars (as Python sorts strings).
    public var categories: [String]
    /// Whether training had missing cells, which then form the last category.
    public var missingCategory: Bool
    /// Whether rare levels were grouped into an `other` category (placed after `categories`).
    public var otherCategory: Bool

    enum CodingKeys: String, CodingKey {
        case column, categories
        case missingCategory = "missing_category"
        case otherCategory = "other_category"
    }

    init(column: String, codes: [Int32], levels: [String], maxCategories: Int) {
        var counts = [Int](repeating: 0, count: levels.count)
        for code in codes where code >= 0 { counts[Int(code)] += 1 }
        var kept = levels.indices.filter { counts[$0] > 0 }
        otherCategory = kept.count > maxCategories
        if otherCategory {
            kept = Array(kept.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : levels[$0].unicodeScalarsPrecede(levels[$1]) }
                .prefix(maxCategories - 1))
        }
        self.column = column
        self.categories = kept.map { levels[$0] }.sorted { $0.unicodeScalarsPrecede($1) }
        self.missingCategory = codes.contains { $0 < 0 }
    }

    var width: Int { categories.count + (otherCategory ? 1 : 0) + (missingCategory ? 1 : 0) }

    var outputNames: [String] {
        categories.map { "\(column)=\($0)" } + (otherCategory ? ["\(column)=other"] : []) + (missingCategory ? ["\(column)=(missing)"] : [])
    }

    /// For each level of an input column, the output slot it sets, or `nil` when it is unknown
    /// (all zeros). Computed once per column, so rows cost one lookup.
    func slots(for levels: [String]) -> [Int?] {
        let index = Dictionary(uniqueKeysWithValues: categories.enumerated().map { ($1, $0) })
        return levels.map { index[$0] ?? (otherCategory ? categories.count : nil) }
    }

    /// The slot for a missing cell, or `nil` when training had none.
    var missingSlot: Int? { missingCategory ? width - 1 : nil }
}

extension String {
    /// Ordering by Unicode scalar values, which is how Python (and so scikit-learn) sorts strings.
    func unicodeScalarsPrecede(_ other: String) -> Bool {
        unicodeScalars.lexicographicallyPrecedes(other.unicodeScalars)
    }
}
