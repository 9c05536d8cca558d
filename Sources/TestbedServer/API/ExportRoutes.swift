import Foundation
import Hummingbird
import InferenceCore
import NIOPosix

/// `GET /api/v1/models/{name}/export?format=onnx` (the serving version) and
/// `GET /api/v1/models/{name}/versions/{version}/export?format=onnx`: the model as a file for
/// other runtimes, sent as an attachment.
struct ExportRoutes {
    let services: Services

    func add(to router: RouterGroup<TestbedContext>) {
        for prefix in ["models/{name}", "models/{name}/versions/{version}"] {
            router.get(RouterPath(prefix + "/export")) { request, context -> Response in
                // The format is checked before the model is looked up: a wrong query is the client's mistake whatever the model.
                let format = try ExportFormat.named(request.query("format") ?? ExportFormat.onnx.rawValue)
                let served = try await ModelRoutes.model(context, registry: services.registry)
                // Building a graph walks every tree node or training row the model holds: off the event loop.
                let model = served.model
                let bytes = try await NIOThreadPool.singleton.runIfActive { try format.export(model) }
                let filename = "\(Self.safeFileName(served.name))-v\(served.version).\(format.fileExtension)"
                return Response(status: .ok,
                                headers: [.contentType: "application/octet-stream",
                                          .contentDisposition: "attachment; filename=\"\(filename)\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
    }

    /// A model name as a file name inside a quoted header value: letters, digits, `.`, `-` and `_`
    /// kept, anything else (quotes, slashes, non-ASCII) as `_`.
    static func safeFileName(_ name: String) -> String {
        String(name.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
    }

    /// The path of a model's export, for the model card and the dashboard.
    static func path(name: String, version: Int, format: ExportFormat) -> String {
        let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? name
        return "/api/v1/models/\(escaped)/versions/\(version)/export?format=\(format.rawValue)"
    }
}
