/// What to train: one algorithm, or a search over families that keeps the best.
///
/// Carried as this value from the command line and the API through the job record to the
/// model, instead of a name that may be `"auto"` or a comma-joined list.
public enum AlgorithmChoice: Sendable, Hashable {
    /// The task's default algorithm (ridge for regression, logistic for classification).
    case taskDefault
    /// One registered algorithm, by name.
    case named(String)
    /// ``ModelSearch`` over these families (`nil`: all of them), keeping the best.
    case search(families: Set<String>? = nil)

    /// Reads the form the command line uses: `auto`, one algorithm's name, or several names
    /// separated by commas (a search among them); also `auto:NAME,…`, the stored form of a search
    /// over chosen families. Names are checked against the registry.
    public init(parsing text: String) throws {
        if text.hasPrefix("auto:") {
            let families = text.dropFirst(5).split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
            try Self.checkKnown(families, given: text)
            self = .search(families: Set(families))
            return
        }
        try self.init(names: text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces })
    }

    /// Reads the API's `algorithms`: `["auto"]`, one name, or several (a search among them).
    public init(names: [String]) throws {
        if names == ["auto"] {
            self = .search()
            return
        }
        try Self.checkKnown(names, given: names.joined(separator: ","))
        self = Set(names).count == 1 ? .named(names[0]) : .search(families: Set(names))
    }

    private static func checkKnown(_ names: [String], given: String) throws {
        let known = AlgorithmRegistry.all.map(\.name)
        guard !names.isEmpty, names.allSatisfy(known.contains) else {
            let unknown = names.first { !known.contains($0) } ?? given
            throw TestbedError(.unknownAlgorithm, "unknown algorithm '\(unknown.clipped())'; expected auto, one of \(known.joined(separator: ", ")), or several of them")
        }
    }

    /// The stored form, read back by ``init(parsing:)`` as the same value: `auto`, a name, or
    /// `auto:` and the families' sorted names (a search over one family differs from training
    /// that one with its defaults); `nil` for the task default.
    public var text: String? {
        switch self {
        case .taskDefault: return nil
        case .named(let name): return name
        case .search(nil): return "auto"
        case .search(let families?): return "auto:" + families.sorted().joined(separator: ",")
        }
    }

    /// The API's `algorithms`: `["auto"]`, one name, or the families searched (empty for the
    /// task default).
    public var names: [String] {
        switch self {
        case .taskDefault: return []
        case .named(let name): return [name]
        case .search(nil): return ["auto"]
        case .search(let families?): return families.sorted()
        }
    }

    /// Whether this is a search over several candidates.
    public var isSearch: Bool {
        if case .search = self { return true }
        return false
    }
}

extension AlgorithmChoice: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = text.isEmpty ? .taskDefault : try AlgorithmChoice(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text ?? "")
    }
}
