import Foundation

/// `POST /api/v1/cluster/agents/{id}/tasks`: `input` is any JSON; `timeout_s` bounds the task.
public struct TaskSubmitRequest: Codable, Sendable, Hashable {
    public var input: JSONValue
    public var timeoutSeconds: Double?
    /// Optional idempotency key: a second submit with the same id returns the first task.
    public var taskID: String?

    public init(input: JSONValue, timeoutSeconds: Double? = nil, taskID: String? = nil) {
        self.input = input
        self.timeoutSeconds = timeoutSeconds
        self.taskID = taskID
    }

    enum CodingKeys: String, CodingKey {
        case input
        case timeoutSeconds = "timeout_s"
        case taskID = "task_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        input = try container.decodeIfPresent(JSONValue.self, forKey: .input) ?? .null
        timeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .timeoutSeconds)
        taskID = try container.decodeIfPresent(String.self, forKey: .taskID)
    }
}
