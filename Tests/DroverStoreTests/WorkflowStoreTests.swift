import DroverCore
import Foundation
import Testing
@testable import DroverStore

@Suite("Store workflows")
struct WorkflowStoreTests {
    func definition(_ name: String, steps: Int = 1) -> WorkflowDefinition {
        WorkflowDefinition(name: name, steps: (0..<steps).map { StepDefinition(id: "s\($0)", type: .task, agentType: "echo") })
    }

    func run(_ id: String, workflow: String = "wf", status: WorkflowRunStatus = .running, at offset: Double) -> WorkflowRunRecord {
        let at = Fixtures.epoch.addingTimeInterval(offset)
        return WorkflowRunRecord(id: id, workflow: workflow, version: 1, tenant: "default", status: status, input: ["n": 1], createdAt: at, updatedAt: at)
    }

    @Test("definitions keep every version; the newest is the default", arguments: Backend.allCases)
    func versions(backend: Backend) async throws {
        try await backend.withStore { store in
            try await store.insertWorkflow(WorkflowRecord(name: "wf", version: 1, tenant: "default", definition: definition("wf"), createdAt: Fixtures.epoch))
            try await store.insertWorkflow(WorkflowRecord(name: "wf", version: 2, tenant: "default", definition: definition("wf", steps: 2), createdAt: Fixtures.epoch))
            try await store.insertWorkflow(WorkflowRecord(name: "other", version: 1, tenant: "default", definition: definition("other"), createdAt: Fixtures.epoch))
            await #expect(throws: StoreError.self) {
                try await store.insertWorkflow(WorkflowRecord(name: "wf", version: 2, tenant: "default", definition: definition("wf"), createdAt: Fixtures.epoch))
            }
            #expect(try await store.workflow(tenant: "default", name: "wf", version: nil)?.version == 2)
            #expect(try await store.workflow(tenant: "default", name: "wf", version: 1)?.definition.steps.count == 1)
            #expect(try await store.workflow(tenant: "default", name: "wf", version: 3) == nil)
            #expect(try await store.workflow(tenant: "default", name: "missing", version: nil) == nil)
            #expect(try await store.workflows().map { "\($0.name)@\($0.version)" } == ["other@1", "wf@2"])
        }
    }

    @Test("runs: insert once, update, filter, page newest first, list the open ones", arguments: Backend.allCases)
    func runs(backend: Backend) async throws {
        try await backend.withStore { store in
            for index in 0..<5 { try await store.insertRun(run("r\(index)", at: Double(index))) }
            try await store.insertRun(run("x", workflow: "other", at: 10))
            await #expect(throws: StoreError.self) { try await store.insertRun(run("r0", at: 0)) }
            var done = run("r1", at: 1)
            done.status = .completed
            done.output = ["total": 3]
            try await store.updateRun(done)
            #expect(try await store.run(tenant: "default", id: "r1")?.output == ["total": 3])
            #expect(try await store.runStatus(tenant: "default", id: "r1") == .completed)
            #expect(try await store.runStatus(tenant: "default", id: "r2") == .running)
            #expect(try await store.runStatus(tenant: "default", id: "missing") == nil)
            #expect(try await store.runs(WorkflowRunFilter(workflow: "wf", limit: 2)).map(\.id) == ["r4", "r3"])
            #expect(try await store.runs(WorkflowRunFilter(workflow: "wf", before: "r3", limit: 2)).map(\.id) == ["r2", "r1"])
            #expect(try await store.runs(WorkflowRunFilter(status: .completed)).map(\.id) == ["r1"])
            #expect(try await store.openRuns().map(\.id) == ["r0", "r2", "r3", "r4", "x"])
        }
    }

    @Test("history: batches append in order; a used sequence number is refused", arguments: Backend.allCases)
    func history(backend: Backend) async throws {
        try await backend.withStore { store in
            func event(_ sequence: Int, _ kind: WorkflowEvent.Kind = .stepScheduled) -> WorkflowEvent {
                WorkflowEvent(kind: kind, at: Fixtures.epoch, step: "s", item: sequence, attempt: 1, taskID: "t\(sequence)", data: ["i": .int(sequence)], sequence: sequence)
            }
            try await store.appendHistory(tenant: "default", runID: "r", [event(1, .runStarted)])
            try await store.appendHistory(tenant: "default", runID: "r", (2...1_200).map { event($0) })
            try await store.appendHistory(tenant: "default", runID: "other", [event(1, .runStarted)])
            await #expect(throws: StoreError.self) { try await store.appendHistory(tenant: "default", runID: "r", [event(1200)]) }
            let all = try await store.history(tenant: "default", runID: "r", after: 0, limit: 10_000)
            #expect(all.map(\.sequence) == Array(1...1_200))
            #expect(all[5] == event(6))
            #expect(try await store.history(tenant: "default", runID: "r", after: 1_190, limit: 5).map(\.sequence) == [1_191, 1_192, 1_193, 1_194, 1_195])
            #expect(try await store.history(tenant: "default", runID: "missing", after: 0, limit: 10).isEmpty)
        }
    }
}
