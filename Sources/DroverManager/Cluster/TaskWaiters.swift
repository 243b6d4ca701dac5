import DroverCore
import Foundation

/// Lets API calls with `?wait=true` sleep until a task is final or their time is up.
///
/// A wake-up can be missed if the task finishes between the caller's store read and its
/// `wait`; callers therefore wait in short slices and read the store again between them.
actor TaskWaiters {
    private var waiters: [String: [UUID: CheckedContinuation<TaskRecord?, Never>]] = [:]

    /// Waits up to `timeout` for `taskID` to finish; `nil` when the time ran out.
    func wait(for taskID: String, timeout: Duration) async -> TaskRecord? {
        let waiterID = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resolve(taskID: taskID, waiterID: waiterID, with: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            waiters[taskID, default: [:]][waiterID] = continuation
        }
    }

    /// Wakes every waiter of a task that became final.
    func finished(_ task: TaskRecord) {
        guard let waiting = waiters.removeValue(forKey: task.id) else { return }
        for continuation in waiting.values { continuation.resume(returning: task) }
    }

    private func resolve(taskID: String, waiterID: UUID, with task: TaskRecord?) {
        guard let continuation = waiters[taskID]?.removeValue(forKey: waiterID) else { return }
        if waiters[taskID]?.isEmpty == true { waiters[taskID] = nil }
        continuation.resume(returning: task)
    }
}
