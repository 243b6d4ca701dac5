import DroverCore
import Hummingbird
import Logging

/// Makes every failure a JSON error body: API errors as they are, Hummingbird's own errors
/// (no such route, body too large) with a code, and anything unexpected as a logged 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ManagerRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "body_too_large"
            case .unauthorized: code = "unauthorized"
            default: code = error.status.code < 500 ? "bad_request" : "internal"
            }
            let message: String
            if let body = (error as? HTTPError)?.body {
                message = body
            } else if error.status == .notFound {
                message = "no route for \(request.method) \(request.uri.path)"
            } else if error.status == .contentTooLarge {
                message = "request body is over the \(context.maxUploadSize)-byte limit"
            } else {
                message = error.status.reasonPhrase
            }
            throw APIError(error.status, code: code, message, headers: (error as? HTTPError)?.headers ?? [:])
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, code: "internal", "internal error; see the manager log")
        }
    }
}
