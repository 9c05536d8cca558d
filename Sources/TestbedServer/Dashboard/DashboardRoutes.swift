import Foundation
import Hummingbird

/// The web dashboard: static HTML, CSS and JavaScript modules from `Dashboard/site`, read once
/// at start and served from memory. The pages talk to the same API as any other client; the
/// key stays in the browser (session storage) and travels as `Authorization: Bearer`.
struct DashboardRoutes {
    struct Asset {
        var contentType: String
        var bytes: ByteBuffer
    }

    /// File name to contents, for every file of the site folder.
    let assets: [String: Asset]

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png",
    ]

    /// Nothing from elsewhere: scripts, styles, images and API calls all come from this server.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-cache",
    ]

    /// Reads the site folder shipped with the executable (or `directory`, when given).
    init(directory: URL? = nil) throws {
        guard let folder = directory ?? Bundle.module.url(forResource: "site", withExtension: nil) else {
            throw DashboardError("the dashboard's files were not found beside the executable (the 'site' resource folder)")
        }
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            guard let type = Self.contentTypes[URL(fileURLWithPath: name).pathExtension] else { continue }
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            assets[name] = Asset(contentType: type, bytes: ByteBuffer(bytes: data))
        }
        guard assets["index.html"] != nil else { throw DashboardError("the dashboard folder \(folder.path) has no index.html") }
        self.assets = assets
    }

    func add(to router: Router<TestbedContext>) {
        router.get("/") { _, _ in response(for: "index.html")! }
        router.get("ui/{file}") { _, context in
            let file = try context.parameters.require("file")
            guard let response = response(for: file) else {
                throw APIError.notFound("the dashboard has no file '\(file.clipped())'")
            }
            return response
        }
    }

    private func response(for file: String) -> Response? {
        guard let asset = assets[file] else { return nil }
        var headers = Self.securityHeaders
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.bytes))
    }
}

struct DashboardError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
