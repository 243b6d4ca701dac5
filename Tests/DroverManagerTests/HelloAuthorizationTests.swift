import DroverCore
import Foundation
import Testing
@testable import DroverManager

@Suite("Hello authorization")
struct HelloAuthorizationTests {
    static func hello(_ id: String, tenant: String) -> NodeProtocol.Hello {
        .init(
            nodeID: id, tenant: tenant, name: id, hostAddress: "127.0.0.1", apiPort: 1, capabilities: [], labels: [:],
            agentTypes: [], resources: .init(capacity: .zero), maxAgents: 1, incarnation: "i", agents: []
        )
    }

    static func node(_ id: String, tenant: String) -> NodeRecord {
        NodeRecord(
            id: id, tenant: tenant, name: id, hostAddress: "", apiPort: 0, resources: .init(capacity: .zero), maxAgents: 1,
            status: .active, connection: .websocket, registeredAt: Date(), lastHeartbeat: Date(), incarnation: "i"
        )
    }

    @Test("an admin registers anything; a tenant only its own tenant's nodes and never over another tenant's id")
    func tenantRules() throws {
        try ClusterController.authorize(Self.hello("n1", tenant: "b"), principal: .admin, existing: Self.node("n1", tenant: "a"))
        let acme = Principal(role: .tenant, tenant: "acme", subject: "token:1")
        try ClusterController.authorize(Self.hello("n1", tenant: "acme"), principal: acme, existing: nil)
        try ClusterController.authorize(Self.hello("n1", tenant: "acme"), principal: acme, existing: Self.node("n1", tenant: "acme"))
        #expect(throws: HelloRefusal.self) { try ClusterController.authorize(Self.hello("n1", tenant: "other"), principal: acme, existing: nil) }
        #expect(throws: HelloRefusal.self) {
            try ClusterController.authorize(Self.hello("n1", tenant: "acme"), principal: acme, existing: Self.node("n1", tenant: "other"))
        }
        let node = Principal(role: .node, tenant: "acme", subject: "n1")
        try ClusterController.authorize(Self.hello("n1", tenant: "acme"), principal: node, existing: nil)
        #expect(throws: HelloRefusal.self) { try ClusterController.authorize(Self.hello("n2", tenant: "acme"), principal: node, existing: nil) }
    }
}
