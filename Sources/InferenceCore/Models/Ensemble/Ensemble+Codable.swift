/// An ensemble in a model file: `{"members": [{"algorithm", "parameters", "weight",
/// "preprocessing", "model"}, …]}` (see `docs/model-format.md`). A member that cannot be read
/// makes the whole file refused, naming the member.
extension Ensemble: Codable {
    enum CodingKeys: String, CodingKey { case members }

    public init(from decoder: any Decoder) throws {
        var list = try decoder.container(keyedBy: CodingKeys.self).nestedUnkeyedContainer(forKey: .members)
        var members: [EnsembleMember] = []
        while !list.isAtEnd {
            let position = members.count + 1
            do {
                members.append(try list.decode(EnsembleMember.self))
            } catch let error as TestbedError {
                throw TestbedError(.invalidModelFile, "ensemble member \(position) cannot be loaded, so neither can the ensemble: \(error.message)")
            } catch let error as DecodingError {
                throw TestbedError(.invalidModelFile, "ensemble member \(position) cannot be loaded, so neither can the ensemble: \(Self.describe(error))")
            }
        }
        self.init(members: members)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var list = container.nestedUnkeyedContainer(forKey: .members)
        for member in members { try list.encode(member) }
    }

    /// A decoding error in words, with the path inside the member.
    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "it lacks '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}

extension EnsembleMember: Codable {
    enum CodingKeys: String, CodingKey { case algorithm, parameters, weight, preprocessing, model }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        algorithm = try container.decode(String.self, forKey: .algorithm)
        guard algorithm != Ensemble.familyName else {
            throw TestbedError(.invalidModelFile, "an ensemble cannot be a member of an ensemble")
        }
        let family = try AlgorithmRegistry.named(algorithm)
        parameters = try container.decode(Hyperparameters.self, forKey: .parameters)
        weight = try container.decode(Double.self, forKey: .weight)
        preprocessor = try container.decode(Preprocessor.self, forKey: .preprocessing)
        model = try family.decodeModel(from: container.superDecoder(forKey: .model))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(algorithm, forKey: .algorithm)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(weight, forKey: .weight)
        try container.encode(preprocessor, forKey: .preprocessing)
        try model.encode(to: container.superEncoder(forKey: .model))
    }
}
