import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// The whole body, refused with 413 when it is larger than `limit` bytes.
    func collectBody(limit: Int) async throws -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.tooLarge("the request body has \(declared) bytes; this server accepts at most \(limit) bytes per request (--max-request-bytes)")
        }
        do {
            return try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge("the request body is larger than \(limit) bytes, the most this server accepts per request (--max-request-bytes)")
        }
    }

    /// The body decoded as JSON into `type`, with errors that say where the document is wrong.
    func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int, expected: String) async throws -> T {
        let buffer = try await collectBody(limit: limit)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("the body is empty; expected \(expected)", code: "invalid_json") }
        return try buffer.withUnsafeReadableBytes { bytes in
            do {
                return try JSONDecoder().decode(T.self, from: Data(bytes))
            } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty && (try? JSONParser.parse(bytes)) != nil {
                // Foundation says "not valid JSON" for JSON it cannot fit to the fields (1.5 or
                // 2^63 where a whole number goes) without saying which: say what it means.
                throw APIError.badRequest("the body is JSON, but a value does not fit its field: a whole number (at most \(Int.max)) is expected where a count, a seed or a gap goes, and text must be valid Unicode; expected \(expected)", code: "invalid_json")
            }
        }
    }

    /// Whether the client sent CSV rather than JSON.
    var sendsCSV: Bool {
        guard let type = headers[.contentType]?.lowercased() else { return false }
        return type.hasPrefix("text/csv") || type.hasPrefix("application/csv") || type.hasPrefix("text/plain")
    }

    /// A query parameter, if present.
    func query(_ name: String) -> String? {
        uri.queryParameters[name[...]].map(String.init)
    }
}

/// A JSON response with a status other than 200.
struct Created<Body: ResponseEncodable>: ResponseGenerator {
    var status: HTTPResponse.Status = .created
    let body: Body

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try body.response(from: request, context: context)
        response.status = status
        return response
    }
}
