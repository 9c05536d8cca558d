extension Preprocessor.Step: Codable {
    private enum CodingKeys: String, CodingKey { case numeric, categorical, time }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let numeric = try container.decodeIfPresent(NumericEncoder.self, forKey: .numeric) {
            self = .numeric(numeric)
        } else if let categorical = try container.decodeIfPresent(OneHotEncoder.self, forKey: .categorical) {
            self = .categorical(categorical)
        } else if let time = try container.decodeIfPresent(TimeEncoder.self, forKey: .time) {
            self = .time(time)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a preprocessing step is 'numeric', 'categorical' or 'time'"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .numeric(let step): try container.encode(step, forKey: .numeric)
        case .categorical(let step): try container.encode(step, forKey: .categorical)
        case .time(let step): try container.encode(step, forKey: .time)
        }
    }
}
