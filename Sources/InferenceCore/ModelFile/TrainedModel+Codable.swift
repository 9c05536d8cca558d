import Foundation

extension TrainedModel: Codable {
    enum CodingKeys: String, CodingKey {
        case format, algorithm, parameters, task, target, classes, features, preprocessing, model, ensemble, training
        case formatVersion = "format_version"
        case libraryVersion = "library_version"
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let format = try container.decodeIfPresent(String.self, forKey: .format)
        guard format == Self.formatName else {
            throw TestbedError(.invalidModelFile, "this is not a testbed model file: its 'format' is \(format.map { "'\($0)'" } ?? "missing"), expected '\(Self.formatName)'")
        }
        let version = try container.decode(Int.self, forKey: .formatVersion)
        guard version >= 1 && version <= Self.formatVersion else {
            let reason = version > Self.formatVersion ? "is newer than this testbed (\(TestbedVersion.current)) reads" : "is unknown"
            throw TestbedError(.invalidModelFile, "model file format version \(version) \(reason); this testbed reads versions 1 to \(Self.formatVersion)")
        }
        algorithm = try container.decode(String.self, forKey: .algorithm)
        parameters = try container.decode(Hyperparameters.self, forKey: .parameters)
        task = try container.decode(LearningTask.self, forKey: .task)
        target = try container.decode(String.self, forKey: .target)
        classes = try container.decode([String].self, forKey: .classes)
        features = try container.decode([FeatureSpec].self, forKey: .features)
        if algorithm == Ensemble.familyName {
            // An ensemble's members carry their own preprocessing and model; the lead's stand for them.
            let members = try container.decode(Ensemble.self, forKey: .ensemble)
            if let problem = members.inconsistency(features: features.map(\.name), predictedColumns: task == .regression ? 1 : classes.count) {
                throw TestbedError(.invalidModelFile, "the model file is inconsistent: \(problem)")
            }
            ensemble = members
            (preprocessor, model) = (members.lead.preprocessor, members.lead.model)
        } else {
            let family = try AlgorithmRegistry.named(algorithm)
            preprocessor = try container.decode(Preprocessor.self, forKey: .preprocessing)
            model = try family.decodeModel(from: container.superDecoder(forKey: .model))
        }
        training = try container.decode(TrainingRecord.self, forKey: .training)
        libraryVersion = try container.decode(String.self, forKey: .libraryVersion)
        createdAt = try container.decode(String.self, forKey: .createdAt)
        guard model.inputWidth == preprocessor.width else {
            throw TestbedError(.invalidModelFile, "the model file is inconsistent: the model takes \(model.inputWidth) inputs but the preprocessing makes \(preprocessor.width)")
        }
        // One preprocessing step per feature, in the same order: explanations are grouped by it.
        guard preprocessor.inputColumns == features.map(\.name), Set(preprocessor.inputColumns).count == features.count else {
            throw TestbedError(.invalidModelFile, "the model file is inconsistent: its preprocessing does not read its features, once each and in their order")
        }
        guard task == .regression ? classes.isEmpty : classes.count >= 2 && Set(classes).count == classes.count else {
            throw TestbedError(.invalidModelFile, "the model file is inconsistent: a \(task.rawValue) model with \(classes.count) classes")
        }
        if let problem = model.inconsistency(predictedColumns: task == .regression ? 1 : classes.count) ?? preprocessor.inconsistency
            ?? training.evaluation?.conformal?.inconsistency(for: task) {
            throw TestbedError(.invalidModelFile, "the model file is inconsistent: \(problem)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.formatName, forKey: .format)
        try container.encode(Self.formatVersion, forKey: .formatVersion)
        try container.encode(algorithm, forKey: .algorithm)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(task, forKey: .task)
        try container.encode(target, forKey: .target)
        try container.encode(classes, forKey: .classes)
        try container.encode(features, forKey: .features)
        if let ensemble {
            try container.encode(ensemble, forKey: .ensemble)
        } else {
            try container.encode(preprocessor, forKey: .preprocessing)
            try model.encode(to: container.superEncoder(forKey: .model))
        }
        try container.encode(training, forKey: .training)
        try container.encode(libraryVersion, forKey: .libraryVersion)
        try container.encode(createdAt, forKey: .createdAt)
    }

    /// The model as a JSON document.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes the model file atomically: a crash never leaves half a file at `path`.
    public func save(to path: String) throws {
        do {
            try jsonData().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch let error as TestbedError {
            throw error
        } catch {
            throw TestbedError(.io, "cannot write the model file '\(path)': \(error.localizedDescription)")
        }
    }

    /// Reads a model from JSON.
    public init(jsonData data: Data) throws {
        do {
            self = try JSONDecoder().decode(TrainedModel.self, from: data)
        } catch let error as TestbedError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw TestbedError(.invalidModelFile, "the model file lacks '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context), let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw TestbedError(.invalidModelFile, "the model file is not valid\(path.isEmpty ? "" : " at '\(path)'"): \(context.debugDescription)")
        }
    }

    /// Reads the model file at `path`.
    public static func load(from path: String) throws -> TrainedModel {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TestbedError(.io, "cannot read the model file '\(path)'")
        }
        return try TrainedModel(jsonData: data)
    }
}
