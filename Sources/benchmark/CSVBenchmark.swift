import Foundation
import InferenceCore

/// Ingest of an industrial-like CSV export (sensor readings, a timestamp, machine, shift, supplier
/// and batch codes, some missing cells): throughput, rows per second and peak memory against the
/// parsed table, on one thread and on every core, with pandas.read_csv and pyarrow's CSV reader
/// on the same file in turn with ours (on one core: pinned to one CPU, pyarrow without threads;
/// on every core: their defaults). Then the dataset profile an upload waits for.
enum CSVBenchmark {
    static func run(_ context: BenchmarkContext, peer: Peer?) throws -> [Result] {
        var results: [Result] = []
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for megabytes in context.quick ? [10] : [10, 100] {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-bench-\(megabytes)mb.csv").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (rows, columns) = try writeIndustrialCSV(path: path, megabytes: megabytes)
            let bytes = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
            let megabytesRead = bytes / 1e6
            var parsedBytes = Double.nan
            for threads in Set([1, cores]).sorted() {
                try Parallelism.$taskThreads.withValue(threads) {
                    // The peak is read on the first read of each file, before repetitions let the allocator keep memory.
                    let resettable = Memory.resetPeak()
                    let baseline = resettable ? Memory.resident().current : 0
                    var table: DataTable? = try CSVReader().read(file: path)
                    let peakIncrease = Memory.resident().peak - baseline
                    precondition(table?.rowCount == rows, "the benchmark file did not read back whole")
                    parsedBytes = Double(table!.columns.reduce(0) { total, column in
                        switch column.values {
                        case .numeric(let values): return total + values.count * 8
                        case .text(let codes, let levels): return total + codes.count * 4 + levels.reduce(0) { $0 + $1.utf8.count + 16 }
                        }
                    })
                    table = nil

                    let libraries = ["pandas", "pyarrow"]
                    let peers: [() throws -> Double] = peer.map { peer in libraries.map { library in {
                        try peer.seconds(["op": "read_csv", "path": path, "library": library, "threads": threads == 1 ? 1 : -1])
                    } } } ?? []
                    let (ours, theirs) = try Timing.alternate(repetitions: context.repetitions, warmUp: false, ours: {
                        _ = try CSVReader().read(file: path)
                    }, peers: peers)
                    var result = Result(suite: "csv", name: "ingest \(Int(megabytesRead.rounded())) MB (\(rows) rows × \(columns)), \(threadsLabel(threads))",
                                        unit: "MB/s", work: megabytesRead, timing: ours,
                                        parameters: ["megabytes": "\(megabytes)", "threads": "\(threads)"],
                                        extra: ["M rows/s": Double(rows) / ours.median / 1e6,
                                                "peak memory MB": peakIncrease / 1e6,
                                                "peak memory / parsed table": peakIncrease / parsedBytes])
                    if let peer {
                        for (library, timing) in zip(libraries, theirs) {
                            result.addPeer("\(library) \(peer.versions[library] ?? "")\(threads == 1 ? " on one core" : "")", timing)
                        }
                    }
                    print(result.line)
                    results.append(result)
                }
            }
            for threads in Set([1, cores]).sorted() {
                let profile = try Parallelism.$taskThreads.withValue(threads) {
                    try profileResult(path: path, megabytes: megabytesRead, parsedBytes: parsedBytes, threads: threads, context)
                }
                print(profile.line)
                results.append(profile)
            }
        }
        return results
    }

    static func threadsLabel(_ threads: Int) -> String {
        threads == 1 ? "1 thread" : "all \(threads) cores"
    }

    /// The dataset profile an upload waits for (types, statistics, medians, distinct counts,
    /// histograms, warnings) of the table already read, in MB of the file per second, with its
    /// peak memory against the parsed table; and the whole upload's rate, reading included.
    static func profileResult(path: String, megabytes: Double, parsedBytes: Double, threads: Int, _ context: BenchmarkContext) throws -> Result {
        let table = try CSVReader().read(file: path)
        let resettable = Memory.resetPeak()
        let baseline = resettable ? Memory.resident().current : 0
        _ = DatasetProfile(table)
        let peakIncrease = Memory.resident().peak - baseline
        let (profile, _) = try Timing.alternate(repetitions: context.repetitions, warmUp: false, ours: { _ = DatasetProfile(table) }, peers: [])
        let (upload, _) = try Timing.alternate(repetitions: context.repetitions, warmUp: false, ours: {
            _ = DatasetProfile(try CSVReader().read(file: path))
        }, peers: [])
        return Result(suite: "csv", name: "profile \(Int(megabytes.rounded())) MB (of the table read), \(threadsLabel(threads))", unit: "MB/s",
                      work: megabytes, timing: profile, parameters: ["megabytes": "\(Int(megabytes.rounded()))", "threads": "\(threads)"],
                      extra: ["peak memory / parsed table": peakIncrease / parsedBytes,
                              "upload (read + profile) MB/s": megabytes / upload.median])
    }

    /// Writes an export of a production line in 1 MB pieces: a timestamp, four text codes (machine,
    /// shift, supplier, batch), sixteen sensor readings with six decimals; one cell in 200 empty.
    static func writeIndustrialCSV(path: String, megabytes: Int) throws -> (rows: Int, columns: Int) {
        let sensors = 16
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var generator = SeededGenerator(seed: 42)
        let machines = (1...12).map { "press-\($0)" }, shifts = ["early", "late", "night"], suppliers = ["Nordstahl", "Baltic Steel", "Ferro AB", "Stålverket"]
        var chunk = (["timestamp", "machine", "shift", "supplier", "batch"] + (0..<sensors).map { "sensor_\($0)" }).joined(separator: ",") + "\n"
        var written = 0, rows = 0
        let start = 1_767_225_600  // 2026-01-01
        while written + chunk.utf8.count < megabytes * 1_000_000 {
            let seconds = start + rows * 10
            chunk += "\(seconds),\(machines[Int(generator.next() % 12)]),\(shifts[(rows / 2880) % 3]),\(suppliers[Int(generator.next() % 4)]),B\(rows / 500)"
            for _ in 0..<sensors {
                chunk += ","
                if generator.next() % 200 != 0 { chunk += String(format: "%.6f", Double(generator.next() % 2_000_000_000) / 1e6 - 1000) }
            }
            chunk += "\n"
            rows += 1
            if chunk.utf8.count > 1 << 20 {
                try handle.write(contentsOf: Data(chunk.utf8))
                written += chunk.utf8.count
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
        return (rows, sensors + 5)
    }
}
