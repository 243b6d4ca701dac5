import DroverCore

/// The last `capacity` task results, by agent and task id (task ids are per tenant, and a shared
/// node runs agents of several tenants); the oldest go first.
///
/// A duplicate `task.run` (the manager delivers at least once) is answered from here
/// instead of running the task again.
struct ResultCache: Sendable {
    let capacity: Int
    private var results: [String: NodeProtocol.TaskResult] = [:]
    /// Task ids in insertion order; `order[head...]` are live.
    private var order: [String] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { results.count }

    subscript(agentID: String, taskID: String) -> NodeProtocol.TaskResult? {
        results[NodeProtocol.deliveryKey(agentID: agentID, taskID: taskID)]
    }

    mutating func insert(_ result: NodeProtocol.TaskResult) {
        guard capacity > 0 else { return }
        let key = NodeProtocol.deliveryKey(agentID: result.agentID, taskID: result.taskID)
        if results.updateValue(result, forKey: key) == nil {
            order.append(key)
        }
        while results.count > capacity, head < order.count {
            results.removeValue(forKey: order[head])
            head += 1
        }
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }
}
