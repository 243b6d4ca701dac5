import DroverCore
import DroverStore
import Foundation
import Logging
import ServiceLifecycle

/// Durable workflows: registers definitions, starts runs, and drives them with one loop.
///
/// Every transition is appended to the run's history before anything is done about it, so a
/// manager killed at any point resumes each run from its history on the next start
/// (`WorkflowRunner.recover`). The loop is the only writer of a run's history; API calls
/// that change a run (start, signal, cancel) go through its inbox.
public final class WorkflowEngine: Service, Sendable, CustomStringConvertible {
    let controller: ClusterController
    let inbox = WorkflowInbox()
    let metrics = WorkflowMetrics()
    /// Callers of `POST .../runs?wait=true`, woken when their run's end is stored, with the
    /// run's final view (`nil` when it could not be built).
    let runWaiters = CompletionWaiters<RunKey, WorkflowRunView?>()

    public var description: String { "WorkflowEngine" }

    init(controller: ClusterController) {
        self.controller = controller
        let inbox = self.inbox
        controller.workflowTaskObserver.withLock { $0 = TaskObserver { task in inbox.post(.taskFinished(task)) } }
    }

    var store: any Store { controller.store }

    /// Runs the loop until graceful shutdown.
    public func run() async throws {
        let runner = WorkflowRunner(controller: controller, inbox: inbox, metrics: metrics, runWaiters: runWaiters)
        await runner.recover()
        let inbox = self.inbox
        await withGracefulShutdownHandler {
            while !inbox.isClosed {
                let wait: Duration
                if let wakeup = runner.nextWakeup {
                    wait = .milliseconds(Int64(min(max(wakeup.timeIntervalSinceNow, 0.001), 1) * 1_000))
                } else {
                    wait = .seconds(1)
                }
                let batch = await inbox.next(timeout: wait)
                if inbox.isClosed { break }
                await runner.process(batch)
            }
        } onGracefulShutdown: {
            inbox.close()
        }
        // Anyone still waiting for an answer gets one.
        for input in await inbox.next(timeout: .zero) { Self.refuse(input) }
    }

    private static func refuse(_ input: WorkflowInput) {
        let error = APIError(.serviceUnavailable, code: "shutting_down", "the manager is shutting down")
        switch input {
        case .start(_, _, let reply): reply?.fail(error)
        case .signal(_, _, _, let reply): reply.fail(error)
        case .cancel(_, let reply): reply?.fail(error)
        case .view(_, let reply): reply.fail(error)
        case .taskFinished, .childFinished, .warmPools: break
        }
    }

    // MARK: Definitions

    /// Validates and stores a definition; an unchanged one keeps its version. Names are per
    /// tenant: another tenant's workflow of the same name is another workflow.
    func register(_ definition: WorkflowDefinition, tenant: String) async throws -> (WorkflowRecord, created: Bool) {
        let known = Set(try await store.workflows().filter { $0.tenant == tenant }.map(\.name))
        let problems = WorkflowValidator.problems(in: definition, knownWorkflows: known)
        if let first = problems.first {
            throw APIError.invalidWorkflow(first, all: problems)
        }
        let current = try await store.workflow(tenant: tenant, name: definition.name, version: nil)
        // Pool agent configs may hold secrets: compared in clear, stored sealed (like deploys).
        if let current, (try? current.definition.mappingPoolConfigs { try controller.secrets.openSecrets(in: $0) }) == definition {
            return (current, false)
        }
        let sealed = try definition.mappingPoolConfigs { try controller.sealSecrets(in: $0) }
        let record = WorkflowRecord(
            name: definition.name, version: (current?.version ?? 0) + 1, tenant: tenant, definition: sealed, createdAt: Date()
        )
        do {
            try await store.insertWorkflow(record)
        } catch StoreError.duplicate {
            throw APIError(.conflict, code: "workflow_changed", "workflow '\(definition.name)' was registered at the same time; try again")
        }
        // Every pool is (re)configured from the new version; `warm_up` ones also get their agents.
        if definition.pools?.isEmpty == false { inbox.post(.warmPools(record)) }
        return (record, true)
    }

    // MARK: Runs

