import Foundation
import InferenceCore

/// Fuzzes an upload's path: the CSV reader, then the dataset profile, then its JSON as
/// `/datasets` returns it. The reader also reads the input on three threads in blocks of 1 to
/// 16 bytes (the input's last byte says which), which must give the same table or the same error.
enum CSVFuzzing {
    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        let table = Parallelism.$taskThreads.withValue(1) { Result { try CSVReader().read(bytes: bytes) } }
        var inBlocks = CSVReader()
        inBlocks.parallelBlockBytes = Int((bytes.last ?? 0) % 16) + 1
        let blocks = Parallelism.$taskThreads.withValue(3) { Result { try inBlocks.read(bytes: bytes) } }
        switch (table, blocks) {
        case (.success(let one), .success(let other)) where one.isIdentical(to: other): break
        case (.failure(let one), .failure(let other)) where "\(one)" == "\(other)": break
        default: fatalError("reading in blocks of \(inBlocks.parallelBlockBytes!) bytes differs from one thread: \(table) against \(blocks)")
        }
        guard case .success(let table) = table else { return }
        let profile = DatasetProfile(table)
        _ = try? JSONEncoder().encode(profile)
    }
}
