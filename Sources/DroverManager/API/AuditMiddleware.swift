import DroverCore
import DroverStore
import Foundation
import Hummingbird
import Logging

/// Appends every mutating call (POST, PUT, PATCH, DELETE) that got past authentication to the
/// audit log: who, what, when, and the status answered, errors included.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = ManagerRequestContext
    let store: any Store

    static func isMutating(_ method: HTTPRequest.Method) -> Bool {
        [.post, .put, .patch, .delete].contains(method)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isMutating(request.method) else { return try await next(request, context) }
        let at = Date()
        do {
            let response = try await next(request, context)
            await record(request, context: context, at: at, status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            await record(request, context: context, at: at, status: error.status.code)
            throw error
        } catch {
            await record(request, context: context, at: at, status: 500)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, at: Date, status: Int) async {
        let entry = AuditEntry(
            at: at, principal: context.principal, remote: context.remoteAddress?.ipAddress, method: request.method.rawValue, path: String(request.uri.path.prefix(512)), status: status
        )
        do {
            try await store.appendAudit(entry)
        } catch {
            context.logger.error("could not write an audit entry", metadata: ["action": "\(entry.action)", "error": "\(error)"])
        }
    }
}
