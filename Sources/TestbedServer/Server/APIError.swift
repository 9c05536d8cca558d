import Foundation
import Hummingbird
import InferenceCore

/// An error answered to the client as `{"error": "...", "code": "..."}` with its HTTP status.
///
/// The message says what was wrong and what to send instead. `error` is the field the Open
/// Inference Protocol names; `code` is stable for programs.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields

    /// The most characters of a message answered or logged. Messages quote what the client
    /// sent; each quoted value is clipped where it is quoted, and this bounds the whole, lists of
    /// names included.
    static let maxMessageLength = 2_000

    init(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        (self.status, self.code, self.message, self.headers) = (status, code, message.clipped(to: Self.maxMessageLength), headers)
    }

    static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(status: .badRequest, code: code, message: message)
    }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: "forbidden", message: message) }
    static func conflict(_ message: String) -> APIError { APIError(status: .conflict, code: "conflict", message: message) }
    static func tooLarge(_ message: String) -> APIError { APIError(status: .contentTooLarge, code: "too_large", message: message) }
    static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, code: "not_ready", message: message)
    }
    static func tooManyRequests(_ message: String, retryAfter seconds: Int) -> APIError {
        APIError(status: .tooManyRequests, code: "rate_limited", message: message, headers: [.retryAfter: String(seconds)])
    }

    /// The client-facing form of any error thrown while handling a request.
    init(_ error: any Error, requestID: String, route: String = "") {
        switch error {
        case let error as APIError:
            self = error
        case let error as TestbedError:
            self.init(status: Self.status(of: error.code), code: error.code.name, message: error.message)
        case let error as StoreError:
            self = Self.store(error)
        case _ where (error as? StorageError)?.isDiskFull == true:
            self.init(status: Self.insufficientStorage, code: "disk_full",
                      message: "the server's disk is full, so nothing was stored; tell the hub (request id \(requestID)) and try again later")
        case let error as DecodingError:
            self.init(status: .badRequest, code: "invalid_json", message: Self.describe(error))
        case let error as HTTPError where error.status == .notFound && error.body == nil:
            self.init(status: .notFound, code: "not_found", message: "there is no route \(route.clipped(to: 200)); /openapi.json lists them")
        case let error as HTTPError:
            let message = error.body ?? (error.status == .contentTooLarge
                ? "the request body is larger than this server accepts" : error.status.reasonPhrase)
            self.init(status: error.status, code: error.status == .notFound ? "not_found" : "http_error", message: message)
        default:
            self.init(status: .internalServerError, code: "internal",
                      message: "the server failed to handle this request; tell the hub the request id \(requestID)")
        }
    }

    /// The store's refusals: what was not found, a conflict, a limit, or a database out of reach
    /// (worth trying again soon: the replica reconnects by itself).
    static func store(_ error: StoreError) -> APIError {
        switch error {
        case .notFound(let thing): .notFound(thing.missing)
        case .conflict(let message): .conflict(message)
        case .limitReached(let message, let seconds): .tooManyRequests(message, retryAfter: seconds)
        case .unavailable(let message):
            APIError(status: .serviceUnavailable, code: "database_unavailable", message: message, headers: [.retryAfter: "2"])
        }
    }

    /// 422: the request fits the API's description but not the resource it names (see ``unprocessable(_:)``).
    static func doesNotFit(_ message: String, code: String = "invalid_parameter") -> APIError {
        APIError(status: .unprocessableContent, code: code, message: message)
    }

    /// Runs `work`, answering the input errors it throws (400) with 422 instead: for a request
    /// that fits the API's description (`/openapi.json`) but not the resource it names, such as
    /// a column the dataset lacks, a feature the model does not have, or a threshold for a model
    /// that is not a two-class classifier. 400 stays for requests the description itself rules out.
    static func unprocessable<T>(_ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let error as TestbedError where status(of: error.code) == .badRequest {
            throw APIError(status: .unprocessableContent, code: error.code.name, message: error.message)
        } catch var error as APIError where error.status == .badRequest {
            error.status = .unprocessableContent
            throw error
        }
    }

    /// 507: the server cannot store what it was sent (its disk is full).
    static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")

    /// Errors about the input are the client's to fix (4xx); a broken model file or disk is ours.
    static func status(of code: TestbedError.Code) -> HTTPResponse.Status {
        switch code {
        case .unsuitableData, .numericalFailure, .unsupported: return .unprocessableContent
        case .invalidModelFile, .io: return .internalServerError
        default: return .badRequest
        }
    }

    /// A decoding error in words: where in the document, and what was expected there.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "the body" : String(path.drop { $0 == "." })
        }
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the body is not valid JSON: \(context.debugDescription)" }
            return "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context)) lacks the field '\(key.stringValue.clipped())'"
        case .typeMismatch(let type, let context):
            return "\(path(context)): expected \(Self.describe(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)): expected \(Self.describe(type)), found null"
        @unknown default:
            return "the body could not be read: \(error)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Int.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "an array" : name.hasPrefix("Dictionary") ? "an object" : name
        }
    }
}

extension APIError: HTTPResponseError {
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = try JSONEncoder().encode(["error": message, "code": code])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error into the JSON form above and logs the ones that are the server's fault.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(error, requestID: context.id, route: "\(request.method) \(request.uri.path)")
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error).clipped(to: APIError.maxMessageLength))"])
            } else {
                context.logger.info("request refused", metadata: ["status": "\(apiError.status.code)", "code": "\(apiError.code)", "reason": "\(apiError.message)"])
            }
            return try apiError.response(from: request, context: context)
        }
    }
}
