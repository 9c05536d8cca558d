/// A matrix in a model file: its shape and its row-major elements. Decoding checks that the
/// elements fill the shape exactly, so a damaged or hand-edited file is refused when it is
/// loaded instead of trapping on an index the first time it predicts.
extension Matrix: Codable {
    enum CodingKeys: String, CodingKey { case rows, columns, storage }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rows = try container.decode(Int.self, forKey: .rows)
        let columns = try container.decode(Int.self, forKey: .columns)
        let storage = try container.decode([Double].self, forKey: .storage)
        let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard rows >= 0, columns >= 0, !overflow, count == storage.count else {
            throw DecodingError.dataCorruptedError(forKey: .storage, in: container,
                debugDescription: "a \(rows) × \(columns) matrix needs \(overflow ? "more" : String(count)) elements, but \(storage.count) are stored")
        }
        self.init(rows: rows, columns: columns, storage: storage)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rows, forKey: .rows)
        try container.encode(columns, forKey: .columns)
        try container.encode(storage, forKey: .storage)
    }
}
