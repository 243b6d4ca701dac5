/// The nodes that report one agent: nearly always one, so one is held without a set (a set of
/// one node id is a heap object of about 100 bytes, times every agent of the fleet).
struct ReportingNodes: Sequence {
    private enum Nodes {
        case one(String)
        case many(Set<String>)
    }

    private var nodes: Nodes

    init(_ nodeID: String) {
        nodes = .one(nodeID)
    }

    /// Adds `nodeID` (no change if it is there).
    mutating func insert(_ nodeID: String) {
        switch nodes {
        case .one(let only) where only == nodeID: return
        case .one(let only): nodes = .many([only, nodeID])
        case .many(var set):
            nodes = .one(nodeID)  // Lets go of the set, so the insert below does not copy it.
            set.insert(nodeID)
            nodes = .many(set)
        }
    }

    /// Takes `nodeID` out; `false` when no node is left.
    mutating func remove(_ nodeID: String) -> Bool {
        switch nodes {
        case .one(let only): return only != nodeID
        case .many(var set):
            nodes = .one(nodeID)
            set.remove(nodeID)
            if set.count == 1, let only = set.first {
                nodes = .one(only)
            } else {
                nodes = .many(set)
            }
            return !set.isEmpty
        }
    }

    func makeIterator() -> AnyIterator<String> {
        switch nodes {
        case .one(let only): AnyIterator(CollectionOfOne(only).makeIterator())
        case .many(let set): AnyIterator(set.makeIterator())
        }
    }
}

extension Dictionary where Value == ReportingNodes {
    /// Records that `nodeID` reports the agent `agentID`.
    mutating func add(_ nodeID: String, reporting agentID: Key) {
        if self[agentID] == nil {
            self[agentID] = ReportingNodes(nodeID)
        } else {
            self[agentID]!.insert(nodeID)
        }
    }

    /// Records that `nodeID` no longer reports `agentID`, forgetting the agent when no node does.
    mutating func drop(_ nodeID: String, reporting agentID: Key) {
        guard self[agentID] != nil else { return }
        if !self[agentID]!.remove(nodeID) { self[agentID] = nil }
    }
}
