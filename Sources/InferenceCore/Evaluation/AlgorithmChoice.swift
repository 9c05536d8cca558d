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

    /// Reads the form the command line and the API use: `auto`, one algorithm's name, or
    /// several names separated by commas (a search among them). Names are checked against the
    /// registry.
    public init(parsing text: String) throws {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        if names == ["auto"] {
            self = .search()
            return
        }
        let known = AlgorithmRegistry.all.map(\.name)
        guard !names.isEmpty, names.allSatisfy(known.contains) else {
            let unknown = names.first { !known.contains($0) } ?? text
            throw TestbedError(.unknownAlgorithm, "unknown algorithm '\(unknown.clipped())'; expected auto, one of \(known.joined(separator: ", ")), or several of them separated by commas")
        }
        self = Set(names).count == 1 ? .named(names[0]) : .search(families: Set(names))
    }

    /// The same written form: `auto`, a name, or sorted names joined by commas; `nil` for the
    /// task default.
    public var text: String? {
        switch self {
        case .taskDefault: return nil
        case .named(let name): return name
        case .search(nil): return "auto"
        case .search(let families?): return families.sorted().joined(separator: ",")
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
