import DroverCore

/// The model's agents by id, each record in its own heap box.
///
/// A dictionary keeps room for at least 4/3 of its entries, rounded up to a power of two, and
/// each slot holds its value in place: agent records held in place took about 800 bytes of
/// dictionary per agent at 200,000 agents, where a box takes the record's own size plus a
/// pointer. Records are replaced whole (`updateValue`), never changed in their box.
struct AgentTable {
    private final class Box: Sendable {
        let record: AgentRecord

        init(_ record: AgentRecord) {
            self.record = record
        }
    }

    private var boxes: [String: Box] = [:]

    var count: Int { boxes.count }

    subscript(id: String) -> AgentRecord? { boxes[id]?.record }

    mutating func reserveCapacity(_ capacity: Int) { boxes.reserveCapacity(capacity) }

    /// Stores `record` under `id`; returns the record it replaces.
    @discardableResult
    mutating func updateValue(_ record: AgentRecord, forKey id: String) -> AgentRecord? {
        boxes.updateValue(Box(record), forKey: id)?.record
    }

    @discardableResult
    mutating func removeValue(forKey id: String) -> AgentRecord? {
        boxes.removeValue(forKey: id)?.record
    }
}
