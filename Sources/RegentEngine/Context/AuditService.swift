/// The audit log as its readers see it: search, verification of the chain and its signed
/// checkpoints, exports and reports, and the checkpoints themselves.
public struct AuditService: Sendable {
    let engine: Engine
}

extension Engine {
    public var auditLog: AuditService { AuditService(engine: self) }
}
