import DroverCore
import Foundation

/// Lets API calls with `?wait=true` sleep until a task is final or their time is up.
///
/// Callers `arm` before they read the task, so a result that lands between that read and
/// `wait` is not missed (see `CompletionWaiters`): a finished task answers its waiter at once.
struct TaskWaiters: Sendable {
    private let waiters = CompletionWaiters<String, TaskRecord>()

    /// Task ids are per tenant.
    static func key(tenant: String, id: String) -> String { "\(tenant)/\(id)" }

    /// Registers interest in the tenant's task `id`; call before reading it.
    func arm(tenant: String, id: String) async -> UUID {
        await waiters.arm(Self.key(tenant: tenant, id: id))
    }

    /// Gives up a ticket (the task was final when read, or the read failed).
    func disarm(tenant: String, id: String, ticket: UUID) async {
        await waiters.disarm(Self.key(tenant: tenant, id: id), ticket: ticket)
    }

    /// Waits up to `timeout` for the task to finish; `nil` when the time ran out.
    func wait(tenant: String, id: String, ticket: UUID, timeout: Duration) async -> TaskRecord? {
        await waiters.wait(Self.key(tenant: tenant, id: id), ticket: ticket, timeout: timeout)
    }

    /// Wakes every waiter of a task that became final.
    func finished(_ task: TaskRecord) async {
        await waiters.finished(Self.key(tenant: task.tenant, id: task.id), task)
    }
}
