import Foundation

/// An amount of CPU, memory and GPU: what a node has, or what an agent asks for.
public struct ResourceSpec: Codable, Sendable, Hashable {
    /// CPU cores (fractions allowed: 0.5 is half a core).
    public var cpu: Double
    /// Memory in MiB.
    public var memoryMB: Double
    /// Whole GPUs.
    public var gpu: Int

    public init(cpu: Double = 0, memoryMB: Double = 0, gpu: Int = 0) {
        self.cpu = cpu
        self.memoryMB = memoryMB
        self.gpu = gpu
    }

    public static let zero = ResourceSpec()

    enum CodingKeys: String, CodingKey {
        case cpu
        case memoryMB = "memory_mb"
        case gpu
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cpu = try container.decodeIfPresent(Double.self, forKey: .cpu) ?? 0
        memoryMB = try container.decodeIfPresent(Double.self, forKey: .memoryMB) ?? 0
        gpu = try container.decodeIfPresent(Int.self, forKey: .gpu) ?? 0
    }

    public static func + (lhs: ResourceSpec, rhs: ResourceSpec) -> ResourceSpec {
        ResourceSpec(cpu: lhs.cpu + rhs.cpu, memoryMB: lhs.memoryMB + rhs.memoryMB, gpu: lhs.gpu + rhs.gpu)
    }

    public static func - (lhs: ResourceSpec, rhs: ResourceSpec) -> ResourceSpec {
        ResourceSpec(cpu: lhs.cpu - rhs.cpu, memoryMB: lhs.memoryMB - rhs.memoryMB, gpu: lhs.gpu - rhs.gpu)
    }

    /// Whether `request` fits inside `self` on every dimension.
    public func fits(_ request: ResourceSpec) -> Bool {
        request.cpu <= cpu + 1e-9 && request.memoryMB <= memoryMB + 1e-9 && request.gpu <= gpu
    }
}

/// What a node reports about its machine: capacity, and current use read from the OS.
public struct NodeResources: Codable, Sendable, Hashable {
    /// Total capacity offered to agents.
    public var capacity: ResourceSpec
    /// One-minute load average, when the OS reports it.
    public var load1: Double?
    /// Memory the OS reports free, in MiB.
    public var memoryAvailableMB: Double?

    public init(capacity: ResourceSpec, load1: Double? = nil, memoryAvailableMB: Double? = nil) {
        self.capacity = capacity
        self.load1 = load1
        self.memoryAvailableMB = memoryAvailableMB
    }

    enum CodingKeys: String, CodingKey {
        case capacity
        case load1 = "load_1m"
        case memoryAvailableMB = "memory_available_mb"
    }
}

extension ResourceSpec {
    /// The largest amount of any one resource Drover accepts (cores, MiB, GPUs), from a node or
    /// a deploy: sums over many nodes and agents stay finite and inside `Int`, so they always
    /// encode as JSON and never overflow.
    public static let maxAmount: Double = 1_000_000_000

    /// Whether every amount is finite and within `0...maxAmount`.
    public var isWithinLimits: Bool {
        [cpu, memoryMB, Double(gpu)].allSatisfy { $0.isFinite && $0 >= 0 && $0 <= Self.maxAmount }
    }
}

extension NodeResources {
    /// Whether the capacity is within limits and the load figures are finite and not negative.
    public var isWithinLimits: Bool {
        capacity.isWithinLimits && [load1, memoryAvailableMB].allSatisfy { $0.map { $0.isFinite && $0 >= 0 && $0 <= ResourceSpec.maxAmount } ?? true }
    }
}
