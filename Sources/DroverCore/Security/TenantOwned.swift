import Foundation

/// A record that belongs to one tenant.
public protocol TenantOwned {
    var tenant: String { get }
}

extension NodeRecord: TenantOwned {}
extension AgentRecord: TenantOwned {}
extension TaskRecord: TenantOwned {}
extension WorkflowRecord: TenantOwned {}
extension WorkflowRunRecord: TenantOwned {}

extension Principal {
    /// `record` when this caller may see it; `nil` when it is missing or another tenant's, so
    /// that a foreign id and an unknown id answer exactly alike.
    public func visible<Record: TenantOwned>(_ record: Record?) -> Record? {
        guard let record, canAccess(tenant: record.tenant) else { return nil }
        return record
    }

    /// Whether agents of this caller's tenant may be placed on `node` (its own, or shared).
    public func canPlace(on node: NodeRecord) -> Bool {
        canAccess(tenant: node.tenant) || node.isShared
    }
}
