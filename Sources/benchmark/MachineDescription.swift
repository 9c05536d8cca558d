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
    var swift: String

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
            build: build, swift: swiftVersion())
    }

    var summary: String {
        "machine: \(cpu), \(cores) cores, \(String(format: "%.1f", memoryGiB)) GiB; OpenBLAS \(openBLAS), threads \(blasThreads); \(swift), \(build) build"
    }

    /// The compiler's own words (`swift --version`).
    private static func swiftVersion() -> String {
        guard let text = try? runToEnd("/usr/bin/env", ["swift", "--version"]) else { return "Swift (version unknown)" }
        return text.split(separator: "\n").first.map { String($0).replacingOccurrences(of: "Swift version ", with: "Swift ") } ?? "Swift"
    }
}

struct Report: Encodable {
    var machine: MachineDescription
    var mode: String
    /// The peer libraries and their versions; empty when none were measured.
    var peers: [String: String]
    var results: [Result] = []
    var notes: [String] = []
    var seconds: Double = 0
}
