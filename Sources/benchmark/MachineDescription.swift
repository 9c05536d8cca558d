import Foundation
import InferenceCore

/// What the figures were measured on.
struct MachineDescription: Codable {
    var cpu: String
    var cores: Int
    var memoryGiB: Double
    var openBLAS: String
    var blasThreads: String
    var build: String

    static func current() -> MachineDescription {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return MachineDescription(
            cpu: model, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryGiB: Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30),
            openBLAS: BLAS.configuration, blasThreads: ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] ?? "1 (testbed default)",
            build: build)
    }

    var summary: String {
        "machine: \(cpu), \(cores) cores, \(String(format: "%.1f", memoryGiB)) GiB; OpenBLAS \(openBLAS), threads \(blasThreads); \(build) build"
    }
}

struct Report: Codable {
    var machine: MachineDescription
    var results: [Result] = []
}
