import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Changes to existing principals, groups and roles. Like their creation, each is an audited,
/// permission-checked action; none may leave Regent without an enabled `regent-admin`.
extension Engine {
    /// The changeable fields of a principal; nil leaves a field as it is.
    public struct PrincipalChange: Sendable {
        public var displayName: String?
        public var email: String?
        public var isEnabled: Bool?

        public init(displayName: String? = nil, email: String? = nil, isEnabled: Bool? = nil) {
            self.displayName = displayName
            self.email = email
            self.isEnabled = isEnabled
        }
    }

    func requireValidEntitlements(_ entitlements: [Entitlement], in tx: StoreTransaction) async throws {
        guard Set(entitlements).count == entitlements.count else {
            throw RegentError.invalid("entitlements", "an entitlement is listed twice")
        }
        for entitlement in entitlements where try await tx.target(id: entitlement.targetId) == nil {
            throw RegentError(.notFound, "no target \(entitlement.targetId)", field: "entitlements.targetId")
        }
    }
}

extension DirectoryService {
    /// Disabling a principal ends its sessions and API tokens at once, makes every check about it
    /// (or through it, for a group) answer "no", and withdraws what it held (``AccessWithdrawal``):
    /// its activations and active assignments end and are revoked on the targets, and its pending
    /// requests are withdrawn. Its eligible assignments stay unless configured otherwise, so
    /// enabling it again restores eligibility, never an activation.
    public func updatePrincipal(_ id: Principal.ID, _ change: Engine.PrincipalChange, by actor: ActorContext)
        async throws
        -> Principal
    {
        let now = engine.clock.now()
        let subject = AuditSubject(principalId: id)
        return try await engine.audited(actor: actor, subject: subject, action: .principalUpdateRefused, now: now) {
            let (updated, disabling) = try await engine.store.transaction { tx -> (Principal, Engine.Disabling) in
                try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
                guard let existing = try await tx.principal(id: id) else {
                    throw RegentError(.notFound, "no such principal", field: "principalId")
                }
                if existing.kind == .group && change.displayName != nil {
                    try await engine.requireUnmanaged(ManifestObject.Key(.group, existing.name), in: tx)
                }
                let updated = try Principal(
                    id: id, kind: existing.kind, name: existing.name,
                    displayName: change.displayName ?? existing.displayName, email: change.email ?? existing.email,
                    isEnabled: change.isEnabled ?? existing.isEnabled, createdAt: existing.createdAt)
                let disabling = existing.isEnabled && !updated.isEnabled
                if disabling {
                    try await engine.requireAdministratorCoverage(
                        in: tx, now: now, after: { $0.setEnabled(id, false) })
                }
                try await tx.updatePrincipal(updated)
                var details = ["enabled": String(updated.isEnabled)]
                if change.displayName != nil { details["displayName"] = updated.displayName }
                if change.email != nil { details["email"] = updated.email ?? "" }
                guard disabling else {
                    try await engine.audit(
                        AuditNote(.principalUpdated, details: details), in: tx,
                        context: Engine.AuditContext(actor: actor.auditActor, subject: subject, correlationId: nil),
                        now: now)
                    return (updated, Engine.Disabling())
                }
                return (
                    updated,
                    try await engine.disabled(
                        updated, note: AuditNote(.principalDisabled, details: details),
                        because: "\(existing.name) was disabled", actor: actor.auditActor, in: tx, now: now)
                )
            }
            engine.afterEnabledChange(of: id, enabled: updated.isEnabled, disabling)
            return updated
        }
    }

    /// Removes `member` from `group`; the member loses what it held through the group at once.
    public func removeMember(_ member: Principal.ID, from group: Principal.ID, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        try await engine.audited(
            actor: actor, subject: AuditSubject(principalId: group), action: .groupMemberRemoveRefused, now: now
        ) {
            let (graph, applied) = try await engine.store.transaction { tx -> (MembershipGraph, Engine.Applied) in
                try await engine.requireUnmanagedGroup(group, in: tx)
                return try await removeMember(member, from: group, by: actor, in: tx, now: now)
            }
            engine.index.updateGraph(graph)
            engine.afterCommit(applied)
        }
    }

