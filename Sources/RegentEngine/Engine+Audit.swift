import Foundation
public import RegentAudit
import RegentCore
public import RegentStore

/// Reading the audit log: auditors, security readers and administrators.
extension Engine {
    public func searchAudit(_ filter: AuditFilter, by actor: ActorContext, before: Int64?, limit: Int) async throws
        -> [AuditEvent]
    {
        try await requireAuditReader(actor)
        return try await store.transaction { try await $0.searchAudit(filter, before: before, limit: limit) }
    }

    /// Verifies the whole chain and its signed checkpoints against this server's signing key.
    public func verifyAudit(by actor: ActorContext) async throws -> ChainVerifier.Report {
        try await requireAuditReader(actor)
        return try await store.verifyAuditChain(trustedKey: signer?.publicKeyBase64)
    }

    private func requireAuditReader(_ actor: ActorContext) async throws {
        if try await mayReadAll(actor) { return }
        let now = clock.now()
        let isAuditor = try await store.transaction { tx -> Bool in
            guard let auditor = try await tx.role(named: Role.BuiltIn.auditor.rawValue) else { return false }
            let identities = try await tx.membershipGraph().identities(of: actor.principalId)
            return try await tx.assignments(
                AssignmentFilter(principalIds: identities, roleId: auditor.id, kind: .active, states: [.active])
            )
            .contains { $0.isInForce(at: now) }
        }
        guard isAuditor else {
            throw RegentError(
                .accessDenied, "only auditors, security readers and administrators read the audit log", field: "actor")
        }
    }
}
