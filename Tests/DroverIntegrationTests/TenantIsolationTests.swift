import DroverClient
import DroverCore
import DroverTestSupport
import Foundation
import Testing

/// Two tenants on one real manager: each tenant's token sees and touches only its own nodes,
/// agents and tasks; the other tenant's ids answer exactly like unknown ids; admin calls are 403.
@Suite("Tenant isolation", .serialized, .timeLimit(.minutes(3)))
struct TenantIsolationTests {
    /// Status and body of a call, with `id` replaced so a foreign id and an unknown id can be compared.
    static func answer(_ client: DroverClient, _ method: String, _ path: String, id: String, body: String? = nil) async throws -> (Int, String) {
        let response = try await client.raw(method: method, path: path, body: body.map { Data($0.utf8) })
        return (response.status, String(decoding: response.body, as: UTF8.self).replacingOccurrences(of: id, with: "ID"))
    }

    @Test("tenant tokens: own records only, foreign ids 404 like unknown ones, admin calls 403, revocation, shared nodes, audit")
    func isolation() async throws {
        let cluster = try TestCluster()
        try await cluster.startManager()
        let admin = cluster.client
        _ = try await admin.createTenant("acme")
        _ = try await admin.createTenant("globex")
        let acmeCreated = try await admin.createAPIToken(tenant: "acme", .init(name: "ci"))
        let globexToken = try await admin.createAPIToken(tenant: "globex").token
        #expect(acmeCreated.token.hasPrefix("drt_"))

        // Listing tokens never shows a secret or its hash.
        let listing = String(decoding: try await admin.raw(method: "GET", path: "/api/v1/tenants/acme/tokens").body, as: UTF8.self)
        #expect(listing.contains(acmeCreated.info.id))
        #expect(!listing.contains(acmeCreated.token) && !listing.contains(String(acmeCreated.token.dropFirst(4))) && !listing.contains("hash"))

        try await cluster.startNode("acme-1", token: acmeCreated.token, extraArguments: ["--tenant", "acme"])
        try await cluster.startNode("globex-1", token: globexToken, extraArguments: ["--tenant", "globex"])
        try await cluster.waitForNode("acme-1", status: .active)
        try await cluster.waitForNode("globex-1", status: .active)
        let acme = cluster.client(token: acmeCreated.token)
        let globex = cluster.client(token: globexToken)

        // Deploys belong to the caller's tenant whatever the body says, and land on its own nodes.
        let acmeAgent = try await acme.deploy(DeployRequest(agentType: "echo", orchestratorID: "globex"))
        #expect(acmeAgent.tenant == "acme")
        #expect(acmeAgent.nodeID == "acme-1")
        let globexAgent = try await globex.deploy(DeployRequest(agentType: "echo"))
        #expect(globexAgent.nodeID == "globex-1")
        try await eventually("globex's agent runs") { try await admin.agent(id: globexAgent.id).status == .running }
        let globexTask = try await globex.submitTask(agentID: globexAgent.id, input: ["n": 1], timeoutSeconds: 10, wait: true)
        #expect(globexTask.status == .succeeded)

        // Lists hold only the caller's own records.
        #expect(try await acme.agents().map(\.id) == [acmeAgent.id])
        #expect(try await acme.nodes().map(\.id) == ["acme-1"])
        #expect(try await acme.tenants().map(\.name) == ["acme"])
        #expect(try await acme.clusterStatus().nodes.values.reduce(0, +) == 1)
        #expect(try await acme.distribution().nodes.map(\.nodeID) == ["acme-1"])

        // Every route on a foreign id answers exactly as on an unknown id.
        let unknown = "does-not-exist"
        let probes: [(String, String, String, String?)] = [
            ("GET", "/api/v1/cluster/agents/ID", globexAgent.id, nil),
            ("DELETE", "/api/v1/cluster/agents/ID", globexAgent.id, nil),
            ("POST", "/api/v1/cluster/agents/ID/tasks", globexAgent.id, #"{"input": {"steal": true}}"#),
            ("GET", "/api/v1/cluster/agents/ID/tasks", globexAgent.id, nil),
            ("POST", "/api/v1/cluster/agents/ID/migrate", globexAgent.id, #"{"target_container_id": "acme-1"}"#),
            ("GET", "/api/v1/cluster/containers/ID", "globex-1", nil),
            ("POST", "/api/v1/cluster/containers/ID/drain", "globex-1", nil),
            ("POST", "/api/v1/cluster/containers/ID/heartbeat", "globex-1", #"{"health_score": 0}"#),
            ("DELETE", "/api/v1/cluster/containers/ID", "globex-1", nil),
            ("GET", "/api/v1/tasks/ID", globexTask.id, nil),
            ("GET", "/api/v1/tenants/ID", "globex", nil),
            ("GET", "/api/v1/tenants/ID/tokens", "globex", nil),
            ("POST", "/api/v1/cluster/agents/\(acmeAgent.id)/migrate", "globex-1", #"{"target_container_id": "ID"}"#),
        ]
        for (method, template, foreignID, body) in probes {
            let foreign = try await Self.answer(
                acme, method, template.replacingOccurrences(of: "ID", with: foreignID), id: foreignID, body: body?.replacingOccurrences(of: "ID", with: foreignID)
            )
            let missing = try await Self.answer(
                acme, method, template.replacingOccurrences(of: "ID", with: unknown), id: unknown, body: body?.replacingOccurrences(of: "ID", with: unknown)
            )
            #expect(foreign.0 == 404, "\(method) \(template) on a foreign id answered \(foreign)")
            #expect(foreign == missing, "\(method) \(template): foreign \(foreign) vs unknown \(missing)")
        }

        // Admin-only calls are 403 for a tenant.
        for (method, path, body) in [
            ("GET", "/api/v1/audit", nil), ("GET", "/metrics", nil),
            ("POST", "/api/v1/cluster/actions", #"{"action": "rebalance"}"#), ("POST", "/api/v1/tenants", #"{"name": "mine"}"#),
            ("POST", "/api/v1/tenants/acme/tokens", "{}"), ("DELETE", "/api/v1/tenants/acme/tokens/\(acmeCreated.info.id)", nil),
            ("PATCH", "/api/v1/cluster/containers/acme-1", #"{"shared": true}"#),
        ] as [(String, String, String?)] {
            let response = try await acme.raw(method: method, path: path, body: body.map { Data($0.utf8) })
            #expect(response.status == 403, "\(method) \(path) answered \(response.status)")
            #expect(try JSONCoding.decoder().decode(APIErrorBody.self, from: response.body).error.code == "forbidden")
        }

        // A tenant cannot take over another tenant's node id, over HTTP or the gateway.
        let hijack = try await acme.raw(
            method: "POST", path: "/api/v1/cluster/containers/register", body: Data(#"{"container_name": "globex-1", "orchestrator_id": "acme"}"#.utf8)
        )
        #expect(hijack.status == 409)
        let codec = NodeMessageCodec()
        var foreignHello = Self.hello("globex-1", tenant: "acme")
        let takeover = try await GatewayGarbageTests.exchange(cluster, token: acmeCreated.token, frames: [try codec.encode(.hello(foreignHello))])
        #expect(GatewayGarbageTests.types(takeover) == ["error"])
        #expect(takeover.first?.contains("hello_refused") == true)
        foreignHello = Self.hello("acme-2", tenant: "globex")
        let wrongTenant = try await GatewayGarbageTests.exchange(cluster, token: acmeCreated.token, frames: [try codec.encode(.hello(foreignHello))])
        #expect(wrongTenant.first?.contains("hello_refused") == true && GatewayGarbageTests.types(wrongTenant) == ["error"])

        // Nothing of globex's changed.
        let after = try await admin.agent(id: globexAgent.id)
        #expect(after.desiredState == .running && after.nodeID == "globex-1" && after.generation == globexAgent.generation)
        #expect(try await admin.node(id: "globex-1").status == .active)
        #expect(try await admin.node(id: "globex-1").tenant == "globex")
        #expect(try await admin.tasks(agentID: globexAgent.id).map(\.id) == [globexTask.id])
        #expect(try await admin.tenants().map(\.name) == ["acme", "globex"])

        // A shared node takes any tenant's agents, yet stays invisible to them.
        let sharedOnce = try await admin.setNodeShared(id: "globex-1", true)
        #expect(sharedOnce.shared == true)
        let guest = try await acme.deploy(DeployRequest(agentType: "echo", preferredContainer: "globex-1"))
        #expect(guest.nodeID == "globex-1" && guest.tenant == "acme")
        #expect(try await acme.raw(method: "GET", path: "/api/v1/cluster/containers/globex-1").status == 404)
        _ = try await admin.setNodeShared(id: "globex-1", false)
        let refused = try await acme.raw(method: "POST", path: "/api/v1/cluster/agents/deploy", body: Data(#"{"agent_type": "echo", "preferred_container": "globex-1"}"#.utf8))
        #expect(refused.status == 422)
        #expect(!String(decoding: refused.body, as: UTF8.self).contains("another tenant"), "a refusal does not count other tenants' nodes")

        // Events: a tenant reads those of its own nodes and agents (asking for another tenant's
        // changes nothing); an admin reads all of them, or one tenant's.
        func events(_ client: DroverClient, _ query: String = "") async throws -> [ClusterEvent] {
            let response = try await client.raw(method: "GET", path: "/api/v1/events?limit=1000\(query)")
            #expect(response.status == 200)
            return try JSONCoding.decoder().decode(ListResponse<ClusterEvent>.self, from: response.body).items
        }
        let acmeEvents = try await events(acme)
        #expect(acmeEvents.contains { $0.nodeID == "acme-1" })
        #expect(acmeEvents.allSatisfy { $0.tenant == "acme" && $0.nodeID != "globex-1" }, "\(acmeEvents)")
        #expect(try await events(acme, "&tenant=globex") == acmeEvents)
        let everyEvent = try await events(admin)
        #expect(everyEvent.contains { $0.nodeID == "globex-1" } && everyEvent.contains { $0.nodeID == "acme-1" })
        let globexEvents = try await events(admin, "&tenant=globex")
        #expect(!globexEvents.isEmpty && globexEvents.allSatisfy { $0.tenant == "globex" })
        #expect(try await events(globex).map(\.sequence) == globexEvents.map(\.sequence))

        // A revoked token is refused at once, the node that connected with it is cut off, and the
        // listing shows when it was revoked.
        let lastEvent = try await admin.events(limit: 1_000).last?.sequence ?? 0
        try await admin.revokeAPIToken(tenant: "acme", id: acmeCreated.info.id)
        #expect(try await admin.events(after: lastEvent).contains { $0.kind == "node.disconnected" && $0.nodeID == "acme-1" })
        let revoked = try await acme.raw(method: "GET", path: "/api/v1/cluster/agents")
        #expect(revoked.status == 401)
        #expect(try JSONCoding.decoder().decode(APIErrorBody.self, from: revoked.body).error.code == "unauthorized")
        #expect(try await admin.apiTokens(tenant: "acme").first?.revokedAt != nil)
        #expect(try await admin.raw(method: "DELETE", path: "/api/v1/tenants/globex/tokens/\(acmeCreated.info.id)").status == 404)

        // No secret shows up in any process's log.
        #expect(!cluster.fullLogs.contains(String(acmeCreated.token.dropFirst(4))) && !cluster.fullLogs.contains(String(globexToken.dropFirst(4))))

        // The audit log has who did what, refusals included.
        let audit = try await admin.audit(limit: 1_000)
        #expect(audit.contains { $0.action == "POST /api/v1/tenants" && $0.status == 201 && $0.principal == .admin })
        #expect(audit.contains {
            $0.action == "DELETE /api/v1/cluster/agents/\(globexAgent.id)" && $0.status == 404 && $0.principal?.tenant == "acme" && $0.principal?.role == .tenant
        })
        #expect(audit.contains { $0.action == "PATCH /api/v1/cluster/containers/globex-1" && $0.status == 200 })
        #expect(audit.contains { $0.action == "POST /api/v1/cluster/actions" && $0.status == 403 })
        #expect(audit.contains { $0.action == "DELETE /api/v1/tenants/acme/tokens/\(acmeCreated.info.id)" && $0.status == 204 })
        #expect(!audit.contains { $0.method == "GET" }, "reads are not audited")
        #expect(zip(audit, audit.dropFirst()).allSatisfy { $0.sequence < $1.sequence })
        let page = try await admin.audit(after: audit[1].sequence, limit: 2)
        #expect(page.map(\.sequence) == audit.dropFirst(2).prefix(2).map(\.sequence))
        #expect(try await admin.raw(method: "GET", path: "/api/v1/audit?limit=0").status == 400)
    }

    static func hello(_ id: String, tenant: String) -> NodeProtocol.Hello {
        .init(
            nodeID: id, tenant: tenant, name: id, hostAddress: "127.0.0.1", apiPort: 1, capabilities: [], labels: [:],
            agentTypes: [.init(name: "echo", driver: "builtin")], resources: .init(capacity: .init(cpu: 1, memoryMB: 512)),
            maxAgents: 5, incarnation: UUID().uuidString, agents: []
        )
    }
}
