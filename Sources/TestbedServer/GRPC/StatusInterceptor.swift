import Foundation
import GRPCCore
import InferenceCore
import Logging

/// Turns whatever an RPC handler throws into a gRPC status through ``StatusMapping`` (the role
/// ``ErrorMiddleware`` has for HTTP), and logs it as HTTP logs its refusals and failures. Errors
/// that are already gRPC statuses (a message that is not valid protobuf, say) pass unchanged.
struct StatusInterceptor: ServerInterceptor {
    let logger: Logger

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        // As HTTP logs each request at debug level when it begins: the call has been accepted.
        logger.debug("rpc started", metadata: ["method": "\(context.descriptor.method)"])
        do {
            return try await next(request, context)
        } catch let error as RPCError {
            logger.info("rpc refused", metadata: ["method": "\(context.descriptor.method)", "grpc_code": "\(error.code)", "reason": "\(error.message)"])
            throw error
        } catch {
            let requestID = Self.requestID()
            let apiError = APIError(error, requestID: requestID)
            var metadata: Logger.Metadata = ["method": "\(context.descriptor.method)", "request_id": "\(requestID)"]
            if apiError.status.code >= 500 {
                metadata["error"] = "\(String(reflecting: error).clipped(to: APIError.maxMessageLength))"
                logger.error("rpc failed", metadata: metadata)
            } else {
                metadata["status"] = "\(apiError.status.code)"
                metadata["reason"] = "\(apiError.message)"
                logger.info("rpc refused", metadata: metadata)
            }
            throw StatusMapping.rpcError(apiError, requestID: requestID)
        }
    }

    /// A short random id, as Hummingbird's request ids are: only for matching a report with the log.
    private static func requestID() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }
}
