import DroverCore
import Foundation
import Testing
@testable import DroverStore

/// One suite every `Store` must pass.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite

    var testDescription: String { rawValue }

    /// Runs `body` against a fresh store of this kind, removing its file afterwards.
    func withStore(_ body: (any Store) async throws -> Void) async throws {
        switch self {
        case .memory:
            try await body(InMemoryStore())
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-store-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try await SQLiteStore.open(path: directory.appendingPathComponent("nested/drover.db").path, logger: .init(label: "test"))
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
}

@Suite("Store conformance")
struct StoreConformanceTests {
    @Test("settings round-trip and overwrite", arguments: Backend.allCases)
    func meta(backend: Backend) async throws {
        try await backend.withStore { store in
            #expect(try await store.metaValue("admin_token") == nil)
            try await store.setMetaValue("admin_token", "one")
            try await store.setMetaValue("admin_token", "two")
            #expect(try await store.metaValue("admin_token") == "two")
        }
    }

    @Test("nodes: upsert, read, list in id order, delete", arguments: Backend.allCases)
    func nodes(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.upsertNode(Fixtures.node("b"))
            try await store.upsertNode(Fixtures.node("a"))
            try await store.upsertNode(Fixtures.node("b", status: .down))
            #expect(try await store.nodes().map(\.id) == ["a", "b"])
            #expect(try await store.node(id: "b")?.status == .down)
            #expect(try await store.node(id: "a") == Fixtures.node("a"))
            #expect(try await store.deleteNode(id: "a"))
            #expect(try await !store.deleteNode(id: "a"))
            #expect(try await store.node(id: "a") == nil)
        }
    }

    @Test("agents: JSON documents come back exactly, ordered by creation", arguments: Backend.allCases)
    func agents(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.upsertAgent(Fixtures.agent("late", created: 10))
            try await store.upsertAgent(Fixtures.agent("early", created: 1))
            var moved = Fixtures.agent("late", created: 10)
            moved.nodeID = nil
            moved.generation = 3
            try await store.upsertAgent(moved)
            #expect(try await store.agents().map(\.id) == ["early", "late"])
            #expect(try await store.agent(id: "late") == moved)
            #expect(try await store.agent(id: "early")?.state == ["count": 41])
            #expect(try await store.deleteAgent(id: "late"))
            #expect(try await store.agents().map(\.id) == ["early"])
        }
    }

    @Test("tasks: duplicate ids are refused and the first completion wins", arguments: Backend.allCases)
    func tasks(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.insertTask(Fixtures.task("t2", created: 2))
            try await store.insertTask(Fixtures.task("t1", created: 1))
            try await store.insertTask(Fixtures.task("other", agent: "a2", created: 3))
            await #expect(throws: StoreError.duplicate("t1")) { try await store.insertTask(Fixtures.task("t1")) }
            #expect(try await store.openTasks().map(\.id) == ["t1", "t2", "other"])

            var first = Fixtures.task("t1", created: 1, status: .succeeded)
            first.output = ["answer": 42]
            var second = Fixtures.task("t1", created: 1, status: .failed)
            second.error = "late"
            #expect(try await store.updateOpenTask(first))
            #expect(try await !store.updateOpenTask(second))
            #expect(try await store.task(id: "t1") == first)
            #expect(try await store.openTasks().map(\.id) == ["t2", "other"])
            #expect(try await store.tasks(agentID: "a1", limit: 10).map(\.id) == ["t2", "t1"])
            #expect(try await store.tasks(agentID: "a1", limit: 1).map(\.id) == ["t2"])
            #expect(try await !store.updateOpenTask(Fixtures.task("missing")))
        }
    }

    @Test("concurrent completions: exactly one wins", arguments: Backend.allCases)
    func racingCompletions(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.insertTask(Fixtures.task("race"))
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<16 {
                    group.addTask {
                        var done = Fixtures.task("race", status: .succeeded)
                        done.output = .int(attempt)
                        return try await store.updateOpenTask(done)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }
}

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("data survives closing and reopening the file, in WAL mode")
    func durability() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-sqlite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("drover.db").path
        do {
            let store = try await SQLiteStore.open(path: path, logger: .init(label: "test"))
            #expect(try await store.journalMode() == "wal")
            try await store.upsertAgent(Fixtures.agent("a1"))
            try await store.insertTask(Fixtures.task("t1"))
            try await store.setMetaValue("admin_token", "secret")
            try await store.close()
        }
        let reopened = try await SQLiteStore.open(path: path, logger: .init(label: "test"))
        #expect(try await reopened.agent(id: "a1") == Fixtures.agent("a1"))
        #expect(try await reopened.task(id: "t1") == Fixtures.task("t1"))
        #expect(try await reopened.metaValue("admin_token") == "secret")
        try await reopened.close()
    }

    @Test("a damaged row is reported as corrupt, not a crash")
    func corruptRow() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("drover-sqlite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStore.open(path: directory.appendingPathComponent("drover.db").path, logger: .init(label: "test"))
        try await store.upsertAgent(Fixtures.agent("a1"))
        try await store.execute("UPDATE agents SET data = '{\"id\": 5}' WHERE id = 'a1'")
        await #expect(throws: StoreError.self) { try await store.agent(id: "a1") }
        do {
            _ = try await store.agents()
            Issue.record("read a damaged row")
        } catch {
            #expect("\(error)".contains("a1"))
        }
        try await store.close()
    }

    @Test("store locations parse, and bad ones say what to use", arguments: [
        ("sqlite:./drover.db", StoreLocation.sqlite(path: "./drover.db")),
        ("sqlite:/var/lib/drover.db", .sqlite(path: "/var/lib/drover.db")),
        ("memory:", .memory),
    ])
    func locations(text: String, expected: StoreLocation) throws {
        #expect(try StoreLocation.parse(text) == expected)
    }

    @Test("unsupported store locations are refused with a clear message", arguments: ["postgres://db/drover", "sqlite:", "redis://x", ""])
    func badLocations(text: String) {
        #expect(throws: StoreLocationError.self) { try StoreLocation.parse(text) }
    }
}
