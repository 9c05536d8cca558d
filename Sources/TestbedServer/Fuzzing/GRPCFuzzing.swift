import Foundation
import InferenceCore
import Logging
import SwiftProtobuf

/// Fuzzes gRPC's `ModelInfer` short of the transport: the bytes decoded as a serialized
/// `ModelInferRequest` (as grpc-swift's deserializer does), converted to the protocol's request
/// (typed contents, raw contents with their sizes and length prefixes), scored through the
/// ``InferenceEndpoint`` as the RPC does, converted back and serialized. The first byte picks
/// the model (see ``FuzzModels``) and, by its high bit, whether the request's own model name is
/// kept (usually not found) or replaced by the picked model's; the rest is the message.
///
/// The endpoint needs the server's services: they are made once, on a temporary data directory,
/// with the fuzzing models written there as the served models and monitoring off (so that
/// millions of inputs write no prediction log).
struct GRPCFuzzing {
    let service: InferenceGRPCService
    let names: [String]

    init(models: [ServedModel]) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-fuzz-grpc-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        let modelsDirectory = root.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: modelsDirectory, withIntermediateDirectories: true)
        for served in models { try served.model.save(to: modelsDirectory.appendingPathComponent("\(served.name).json").path) }
        var configuration = ServerConfiguration()
        configuration.dataDirectory = root.appendingPathComponent("data").path
        configuration.modelsDirectory = modelsDirectory.path
        configuration.adminKey = "fuzz"
        configuration.monitoring.enabled = false
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        let (configured, quiet) = (configuration, logger)
        guard let services = waitForAsync({ try await TestbedApplication.makeServices(configured, logger: quiet) }) else {
            throw StorageError("cannot open the fuzz target's data directory \(configuration.dataDirectory)")
        }
        service = InferenceGRPCService(services: services)
        names = models.map(\.name)
    }

    func run(_ input: UnsafeRawBufferPointer) {
        guard let first = input.first, !names.isEmpty else { return }
        guard var message = try? Inference_ModelInferRequest(serializedBytes: Data(input.dropFirst())) else { return }
        if first & 0x80 == 0 { message.modelName = names[Int(first & 0x7f) % names.count] }
        let (service, request) = (self.service, message)
        guard let response = waitForAsync({ try await service.infer(request, tenant: "fuzz") }) else { return }
        // What the transport does with the answer.
        let bytes: [UInt8]? = try? response.serializedBytes()
        precondition(bytes != nil, "a ModelInferResponse did not serialize")
        precondition(response.rawOutputContents.isEmpty || response.rawOutputContents.count == response.outputs.count,
                     "raw_output_contents has \(response.rawOutputContents.count) entries for \(response.outputs.count) outputs")
    }
}
