#if FUZZING
import Foundation
import InferenceCore

/// Fuzzes an upload's path: the CSV reader, then the dataset profile, then its JSON as
/// `/datasets` returns it.
enum CSVFuzzing {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let table = try? CSVReader().read(bytes: Array(input)) else { return }
        let profile = DatasetProfile(table)
        _ = try? JSONEncoder().encode(profile)
    }
}
#endif
