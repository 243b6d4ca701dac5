import DroverCore
import Foundation

/// The records and indexes behind `ClusterModel`, kept consistent by `put` and `remove`.
struct ClusterModelState {
    /// The room the agents placed on one node take (agents that want to run only).
    struct NodeUsage {
        var allocated = ResourceSpec.zero
        var count = 0
        var labels: [[String: String]] = []
    }

    /// Agents that want to run, per status, and the room placed ones take, for one tenant.
    struct TenantTotals {
        var byStatus: [AgentStatus: Int] = [:]
        var allocated = ResourceSpec.zero
    }

    var nodes: [String: NodeRecord] = [:]
    var agents = AgentTable()
    /// Agent ids by the node they are placed on (whatever their desired state).
    var byNode: [String: Set<String>] = [:]
    var usage: [String: NodeUsage] = [:]
    var order = SortedAgentKeys()
    var tenantOrder: [String: SortedAgentKeys] = [:]
    var tenantTotals: [String: TenantTotals] = [:]
    /// Agents changed (or removed) since reconciliation last looked, and nodes whose placement
    /// attributes changed (their agents are looked at again).
    var changedAgents: Set<String> = []
    var changedNodes: Set<String> = []
    /// Agents that want to run and wait for a node that can take them: unplaced ones, and ones
    /// failed on their node (tried on another one).
    var waiting: Set<String> = []
    /// Each node as a placement candidate with no agents (`connected` means "speaks WebSocket").
    var candidateBase: [String: PlacementCandidate] = [:]
    var sortedNodeIDs: [String] = []
    /// Bumped whenever the candidates placement sees change in a way a kept `PlacementIndex`
    /// cannot know: a node's placement attributes, or the room agents take, except for
    /// reservations the index made itself (see `ClusterModel.reserve(_:countedByIndex:)`).
    var placementEpoch: UInt64 = 0

    /// With `countsAsPlacementChange: false` the caller knows the room the agent takes was
    /// counted already (a reservation turning into the stored agent).
    mutating func put(_ agent: AgentRecord, countsAsPlacementChange: Bool = true) {
        let old = agents.updateValue(agent, forKey: agent.id)
        if let old {
            unindex(old)
            if AgentOrderKey(old) != AgentOrderKey(agent) || old.tenant != agent.tenant { unorder(old) }
        }
        index(agent)
        changedAgents.insert(agent.id)
        if countsAsPlacementChange, Self.room(old) != Self.room(agent) { placementEpoch &+= 1 }
    }

    mutating func removeAgent(id: String) {
        guard let old = agents.removeValue(forKey: id) else { return }
        unindex(old)
        unorder(old)
        changedAgents.insert(id)
        if Self.room(old) != nil { placementEpoch &+= 1 }
    }

    /// What an agent counts against its node's room (`addUsage`), or `nil` when nothing.
    private static func room(_ agent: AgentRecord?) -> AgentRoom? {
        guard let agent, agent.desiredState == .running, let nodeID = agent.nodeID else { return nil }
        return AgentRoom(nodeID: nodeID, resources: agent.resources, labels: agent.labels)
    }

    private struct AgentRoom: Equatable {
        var nodeID: String
        var resources: ResourceSpec
        var labels: [String: String]
    }

    private mutating func unorder(_ agent: AgentRecord) {
        order.remove(AgentOrderKey(agent))
        tenantOrder[agent.tenant]?.remove(AgentOrderKey(agent))
        if tenantOrder[agent.tenant]?.keys.isEmpty == true { tenantOrder[agent.tenant] = nil }
    }

    mutating func put(_ node: NodeRecord) {
        let old = nodes.updateValue(node, forKey: node.id)
        // A heartbeat refreshes the time and the load; only what placement weighs marks the node changed.
        if old.map({ !Self.samePlacement($0, node) }) ?? true {
            changedNodes.insert(node.id)
            candidateBase[node.id] = PlacementCandidate(
                nodeID: node.id, tenant: node.tenant, status: node.status, connected: node.connection == .websocket,
                agentTypes: Set(node.agentTypes.map(\.name)), capabilities: Set(node.capabilities), labels: node.labels,
                capacity: node.resources.capacity, maxAgents: node.maxAgents, shared: node.isShared
            )
            if old == nil { sortedNodeIDs = nodes.keys.sorted() }
            placementEpoch &+= 1
        }
    }

