import DroverCore
import Synchronization

/// A `PlacementIndex` kept from one deploy to the next, so that a deploy on a fleet of a
/// thousand nodes costs a few heap operations instead of a look at every node.
///
/// Used only under the plan lock. It is exact while the model's `placementEpoch` and the set of
/// connected nodes are those it was built at: placements it makes are counted in it and
/// reserved in the model with `countedByIndex` (which leaves the epoch alone); anything else
/// that changes the candidates (a node's status, an undeploy, a move, a reconciler placement)
/// bumps the epoch, and the next placement builds the index again from the model.
final class KeptPlacementIndex: Sendable {
    private struct Kept {
        var index: PlacementIndex
        var epoch: UInt64
        var connectedVersion: UInt64
    }

    private let kept = Mutex<Kept?>(nil)
    private let cpuOvercommit: Double

    init(cpuOvercommit: Double) {
        self.cpuOvercommit = cpuOvercommit
    }

    /// Where `request` goes, or `nil` when no node takes it (the caller explains why, with the
    /// candidates of the agent's tenant only). A placement is counted in the index; the caller
    /// reserves it in the model with `countedByIndex: true` before the plan lock is let go.
    func place(_ request: PlacementRequest, model: ClusterModel, connected: (nodes: Set<String>, version: UInt64)) -> String? {
        // The epoch is read before the candidates: a change in between makes the next call rebuild, never miss it.
        let epoch = model.placementEpoch
        return kept.withLock { kept in
            if kept == nil || kept?.epoch != epoch || kept?.connectedVersion != connected.version {
                kept = Kept(
                    index: PlacementIndex(candidates: model.candidates(connected: connected.nodes), cpuOvercommit: cpuOvercommit),
                    epoch: epoch, connectedVersion: connected.version
                )
            }
            guard case .placed(let nodeID) = kept!.index.place(request) else {
                kept = nil
                return nil
            }
            return nodeID
        }
    }
}
