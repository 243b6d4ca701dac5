import Foundation

/// How the scheduler picks among nodes that can take an agent.
public enum PlacementStrategy: String, Codable, Sendable, CaseIterable {
    /// Take feasible nodes in turn.
    case roundRobin = "round_robin"
    /// The node with the fewest agents (then the lowest CPU use).
    case leastLoaded = "least_loaded"
    /// The node offering the most of the capabilities the agent asked for, then least loaded.
    case capabilityMatch = "capability_match"
    /// Best fit: the node left with the least free room, so big agents still find space later.
    case resourceOptimal = "resource_optimal"
    /// Co-locate with agents carrying the same labels, then least loaded.
    case affinityBased = "affinity_based"
    /// Keep apart from agents carrying the same labels, then least loaded.
    case antiAffinity = "anti_affinity"
    /// Spread agents with the same labels evenly over the values of a node label (`spread_by`, e.g. `zone`).
    case spread
}