    mutating func removeNode(id: String) {
        guard nodes.removeValue(forKey: id) != nil else { return }
        candidateBase[id] = nil
        sortedNodeIDs = nodes.keys.sorted()
        changedNodes.insert(id)
        placementEpoch &+= 1
    }

    private mutating func index(_ agent: AgentRecord) {
        let key = AgentOrderKey(agent)
        order.insert(key)
        tenantOrder[agent.tenant, default: SortedAgentKeys()].insert(key)
        if let nodeID = agent.nodeID { byNode[nodeID, default: []].insert(agent.id) }
        guard agent.desiredState == .running else { return }
        if agent.nodeID == nil || agent.status == .failed { waiting.insert(agent.id) }
        var totals = tenantTotals[agent.tenant] ?? TenantTotals()
        totals.byStatus[agent.status, default: 0] += 1
        if agent.nodeID != nil { totals.allocated = totals.allocated + agent.resources }
        tenantTotals[agent.tenant] = totals
        addUsage(agent)
    }

    /// Counts an agent against the room of its node (a placed agent, or a reservation).
    mutating func addUsage(_ agent: AgentRecord) {
        guard agent.desiredState == .running, let nodeID = agent.nodeID else { return }
        // In place: a copy of the usage would copy its label list (one entry per agent on the node).
        let allocated = (usage[nodeID]?.allocated ?? .zero) + agent.resources
        usage[nodeID, default: NodeUsage()].allocated = allocated
        usage[nodeID, default: NodeUsage()].count += 1
        usage[nodeID, default: NodeUsage()].labels.append(agent.labels)
    }

    /// Gives back the room `addUsage` counted.
    mutating func removeUsage(_ agent: AgentRecord) {
        guard agent.desiredState == .running, let nodeID = agent.nodeID, let count = usage[nodeID]?.count else { return }
        guard count > 1 else {
            usage[nodeID] = nil
            return
        }
        // In place, holding no copy of the usage while changing it (that would copy its label list).
        let allocated = (usage[nodeID]?.allocated ?? .zero) - agent.resources
        usage[nodeID]?.allocated = allocated
        usage[nodeID]?.count -= 1
        if let position = usage[nodeID]?.labels.lastIndex(of: agent.labels) { usage[nodeID]?.labels.remove(at: position) }
    }

    /// Takes an agent's old record out of every index but the order (see `unorder`).
    private mutating func unindex(_ agent: AgentRecord) {
        if let nodeID = agent.nodeID {
            byNode[nodeID]?.remove(agent.id)
            if byNode[nodeID]?.isEmpty == true { byNode[nodeID] = nil }
        }
        waiting.remove(agent.id)
        guard agent.desiredState == .running else { return }
        if var totals = tenantTotals[agent.tenant] {
            totals.byStatus[agent.status, default: 0] -= 1
            if agent.nodeID != nil { totals.allocated = totals.allocated - agent.resources }
            tenantTotals[agent.tenant] = totals
        }
        removeUsage(agent)
    }

    /// Whether two records of a node are the same for placement and reconciliation.
    static func samePlacement(_ lhs: NodeRecord, _ rhs: NodeRecord) -> Bool {
        lhs.status == rhs.status && lhs.tenant == rhs.tenant && lhs.shared == rhs.shared && lhs.connection == rhs.connection
            && lhs.maxAgents == rhs.maxAgents && lhs.resources.capacity == rhs.resources.capacity && lhs.labels == rhs.labels
            && lhs.capabilities == rhs.capabilities && lhs.agentTypes == rhs.agentTypes && lhs.incarnation == rhs.incarnation
    }
}
