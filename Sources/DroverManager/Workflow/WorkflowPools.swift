import DroverCore
import DroverStore
import Foundation
import Logging

/// Warm agent pools shared by the runs of a workflow. Owned by the workflow loop; never
/// touched from anywhere else.
///
/// A pool's agents carry the label `drover.pool` = `workflow.pool`, so a restarted manager
/// finds them again (in their own tenant: workflow names are per tenant, and so are pools). A step takes the member with the fewest tasks in flight; when every
/// member is busy and the pool is below `max_size`, one more is deployed. A pool idle for
/// `idle_timeout` shrinks back to `min_size`.
final class WorkflowPools {
    struct Pool {
        var key: String
        /// The value of the agents' `drover.pool` label: `workflow.pool`.
        var label: String
        var tenant: String
        var agentType: String
        var agentConfig: JSONValue
        var config: PoolConfig
        var members: [String] = []
        var lastBusy: Date
    }

    static let label = "drover.pool"

    private let controller: ClusterController
    private let logger: Logger
    private(set) var pools: [String: Pool] = [:]
    private var inFlight: [String: Int] = [:]
    private var memberOf: [String: String] = [:]

    init(controller: ClusterController, logger: Logger) {
        self.controller = controller
        self.logger = logger
    }

    static func key(tenant: String, workflow: String, pool: String) -> String { key(tenant: tenant, label: label(workflow: workflow, pool: pool)) }

    static func key(tenant: String, label: String) -> String { "\(tenant)/\(label)" }

    static func label(workflow: String, pool: String) -> String { "\(workflow).\(pool)" }

    /// Finds pool agents deployed before a restart.
    func recover(agents: [AgentRecord], workflows: [WorkflowRecord], now: Date) {
        for record in workflows {
            for (name, definition) in record.definition.pools ?? [:] {
                ensure(workflow: record.name, name: name, tenant: record.tenant, definition: definition, now: now)
            }
        }
        for agent in agents where agent.desiredState == .running {
            guard let key = agent.labels[Self.label].map({ Self.key(tenant: agent.tenant, label: $0) }), pools[key] != nil, memberOf[agent.id] == nil else {
                continue
            }
            pools[key]?.members.append(agent.id)
            memberOf[agent.id] = key
        }
    }

    /// Registers (or updates) a pool's settings.
    @discardableResult
    func ensure(workflow: String, name: String, tenant: String, definition: PoolDefinition, now: Date) -> String {
        let key = Self.key(tenant: tenant, workflow: workflow, pool: name)
        let agentType = definition.agentType ?? name
        if var pool = pools[key] {
            pool.config = definition.poolConfig
            pool.agentType = agentType
            pool.agentConfig = definition.agentConfig ?? .object([:])
            pools[key] = pool
        } else {
            pools[key] = Pool(key: key, label: Self.label(workflow: workflow, pool: name), tenant: tenant, agentType: agentType, agentConfig: definition.agentConfig ?? .object([:]), config: definition.poolConfig, lastBusy: now)
        }
        return key
    }

    /// Deploys `min_size` agents for every pool marked `warm_up`.
    func warm(_ record: WorkflowRecord, now: Date) async {
        for (name, definition) in (record.definition.pools ?? [:]).sorted(by: { $0.key < $1.key }) {
            let key = ensure(workflow: record.name, name: name, tenant: record.tenant, definition: definition, now: now)
            guard definition.poolConfig.warmUp else { continue }
            while let pool = pools[key], pool.members.count < pool.config.minSize {
                do {
                    _ = try await grow(key)
                } catch {
                    logger.warning("could not warm up a pool", metadata: ["pool": "\(key)", "error": "\(error)"])
                    break
                }
            }
        }
    }

    /// The agent a step of pool `key` should use; deploys one when the pool must grow.
    func acquire(_ key: String, now: Date) async throws -> String {
        guard pools[key] != nil else { throw APIError(.unprocessableContent, code: "unknown_pool", "no pool '\(key)'") }
        var least: String?
        while let pool = pools[key], let candidate = pool.members.min(by: { (inFlight[$0] ?? 0) < (inFlight[$1] ?? 0) }) {
            if await isUsable(candidate) {
                least = candidate
                break
            }
            // Deleted, failed past its restart limit, or stopped: no longer a member.
            logger.info("pool member gone", metadata: ["pool": "\(key)", "agent": "\(candidate)"])
            drop(agentID: candidate)
        }
        guard let pool = pools[key] else { throw APIError(.unprocessableContent, code: "unknown_pool", "no pool '\(key)'") }
        let chosen: String
        if let least, (inFlight[least] ?? 0) == 0 || pool.members.count >= pool.config.maxSize {
            chosen = least
        } else {
            chosen = try await grow(key)
        }
        inFlight[chosen, default: 0] += 1
        pools[key]?.lastBusy = now
        return chosen
    }

    /// A task of a pool agent ended.
    func release(agentID: String, now: Date) {
        guard let key = memberOf[agentID], let count = inFlight[agentID] else { return }
        inFlight[agentID] = max(0, count - 1)
        pools[key]?.lastBusy = now
    }

    /// Forgets a member that can no longer take tasks (undeployed, failed, deleted).
    func drop(agentID: String) {
        guard let key = memberOf.removeValue(forKey: agentID) else { return }
        pools[key]?.members.removeAll { $0 == agentID }
        inFlight[agentID] = nil
    }

    /// Whether a member can still take tasks (its record is in the cache of the SQLite store).
    private func isUsable(_ agentID: String) async -> Bool {
        guard let agent = controller.model.agent(id: agentID) else { return false }
        return agent.desiredState == .running && agent.status != .failed
    }

    /// Shrinks every pool idle past its `idle_timeout` back to `min_size`.
    func shrinkIdle(now: Date) async {
        for (key, pool) in pools where pool.members.count > pool.config.minSize {
            let busy = pool.members.contains { (inFlight[$0] ?? 0) > 0 }
            guard !busy, now.timeIntervalSince(pool.lastBusy) >= pool.config.idleTimeout.seconds else { continue }
            for agentID in pool.members.suffix(pool.members.count - pool.config.minSize) {
                drop(agentID: agentID)
                _ = try? await controller.undeploy(agentID: agentID)
                logger.info("pool shrank", metadata: ["pool": "\(key)", "agent": "\(agentID)"])
            }
        }
    }

    private func grow(_ key: String) async throws -> String {
        guard let pool = pools[key] else { throw APIError(.unprocessableContent, code: "unknown_pool", "no pool '\(key)'") }
        let now = Date()
        let agent = AgentRecord(
            id: Identifiers.make("agt"), agentType: pool.agentType, tenant: pool.tenant, config: pool.agentConfig,
            labels: [Self.label: pool.label], strategy: controller.configuration.defaultStrategy, createdAt: now, updatedAt: now
        )
        let placed = try await controller.place(agent, queueIfBusy: true)
        pools[key]?.members.append(placed.id)
        memberOf[placed.id] = key
        logger.info("pool grew", metadata: ["pool": "\(key)", "agent": "\(placed.id)", "node": "\(placed.nodeID ?? "-")"])
        return placed.id
    }
}
