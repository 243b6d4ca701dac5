import DroverCore
import Foundation
import Hummingbird

/// An error the API returns as `{"error": {"code": ..., "message": ...}}` with a 4xx/5xx status.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields
    public var path: String?
    public var problems: [WorkflowProblem]?

    public init(
        _ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:], path: String? = nil,
        problems: [WorkflowProblem]? = nil
    ) {
        self.path = path
        self.problems = problems
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(APIErrorBody(code: code, message: message, path: path, problems: problems), status: status, headers: headers)
    }

    static func notFound(_ what: String, _ id: String) -> APIError {
        APIError(.notFound, code: "not_found", "\(what) '\(id)' does not exist")
    }

    /// 422 for a workflow definition that cannot run, naming the first fault and listing all.
    static func invalidWorkflow(_ first: WorkflowProblem, all: [WorkflowProblem]) -> APIError {
        let more = all.count > 1 ? " (and \(all.count - 1) more)" : ""
        return APIError(.unprocessableContent, code: "invalid_workflow", "\(first.description)\(more)", path: first.path, problems: all)
    }

    /// 503 while the store refuses writes (disk full, I/O error, database away): retry later.
    static func storeUnavailable(_ detail: String) -> APIError {
        APIError(
            .serviceUnavailable, code: "store_unavailable", "the store cannot take writes now (\(detail.prefix(300))); retry later",
            headers: [.retryAfter: "\(retryAfterSeconds)"]
        )
    }

    /// Seconds a client is told to wait before retrying a call the store refused.
    static let retryAfterSeconds = 5

    static func badRequest(_ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_request", message)
    }

    static let forbidden = APIError(.forbidden, code: "forbidden", "this call needs an admin credential")

    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized", "missing or invalid bearer token: send 'Authorization: Bearer <token>'",
        headers: [.wwwAuthenticate: "Bearer"]
    )
}
