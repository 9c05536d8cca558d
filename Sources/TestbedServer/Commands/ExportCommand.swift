import ArgumentParser
import Foundation
import InferenceCore

/// `testbed export`: write a saved model in another format (ONNX) for other runtimes.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a saved model in another format: ONNX, with its preprocessing, one input per feature column.",
        discussion: "docs/onnx-export.md describes the inputs, outputs and what cannot be exported.")

    @Option(name: .long, help: "The model file.")
    var model: String

    @Option(name: .long, help: "The format: \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format = ExportFormat.onnx.rawValue

    @Option(name: .long, help: "Where to write the exported model.")
    var out: String

    func run() throws {
        try Console.run {
            let exportFormat = try ExportFormat.named(format)
            let trained = try TrainedModel.load(from: model)
            let bytes = try exportFormat.export(trained)
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw TestbedError(.io, "cannot write '\(out)': \(error.localizedDescription)")
            }
            print("wrote \(trained.algorithm) \(trained.task.rawValue) model as \(exportFormat.rawValue) (\(bytes.count) bytes) to \(out)")
        }
    }
}
