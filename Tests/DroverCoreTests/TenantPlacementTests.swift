import Foundation
import Testing
@testable import DroverCore

@Suite("Tenant placement and visibility")
struct TenantPlacementTests {
    static func candidate(_ id: String, tenant: String, shared: Bool = false) -> PlacementCandidate {
        PlacementCandidate(
            nodeID: id, tenant: tenant, status: .active, connected: true, agentTypes: ["echo"], capabilities: [], labels: [:],
            capacity: ResourceSpec(cpu: 4, memoryMB: 4096), maxAgents: 10, shared: shared
        )
    }

    @Test("an agent goes only to its own tenant's nodes, or to shared ones")
    func sharedNodes() {
        var scheduler = Scheduler()
        let request = PlacementRequest(agentType: "echo", tenant: "acme")
        let foreign = [Self.candidate("n1", tenant: "other")]
        guard case .unplaceable(let failure) = scheduler.place(request, on: foreign) else {
            Issue.record("placed on another tenant's node")
            return
        }
        #expect(failure.rejections[.otherTenant] == 1)
        #expect(scheduler.place(request, on: [Self.candidate("n1", tenant: "other", shared: true)]) == .placed(nodeID: "n1"))
        var index = PlacementIndex(candidates: foreign + [Self.candidate("n2", tenant: "other", shared: true)])
        #expect(index.place(request) == .placed(nodeID: "n2"))
    }

    @Test("a tenant principal sees only its own records; an admin sees all")
    func visibility() {
        let acme = Principal(role: .tenant, tenant: "acme", subject: "t")
        let task = TaskRecord(id: "t1", agentID: "a1", tenant: "other", input: .object([:]), timeoutSeconds: 1, createdAt: Date(), deadline: Date())
        #expect(acme.visible(task) == nil)
        #expect(Principal.admin.visible(task) == task)
        #expect(acme.canAccess(tenant: "acme"))
        #expect(!acme.canAccess(tenant: "other"))
        #expect(!Principal(role: .tenant, tenant: nil, subject: "x").canAccess(tenant: "default"))
    }
}
