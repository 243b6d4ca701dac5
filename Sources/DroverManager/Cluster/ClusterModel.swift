import DroverCore
import DroverStore
import Foundation
import Synchronization

/// The cluster as the manager holds it: every node and agent, the agents placed on each node
/// and the room they take, the agents in a stable order for paging, and the counts behind
/// `GET /api/v1/cluster/status` — loaded from the store once, at start.
///
/// Changed write-through only: the caller writes the store first and, once the write is
/// durable, tells the model (see `ClusterController+Records`). Placement and reconciliation
/// read it instead of the store, so no request and no periodic pass reads every record.
final class ClusterModel: Sendable {
    private let state = Mutex(ClusterModelState())

    /// Loads every node and agent from `store`.
    static func load(from store: any Store) async throws -> ClusterModel {
        let model = ClusterModel()
        let nodes = try await store.nodes()
        let agents = try await store.agents()
        // In list order, so that each key goes at the end of the order (the store's order is by
        // the exact creation time, the list's by the millisecond it was stored with).
        let ordered = agents.map { (AgentOrderKey($0), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
        model.state.withLock { state in
            // Sized once: growing to 200,000 entries rehashes every record many times over.
            state.agents.reserveCapacity(ordered.count)
            state.changedAgents.reserveCapacity(ordered.count)
            for node in nodes { state.put(node) }
            for agent in ordered { state.put(agent) }
        }
        return model
    }

    // MARK: Reads

    func agent(id: String) -> AgentRecord? { state.withLock { $0.agents[id] } }

    func node(id: String) -> NodeRecord? { state.withLock { $0.nodes[id] } }

    /// Every node, by id (nodes are few next to agents).
    /// Every node, in no particular order (no sort: for passes that look at each one).
    func unorderedNodes() -> [NodeRecord] { state.withLock { Array($0.nodes.values) } }
    func nodes() -> [NodeRecord] { state.withLock { $0.nodes.values.sorted { $0.id < $1.id } } }

    /// Nodes per status, and the capacity of those not down, over the tenants `visible` allows
    /// (for status: no copy of the node records).
    func nodeSummary(visible: (String) -> Bool) -> (byStatus: [NodeStatus: Int], liveCapacity: ResourceSpec) {
        state.withLock { state in
            var byStatus: [NodeStatus: Int] = [:]
            var capacity = ResourceSpec.zero
            for node in state.nodes.values where visible(node.tenant) {
                byStatus[node.status, default: 0] += 1
                if node.status != .down { capacity = capacity + node.resources.capacity }
            }
            return (byStatus, capacity)
        }
    }

    /// Every agent, oldest first. A full copy: for passes that need the whole fleet (rebalance).
    func agents() -> [AgentRecord] {
        state.withLock { state in state.order.keys.compactMap { state.agents[$0.id] } }
    }

    var agentCount: Int { state.withLock { $0.agents.count } }

    /// The agents with these ids that exist, oldest first.
    func agents(ids: Set<String>) -> [AgentRecord] {
        state.withLock { state in ids.compactMap { state.agents[$0] }.sorted { AgentOrderKey($0) < AgentOrderKey($1) } }
    }

    /// What changed since the last call, for an incremental reconciliation pass: the agents
    /// written or removed, the agents of nodes whose placement attributes changed, and the
    /// agents waiting for a node (unplaced or failed; with a node changed, also those of
    /// draining nodes, which may now have somewhere to go). Forgets the changes.
    func takeChanged() -> Set<String> {
        state.withLock { state in
            var ids = state.changedAgents.union(state.waiting)
            for nodeID in state.changedNodes { ids.formUnion(state.byNode[nodeID] ?? []) }
            if !state.changedNodes.isEmpty {
                for (nodeID, node) in state.nodes where node.status == .draining { ids.formUnion(state.byNode[nodeID] ?? []) }
            }
            state.changedAgents = []
            state.changedNodes = []
            return ids
        }
    }

    /// Placement candidates for every node by id, with the room its agents (and reservations)
    /// take, in O(nodes).
    func candidates(connected: Set<String>) -> [PlacementCandidate] {
        state.withLock { state in
            state.sortedNodeIDs.compactMap { id in
                guard var candidate = state.candidateBase[id] else { return nil }
                candidate.connected = candidate.connected && connected.contains(id)
                if let usage = state.usage[id] {
                    candidate.allocated = usage.allocated
                    candidate.agentCount = usage.count
                    candidate.agentLabels = usage.labels
                }
                return candidate
            }
        }
    }

    /// Counts placed-but-not-yet-stored agents against their nodes' room, so placements decided
    /// while their records are being written do not take the same room twice.
    ///
    /// `countedByIndex`: the kept `PlacementIndex` made these placements and counted them
    /// itself, so it stays valid (the placement epoch is not bumped).
    func reserve(_ agents: [AgentRecord], countedByIndex: Bool = false) {
        state.withLock { state in
            for agent in agents { state.addUsage(agent) }
            if !countedByIndex { state.placementEpoch &+= 1 }
        }
    }

    /// Gives back reservations whose records were not stored.
    func release(_ agents: [AgentRecord]) {
        state.withLock { state in
            for agent in agents { state.removeUsage(agent) }
            state.placementEpoch &+= 1
        }
    }

    /// Changes whenever what `candidates` returns changes other than by reservations a
    /// `PlacementIndex` counted itself: an index built at this epoch is still exact.
    var placementEpoch: UInt64 { state.withLock { $0.placementEpoch } }

    /// Turns stored reservations into agents.
    func commit(_ agents: [AgentRecord]) {
        state.withLock { state in
            for agent in agents {
                // The reservation's room becomes the agent's: nothing placement sees changes.
                state.removeUsage(agent)
                state.put(agent, countsAsPlacementChange: false)
            }
        }
    }

    /// Agents that want to run, by status, and the resources placed ones take, over the tenants `visible` allows.
    func agentTotals(visible: (String) -> Bool) -> (byStatus: [AgentStatus: Int], allocated: ResourceSpec) {
        state.withLock { state in
            var byStatus: [AgentStatus: Int] = [:]
            var allocated = ResourceSpec.zero
            for (tenant, totals) in state.tenantTotals where visible(tenant) {
                for (status, count) in totals.byStatus { byStatus[status, default: 0] += count }
                allocated = allocated + totals.allocated
            }
            return (byStatus, allocated)
        }
    }

    /// One page of agents, oldest first, after `query.after`; the filters narrow what the index walks.
    func page(_ query: AgentPageQuery) -> (items: [AgentRecord], next: AgentOrderKey?) {
        state.withLock { state in
            var items: [AgentRecord] = []
            let matches = { (agent: AgentRecord) -> Bool in
                if let status = query.status, agent.status != status { return false }
                if let type = query.agentType, agent.agentType != type { return false }
                if let tenant = query.tenant, agent.tenant != tenant { return false }
                if let node = query.nodeID, agent.nodeID != node { return false }
                return query.labels.allSatisfy { agent.labels[$0.key] == $0.value }
            }
            // A node's agents are few next to the fleet: they are sorted here; otherwise the
            // tenant's (or the fleet's) order is walked from the cursor.
            let keys: [AgentOrderKey]
            if let nodeID = query.nodeID {
                keys = (state.byNode[nodeID] ?? []).compactMap { state.agents[$0].map(AgentOrderKey.init) }.sorted()
            } else {
                keys = (query.tenant.map { state.tenantOrder[$0] ?? SortedAgentKeys() } ?? state.order).keys
            }
            let start = query.after.map { after in keys.partitioningIndex { $0 > after } } ?? 0
            for key in keys[start...] {
                guard let agent = state.agents[key.id], matches(agent) else { continue }
                if items.count == query.limit { return (items, AgentOrderKey(items[items.count - 1])) }
                items.append(agent)
            }
            return (items, nil)
        }
    }

    // MARK: Writes (after the store took them)

    func put(_ agent: AgentRecord) { state.withLock { $0.put(agent) } }

    func removeAgent(id: String) { state.withLock { $0.removeAgent(id: id) } }

    func put(_ node: NodeRecord) { state.withLock { $0.put(node) } }

    func removeNode(id: String) { state.withLock { $0.removeNode(id: id) } }

    /// Refreshes a node's heartbeat time and load in memory when nothing placement weighs
    /// changes (status, capacity); `false` (and nothing done) when it would, or the node is unknown.
    func refreshNode(id: String, heardAt: Date, resources: NodeResources?) -> Bool {
        state.withLock { state in
            guard var node = state.nodes[id], NodeLiveness.statusOnHeartbeat(node.status) == node.status else { return false }
            if let resources {
                guard resources.capacity == node.resources.capacity else { return false }
                node.resources = resources
            }
            node.lastHeartbeat = heardAt
            state.nodes[id] = node
            return true
        }
    }
}

/// What a page of `GET /api/v1/cluster/agents` asks for.
struct AgentPageQuery: Sendable {
    var limit: Int
    var after: AgentOrderKey?
    var tenant: String?
    var nodeID: String?
    var status: AgentStatus?
    var agentType: String?
    var labels: [String: String] = [:]
}

/// Where an agent sorts in lists: by creation time (to the millisecond, as stored), then id.
struct AgentOrderKey: Comparable, Hashable, Sendable {
    let createdMillis: Int64
    let id: String

    init(createdMillis: Int64, id: String) {
        self.createdMillis = createdMillis
        self.id = id
    }

    init(_ agent: AgentRecord) {
        self.init(createdMillis: Int64((agent.createdAt.timeIntervalSince1970 * 1000).rounded(.down)), id: agent.id)
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.createdMillis != rhs.createdMillis ? lhs.createdMillis < rhs.createdMillis : lhs.id < rhs.id
    }

    /// The opaque text of a `cursor`.
    var cursor: String { Data("\(createdMillis)/\(id)".utf8).base64URLEncoded }

    /// Reads a `cursor` back; `nil` if it is not one.
    init?(cursor: String) {
        guard let data = Data(base64URLEncoded: cursor), let text = String(data: data, encoding: .utf8),
            let slash = text.firstIndex(of: "/"), let millis = Int64(text[..<slash])
        else { return nil }
        let id = String(text[text.index(after: slash)...])
        guard !id.isEmpty else { return nil }
        self.init(createdMillis: millis, id: id)
    }
}

/// Agent keys kept sorted; new agents are the newest, so an insert is an append in practice.
struct SortedAgentKeys: Sendable {
    private(set) var keys: [AgentOrderKey] = []

    mutating func insert(_ key: AgentOrderKey) {
        if let last = keys.last, last < key {
            keys.append(key)
            return
        }
        let index = keys.partitioningIndex { $0 >= key }
        if index < keys.count, keys[index] == key { return }
        keys.insert(key, at: index)
    }

    mutating func remove(_ key: AgentOrderKey) {
        let index = keys.partitioningIndex { $0 >= key }
        if index < keys.count, keys[index] == key { keys.remove(at: index) }
    }
}

extension RandomAccessCollection {
    /// The first index whose element satisfies `predicate`, which must be false and then true along the collection.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Index {
        var low = startIndex, count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if predicate(self[middle]) {
                count = half
            } else {
                low = index(after: middle)
                count -= half + 1
            }
        }
        return low
    }
}

extension Data {
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