    /// Ends the membership within a transaction the caller commits, withdrawing what it gave.
    func removeMember(
        _ member: Principal.ID, from group: Principal.ID, by actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws -> (MembershipGraph, Engine.Applied) {
        try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
        var graph = try await tx.membershipGraph()
        guard graph.members[group]?.contains(member) == true else {
            throw RegentError(
                .notFound, "the principal is not a direct member of this group", field: "memberId")
        }
        try await engine.requireAdministratorCoverage(
            in: tx, now: now, after: { $0.remove(member: member, from: group) })
        try await tx.removeMember(member, from: group)
        graph.remove(member: member, from: group)
        try await engine.audit(
            AuditNote(.groupMemberRemoved, details: ["memberId": member.description]), in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(principalId: group), correlationId: nil),
            now: now)
        let applied = try await engine.withdrawAccess(
            of: AccessWithdrawal.affected(by: member, in: graph), graph: graph,
            because: "removed from a group", actor: actor.auditActor, in: tx, now: now)
        return (graph, applied)
    }

    /// Changes a role's description and entitlements. Built-in roles grant nothing on targets and
    /// keep their description.
    public func updateRole(
        _ id: Role.ID, description: String?, entitlements: [Entitlement]?, by actor: ActorContext
    ) async throws -> Role {
        let now = engine.clock.now()
        let subject = AuditSubject(roleId: id)
        return try await engine.audited(actor: actor, subject: subject, action: .roleUpdateRefused, now: now) {
            try await engine.store.transaction { tx in
                if let role = try await tx.role(id: id) {
                    try await engine.requireUnmanaged(ManifestObject.Key(.role, role.name), in: tx)
                }
                return try await updateRole(
                    id, description: description, entitlements: entitlements, by: actor, in: tx, now: now)
            }
        }
    }

    /// Changes the role within a transaction the caller commits.
    func updateRole(
        _ id: Role.ID, description: String?, entitlements: [Entitlement]?, by actor: ActorContext,
        in tx: StoreTransaction, now: Date
    ) async throws -> Role {
        let subject = AuditSubject(roleId: id)
        try await engine.authorize(actor.principalId, .manageRoles, in: tx, now: now)
        guard let existing = try await tx.role(id: id) else {
            throw RegentError(.notFound, "no such role", field: "roleId")
        }
        guard !existing.isBuiltIn else {
            throw RegentError(.conflict, "Regent's built-in roles cannot be changed", field: "roleId")
        }
        let role = try Role(
            id: id, name: existing.name, description: description ?? existing.description,
            entitlements: entitlements ?? existing.entitlements, createdAt: existing.createdAt)
        try await engine.requireValidEntitlements(role.entitlements, in: tx)
        try await tx.updateRole(role)
        try await engine.audit(
            AuditNote(
                .roleUpdated,
                details: [
                    "entitlements": role.entitlements.map { "\($0.targetId):\($0.value)" }.joined(
                        separator: ",")
                ]),
            in: tx, context: Engine.AuditContext(actor: actor.auditActor, subject: subject, correlationId: nil),
            now: now)
        return role
    }

    /// Forgets another user's TOTP enrollment after a lost device and ends their sessions, so the
    /// next sign-in enrolls afresh. Nobody resets their own: a stolen session must not be able to
    /// remove the second factor.
    public func resetTOTP(of id: Principal.ID, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        let subject = AuditSubject(principalId: id)
        try await engine.audited(actor: actor, subject: subject, action: .mfaTotpResetRefused, now: now) {
            guard id != actor.principalId else {
                throw RegentError(.accessDenied, "another administrator must reset your MFA", field: "principalId")
            }
            let revoked = try await engine.store.transaction { tx -> [String] in
                try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
                guard try await tx.principal(id: id) != nil else {
                    throw RegentError(.notFound, "no such principal", field: "principalId")
                }
                guard try await tx.deleteTOTPEnrollment(of: id) else {
                    throw RegentError(.notFound, "the principal has no TOTP enrollment", field: "principalId")
                }
                let revoked = try await tx.revokeSessions(of: id, at: now)
                try await engine.audit(
                    AuditNote(.mfaTotpReset, details: ["sessionsRevoked": String(revoked.count)]), in: tx,
                    context: Engine.AuditContext(actor: actor.auditActor, subject: subject, correlationId: nil),
                    now: now)
                return revoked
            }
            for tokenHash in revoked { engine.sessionCache.invalidate(tokenHash) }
        }
    }
}
