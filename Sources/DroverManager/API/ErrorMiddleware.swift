import DroverCore
import DroverStore
import Hummingbird
import Logging

/// Makes every failure a JSON error body: API errors as they are, Hummingbird's own errors
/// (no such route, body too large) with a code, a store that refuses writes as a 503 with
/// `Retry-After`, and anything unexpected as a logged 500.
/// A path the API has, asked with a method it does not take, is a 405 with `Allow`.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ManagerRequestContext
    /// The routes that tell a 405 from a 404 (none: every miss is a 404).
    var routes: Set<APIRoute> = []

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
                let allowed = Self.methods(for: request.uri.path, in: routes)
                if !allowed.isEmpty {
                    throw APIError(
                        .methodNotAllowed, code: "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path.prefix(200)); use \(allowed.joined(separator: ", "))",
                        headers: [.allow: allowed.joined(separator: ", ")]
                    )
                }
                message = "no route for \(request.method) \(request.uri.path.prefix(200))"
            } else if error.status == .contentTooLarge {
                message = "request body is over the \(context.maxUploadSize)-byte limit"
            } else {
                message = error.status.reasonPhrase
            }
            throw APIError(error.status, code: code, message, headers: (error as? HTTPError)?.headers ?? [:])
        } catch let error as StoreError where error.isUnavailable {
            context.logger.warning("store unavailable", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError.storeUnavailable("\(error)")
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, code: "internal", "internal error; see the manager log")
        }
    }

    /// The methods of the routes whose template matches `path` (`{name}` matches one segment),
    /// the most literal template winning as in the router (`agents/deploy` over `agents/{id}`).
    static func methods(for path: String, in routes: Set<APIRoute>) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: [Bool] = []
        var methods: Set<String> = []
        for route in routes {
            let template = route.path.split(separator: "/", omittingEmptySubsequences: true)
            guard template.count == parts.count, zip(template, parts).allSatisfy({ $0.hasPrefix("{") || $0 == $1 }) else { continue }
            let literal = template.map { !$0.hasPrefix("{") }
            if literal.lexicographicallyPrecedes(best, by: { !$0 && $1 }) { continue }
            if literal != best { (best, methods) = (literal, []) }
            methods.insert(route.method)
        }
        return methods.sorted()
    }
}
