import DroverCore
import DroverStore
import Foundation
import Hummingbird
import Logging

/// Appends every mutating call (POST, PUT, PATCH, DELETE) that got past authentication to the
/// audit log: who, what, when, and the status answered, errors included. Entries the store
/// refuses wait in `AuditLog` and are written once it takes writes again.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = ManagerRequestContext
    let log: AuditLog

    static func isMutating(_ method: HTTPRequest.Method) -> Bool {
        [.post, .put, .patch, .delete].contains(method)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.isMutating(request.method) else { return try await next(request, context) }
        // Too many entries wait for the store already: the call is refused before it runs.
        guard !log.isFull else { throw APIError.storeUnavailable("\(log.pendingCount) audit entries wait for the store") }
        let at = Date()
        do {
            let response = try await next(request, context)
            await record(request, context: context, at: at, status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            await record(request, context: context, at: at, status: error.status.code)
            throw error
        } catch {
            await record(request, context: context, at: at, status: isStoreUnavailable(error) ? 503 : 500)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, at: Date, status: Int) async {
        await log.record(AuditEntry(
            at: at, principal: context.principal, remote: context.remoteAddress?.ipAddress, method: request.method.rawValue, path: String(request.uri.path.prefix(512)), status: status
        ))
    }
}
