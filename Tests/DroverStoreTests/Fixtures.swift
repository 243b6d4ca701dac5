import DroverCore
import Foundation
import Logging
import Testing
@testable import DroverStore

/// The backends the conformance suite runs against.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite

    var testDescription: String { rawValue }

    /// Runs `body` against a fresh store of this kind, removing its file afterwards.
    func withStore(_ body: (any Store) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(InMemoryStore())
        case .sqlite:
            try await TemporaryFolder.with { folder in
                // A folder that does not exist yet: opening must create it.
                let store = try await SQLiteStore.open(path: folder.appendingPathComponent("nested/drover.db").path, logger: .test)
                do {
                    try await body(store)
                } catch {
                    try await store.close()
                    throw error
                }
                try await store.close()
            }
        }
    }
}

/// A unique folder under the system's temporary directory, removed afterwards.
enum TemporaryFolder {
    static func with<T>(_ body: (URL) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drover-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        return try await body(folder)
    }
}

extension Logger {
    static let test = Logger(label: "drover.store.tests")
}

enum Fixtures {
    static let epoch = Date(timeIntervalSince1970: 1_700_000_000)

    static func node(_ id: String, status: NodeStatus = .active) -> NodeRecord {
        NodeRecord(
            id: id, tenant: "t1", name: id, hostAddress: "127.0.0.1", apiPort: 8001, capabilities: ["gpu"], labels: ["zone": "a"],
            agentTypes: [AgentTypeInfo(name: "echo", driver: "builtin")], resources: NodeResources(capacity: ResourceSpec(cpu: 4, memoryMB: 4096)),
            maxAgents: 10, status: status, connection: .websocket, metadata: ["k": ["nested": [1, 2.5, "x", nil]]],
            registeredAt: epoch, lastHeartbeat: epoch, incarnation: "inc"
        )
    }

    static func agent(_ id: String, created: Double = 0) -> AgentRecord {
        AgentRecord(
            id: id, agentType: "counter", tenant: "t1", config: ["threshold": 3, "ratio": 0.25, "name": "x"], nodeID: "n1",
            generation: 2, state: ["count": 41], createdAt: epoch.addingTimeInterval(created), updatedAt: epoch
        )
    }

    static func task(_ id: String, agent: String = "a1", created: Double = 0, status: TaskStatus = .queued) -> TaskRecord {
        TaskRecord(
            id: id, agentID: agent, tenant: "t1", input: ["q": [1, 2, 3]], status: status, timeoutSeconds: 30,
            createdAt: epoch.addingTimeInterval(created), deadline: epoch.addingTimeInterval(created + 30)
        )
    }

    /// A document with every kind of JSON value, nested.
    static let document: JSONValue = [
        "int": 7, "negative": -12, "big": .int(Int(Int32.max) * 4), "zero": 0, "fraction": 0.125, "pi": 3.14159,
        "text": "héllo \"quoted\" ✓", "flag": true, "off": false, "nothing": nil,
        "list": [1, "two", [3, [4]], ["five": 5]], "empty_list": [], "empty_object": [:],
        "deep": ["a": ["b": ["c": ["count": 41, "ratio": 0.5]]]],
    ]

    /// `value` as it reads back from its JSON, the way every store keeps it.
    static func persisted<T: Codable>(_ value: T) throws -> T {
        try JSONCoding.decoder().decode(T.self, from: JSONCoding.encoder().encode(value))
    }
}
