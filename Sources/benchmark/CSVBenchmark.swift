import Foundation
import InferenceCore

/// Ingest of a numeric sensor-log-like CSV: throughput and peak memory against the parsed matrix.
enum CSVBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        let megabytes = context.quick ? 20 : 100
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-bench-\(megabytes)mb.csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (rows, columns) = try writeNumericCSV(path: path, megabytes: megabytes)
        let bytes = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        let matrixBytes = Double(rows * columns * 8)

        // Measured on the process's first read, so that no memory kept from an earlier read by
        // the allocator hides in the baseline. Without a resettable peak the figure is the whole
        // process's peak, an upper bound.
        let resettable = Memory.resetPeak()
        let baseline = resettable ? Memory.resident().current : 0
        var table: DataTable? = try CSVReader().read(file: path)
        let peakIncrease = Memory.resident().peak - baseline
        precondition(table?.rowCount == rows, "the benchmark file did not read back whole")
        table = nil

        let timing = try Timing.measure(repetitions: context.repetitions) { _ = try CSVReader().read(file: path) }
        let megabytesRead = bytes / 1e6
        return [
            Result(suite: "csv", name: "ingest \(Int(megabytesRead)) MB numeric (\(rows) × \(columns))", unit: "MB/s", work: megabytesRead, timing: timing,
                   extra: ["rows/s (M)": Double(rows) / timing.median / 1e6,
                           "peak memory / parsed matrix": peakIncrease / matrixBytes,
                           "parsed matrix MB": matrixBytes / 1e6]),
        ]
    }

    /// Writes a table of sensor readings (six decimals, some missing cells) in 1 MB pieces.
    static func writeNumericCSV(path: String, megabytes: Int) throws -> (rows: Int, columns: Int) {
        let columns = 20
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var generator = SeededGenerator(seed: 42)
        var chunk = (0..<columns).map { "sensor_\($0)" }.joined(separator: ",") + "\n"
        var written = 0, rows = 0
        while written + chunk.utf8.count < megabytes * 1_000_000 {
            for column in 0..<columns {
                let value = Double(generator.next() % 2_000_000_000) / 1e6 - 1000
                if generator.next() % 200 == 0 { chunk += "" } else { chunk += String(format: "%.6f", value) }
                chunk += column == columns - 1 ? "\n" : ","
            }
            rows += 1
            if chunk.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(chunk.utf8))
                written += chunk.utf8.count
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
        return (rows, columns)
    }
}
