import Foundation
import RegentAudit
import RegentCore
import RegentStore

/// Carrying out ``AccessWithdrawal`` inside the transaction of a directory change, so that the
/// change, the ended assignments, their revocations and the withdrawn requests commit together.
extension Engine {
    /// Ends what the principals in `affected` no longer hold under `graph` (the memberships and
    /// disabled principals after the change), and withdraws their pending requests. Each ending is
    /// audited about its assignment, under the request that created it.
    func withdrawAccess(
        of affected: Set<Principal.ID>, graph: MembershipGraph, deleted: Set<Principal.ID> = [], because reason: String,
        actor: AuditActor, in tx: StoreTransaction, now: Date
    ) async throws -> Applied {
        let decision = AccessWithdrawal.decide(
            live: try await tx.liveAssignments(of: affected),
            pending: try await tx.pendingRequests(involving: affected), graph: graph, deleted: deleted,
            eligibility: configuration.disabledEligibility)
        var applied = Applied()
        for ending in decision.endings {
            var assignment = ending.assignment
            let effects = try assignment.finish(ending.reason, now: now)
            applied.merge(
                try await apply(
                    effects, in: tx,
                    context: AuditContext(
                        actor: actor, subject: assignment.auditSubject,
                        correlationId: assignment.requestId?.description),
                    now: now))
        }
        for var request in decision.withdrawn {
            let effects = request.withdraw(reason: reason, now: now)
            try await tx.saveRequest(request)
            applied.merge(
                try await apply(
                    effects, in: tx,
                    context: AuditContext(
                        actor: actor, subject: request.auditSubject, correlationId: request.id.description),
                    now: now))
        }
        return applied
    }

    /// What disabling a principal did in its transaction, to act on after commit.
    struct Disabling: Sendable {
        var sessions: [String] = []
        var applied = Applied()
        /// The memberships after the change, when it changed them.
        var graph: MembershipGraph?
    }

    /// The rest of disabling a principal whose row was just written as disabled: its sessions and
    /// API tokens end, the change is audited (`note`, with the count of sessions ended), and its
    /// access is withdrawn (``AccessWithdrawal``) from it and from `affected` (by default, whoever
    /// held anything through it).
    func disabled(
        _ principal: Principal, note: AuditNote, deleted: Bool = false, because reason: String, actor: AuditActor,
        affected: Set<Principal.ID>? = nil, in tx: StoreTransaction, now: Date
    ) async throws -> Disabling {
        let sessions = try await tx.revokeSessions(of: principal.id, at: now)
        var note = note
        if !sessions.isEmpty { note.details["sessionsRevoked"] = String(sessions.count) }
        try await audit(
            note, in: tx,
            context: AuditContext(actor: actor, subject: AuditSubject(principalId: principal.id), correlationId: nil),
            now: now)
        let graph = try await tx.membershipGraph()
        let applied = try await withdrawAccess(
            of: affected ?? AccessWithdrawal.affected(by: principal.id, in: graph), graph: graph,
            deleted: deleted ? [principal.id] : [], because: reason, actor: actor, in: tx, now: now)
        return Disabling(sessions: sessions, applied: applied, graph: graph)
    }

    /// After the commit of a change of who is enabled: cached sessions go, the check index learns
    /// who is enabled and which assignments ended, and the revocations run.
    func afterEnabledChange(of id: Principal.ID, enabled: Bool, _ disabling: Disabling) {
        for tokenHash in disabling.sessions { sessionCache.invalidate(tokenHash) }
        if let graph = disabling.graph { index.updateGraph(graph) }
        index.setEnabled(id, enabled)
        afterCommit(disabling.applied)
    }
}
