import Foundation
public import RegentAudit
public import RegentCore
import RegentStore

/// Reading the audit log: auditors, security readers and administrators.
extension AuditService {
    public func searchAudit(_ filter: AuditFilter, by actor: ActorContext, before: Int64?, limit: Int) async throws
        -> [AuditEvent]
    {
        try await engine.authorize(actor, .readAudit)
        return try await engine.store.transaction { try await $0.searchAudit(filter, before: before, limit: limit) }
    }

    /// The chain's last event: what readiness reads to know the database answers.
    public func auditHead() async throws -> (seq: Int64, hash: String) {
        try await engine.store.transaction { try await $0.auditHead() }
    }

    /// Verifies the whole chain and its signed checkpoints against this server's signing key.
    public func verifyAudit(by actor: ActorContext) async throws -> ChainVerifier.Report {
        try await engine.authorize(actor, .readAudit)
        return try await engine.store.verifyAuditChain(trustedKey: engine.signer?.publicKeyBase64)
    }
}