    /// Starts a run of the newest (or the given) version of a workflow of the tenant in `scope`.
    func startRun(workflow name: String, request: WorkflowRunRequest, scope: TenantScope) async throws -> WorkflowRunRecord {
        let workflow = try await self.workflow(name: name, version: request.version, scope: scope)
        let input = request.input ?? .object([:])
        guard case .object = input else { throw APIError.badRequest("input must be a JSON object") }
        let problems = WorkflowValidator.inputProblems(input, schema: workflow.definition.inputSchema)
        if let first = problems.first { throw APIError(.unprocessableContent, code: "invalid_input", first.description) }
        if let runID = request.runID {
            guard WorkflowValidator.isValidName(runID, maxLength: 96) else {
                throw APIError.badRequest("run_id '\(runID.prefix(64))' is invalid: use 1 to 96 letters, digits, '.', '_' or '-'")
            }
            if let existing = try await store.run(tenant: workflow.tenant, id: runID) {
                guard existing.workflow == name else {
                    throw APIError(.conflict, code: "run_exists", "run '\(runID)' exists for another workflow")
                }
                return existing
            }
        }
        let now = Date()
        let record = WorkflowRunRecord(
            id: request.runID ?? Identifiers.make("run"), workflow: name, version: workflow.version, tenant: workflow.tenant, input: input,
            createdAt: now, updatedAt: now
        )
        return try await ask { .start(record, workflow.definition, reply: $0) }
    }

    /// One version (the newest when `version` is `nil`) of the workflow `name` in `scope`; 404 when there is none.
    func workflow(name: String, version: Int?, scope: TenantScope) async throws -> WorkflowRecord {
        let store = self.store
        let what = version == nil ? "workflow" : "workflow version"
        let shown = version.map { "\(name) v\($0)" } ?? name
        return try await scope.find(
            what, shown, tenantOf: \.tenant,
            one: { try await store.workflow(tenant: $0, name: name, version: version) },
            all: {
                var found: [WorkflowRecord] = []
                for tenant in try await store.workflows().filter({ $0.name == name }).map(\.tenant) {
                    if let record = try await store.workflow(tenant: tenant, name: name, version: version) { found.append(record) }
                }
                return found
            }
        )
    }

    /// The run `id` in `scope`; 404 when there is none.
    func run(id: String, scope: TenantScope) async throws -> WorkflowRunRecord {
        let store = self.store
        return try await scope.find(
            "run", id, tenantOf: \.tenant, one: { try await store.run(tenant: $0, id: id) }, all: { try await store.runs(id: id) }
        )
    }

    /// Returns once the run's end is stored, or after `timeout`, with the run's final view when
    /// the run ended while waiting. The waiter is armed before the status is read, so an end
    /// stored in between is not missed (no polling).
    func waitForEnd(of run: RunKey, timeout: Duration) async throws -> WorkflowRunView? {
        let ticket = await runWaiters.arm(run)
        let status: WorkflowRunStatus?
        do {
            status = try await store.runStatus(tenant: run.tenant, id: run.id)
        } catch {
            await runWaiters.disarm(run, ticket: ticket)
            throw error
        }
        guard status == .running, timeout > .zero else {
            await runWaiters.disarm(run, ticket: ticket)
            return nil
        }
        return await runWaiters.wait(run, ticket: ticket, timeout: timeout) ?? nil
    }

    /// A run as it is now, with every step.
    func view(runID: RunKey) async throws -> WorkflowRunView? {
        if let live = try await ask({ WorkflowInput.view(runID: runID, reply: $0) }) { return live }
        guard let record = try await store.run(tenant: runID.tenant, id: runID.id) else { return nil }
        guard let workflow = try await store.workflow(tenant: record.tenant, name: record.workflow, version: record.version) else {
            throw APIError(.conflict, code: "workflow_missing", "workflow '\(record.workflow)' version \(record.version) is no longer stored")
        }
        let history = try await store.history(tenant: runID.tenant, runID: runID.id, after: 0, limit: Int.max)
        let machine = WorkflowMachine.replay(runID: runID.id, definition: workflow.definition, history: history)
        return WorkflowRunView(record: record, machine: machine)
    }

    func signal(runID: RunKey, name: String, payload: JSONValue) async throws -> WorkflowRunView {
        guard WorkflowValidator.isValidName(name, maxLength: 64) else {
            throw APIError.badRequest("signal name '\(name.prefix(64))' is invalid: use letters, digits, '.', '_' or '-'")
        }
        return try await ask { .signal(runID: runID, name: name, payload: payload, reply: $0) }
    }

    func cancel(runID: RunKey) async throws -> WorkflowRunView {
        try await ask { .cancel(runID: runID, reply: $0) }
    }

    private func ask<Value: Sendable>(_ make: (WorkflowInput.Reply<Value>) -> WorkflowInput) async throws -> Value {
        guard !inbox.isClosed else { throw APIError(.serviceUnavailable, code: "shutting_down", "the manager is shutting down") }
        return try await withCheckedThrowingContinuation { continuation in
            inbox.post(make(WorkflowInput.Reply(continuation: continuation)))
        }
    }
}
