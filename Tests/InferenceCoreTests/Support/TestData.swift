import Foundation
@testable import InferenceCore

/// Paths to the repository's datasets and the committed reference fixtures.
enum TestData {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func datasetPath(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("datasets").appendingPathComponent(name).path
    }

    /// Reads a dataset as the command line does (the target kept as text).
    static func table(_ name: String, target: String? = nil) throws -> DataTable {
        try CSVReader(options: CSVReadOptions(textColumns: Set([target].compactMap { $0 }))).read(file: datasetPath(name))
    }

    static func table(csv: String, options: CSVReadOptions = CSVReadOptions()) throws -> DataTable {
        try CSVReader(options: options).read(bytes: Array(csv.utf8))
    }

    /// Decodes a fixture written by scripts/reference/make_fixtures.py.
    static func fixture<Case: Decodable>(_ name: String, as type: Case.Type) throws -> [Case] {
        let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures")!
        return try JSONDecoder().decode(FixtureDocument<Case>.self, from: Data(contentsOf: url)).cases
    }

    /// The preprocessed design matrix of a dataset, as the pipeline builds it.
    static func design(_ dataset: String, target: String, exclude: [String], task: LearningTask? = nil)
        throws -> (matrix: Matrix, names: [String], target: Target, prepared: PreparedData) {
        let prepared = try PreparedData(table(dataset, target: target),
                                        spec: TrainingSpec(target: target, task: task, excludedColumns: Set(exclude)))
        let preprocessor = try Preprocessor.fit(prepared.table, features: prepared.features, options: prepared.preprocessing)
        return (try preprocessor.transform(prepared.table), preprocessor.outputNames, prepared.target, prepared)
    }
}

struct FixtureDocument<Case: Decodable>: Decodable {
    var cases: [Case]
}

/// `|a − b| <= tolerance · max(1, |b|)`: relative for large values, absolute near zero.
func isClose(_ a: Double, _ b: Double, tolerance: Double) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(b))
}

/// The largest `|a − b| / max(1, |b|)` over two equally long arrays.
func maxRelativeError(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "lengths differ: \(a.count) and \(b.count)")
    return zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
}
