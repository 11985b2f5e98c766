import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Administration of principals, groups, roles and policies, and the first-start bootstrap.
/// Each change is an audited, administrator-only action.
extension Engine {

    public static let bootstrapMarker = "bootstrap.completed"
    public static let administratorName = "admin"

    /// On an empty database: creates Regent's built-in roles and the administrator `admin` with a
    /// permanent active `regent-admin` assignment at `/`. Returns false when it had been done already.
    public func bootstrap(administratorPassword: String) async throws -> Bool {
        let now = clock.now()
        try PasswordRule.check(administratorPassword, field: "REGENT_BOOTSTRAP_PASSWORD")
        let administratorPasswordHash = try await passwords.hash(administratorPassword)
        let applied = try await store.transaction { tx -> Applied? in
            guard try await tx.setting(Self.bootstrapMarker) == nil else { return nil }
            var adminRole: Role?
            for builtIn in Role.BuiltIn.allCases {
                let role = try Role(
                    id: Role.ID(UUID()), name: builtIn.rawValue, description: builtIn.summary, isBuiltIn: true,
                    createdAt: now)
                try await tx.insertRole(role)
                if builtIn == .regentAdmin { adminRole = role }
            }
            guard let adminRole else { return nil }
            var permanentAdmins = Policy()
            permanentAdmins.activeExpiration = AssignmentExpiration(allowPermanent: true, maximumDuration: nil)
            try await tx.setPolicy(permanentAdmins, role: adminRole.id, scope: .root, at: now)

            let admin = try Principal(
                id: Principal.ID(UUID()), kind: .user, name: Self.administratorName, displayName: "Administrator",
                createdAt: now)
            try await tx.insertPrincipal(admin, passwordHash: administratorPasswordHash)
            let requestId = Request.ID(UUID())
            let (assignment, effects) = Assignment.open(
                id: Assignment.ID(UUID()), kind: .active, principalId: admin.id, roleId: adminRole.id, scope: .root,
                start: now,
                end: nil, requestId: requestId, activatedFrom: nil, now: now)
            try await tx.saveRequest(
                Request(
                    id: requestId, action: .adminAssign, requesterId: admin.id, principalId: admin.id,
                    roleId: adminRole.id,
                    scope: .root, kind: .active, justification: "bootstrap", ticket: nil, requestedStart: nil,
                    duration: nil,
                    targetAssignmentId: nil, assignmentId: assignment.id, status: .provisioning, failedRules: [],
                    reason: "created at first start", approval: nil, createdAt: now, updatedAt: now))
            let context = AuditContext(
                actor: .system, subject: assignment.auditSubject, correlationId: requestId.description)
            try await self.audit(
                AuditNote(.regentBootstrapped, details: ["administrator": admin.name]), in: tx, context: context,
                now: now)
            let applied = try await self.apply(effects, in: tx, context: context, now: now)
            try await tx.setSetting(Self.bootstrapMarker, now.rfc3339)
            return applied
        }
        guard let applied else { return false }
        afterCommit(applied)
        return true
    }
}

extension DirectoryService {
    /// Creates a principal; a user may get a password, held to ``PasswordRule`` and stored as its hash.
    public func createPrincipal(
        kind: Principal.Kind, name: String, displayName: String?, email: String?, password: String?,
        by actor: ActorContext
    ) async throws -> Principal {
        let now = engine.clock.now()
        return try await engine.audited(
            actor: actor, subject: AuditSubject(), action: .principalCreateRefused, now: now
        ) {
            let principal = try Principal(
                id: Principal.ID(UUID()), kind: kind, name: name, displayName: displayName, email: email, createdAt: now
            )
            if password != nil && kind != .user { throw RegentError.invalid("password", "only users have passwords") }
            var passwordHash: String?
            if let password {
                try PasswordRule.check(password)
                passwordHash = try await engine.passwords.hash(password)
            }
            let hash = passwordHash
            try await engine.store.transaction { tx in
                try await createPrincipal(principal, passwordHash: hash, by: actor, in: tx, now: now)
            }
            return principal
        }
    }

    /// Stores a new principal, within a transaction the caller commits (an apply holds many).
    func createPrincipal(
        _ principal: Principal, passwordHash: String?, by actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws {
        try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
        guard try await tx.principal(named: principal.name) == nil else {
            throw RegentError(.conflict, "a principal named \(principal.name) exists", field: "name")
        }
        try await tx.insertPrincipal(principal, passwordHash: passwordHash)
        try await engine.audit(
            AuditNote(.principalCreated, details: ["kind": principal.kind.rawValue, "name": principal.name]), in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(principalId: principal.id), correlationId: nil),
            now: now)
    }

    /// Adds `member` to `group`, refusing a membership that would make the groups a cycle or that
    /// the actor would gain by.
    public func addMember(_ member: Principal.ID, to group: Principal.ID, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        try await engine.audited(
            actor: actor, subject: AuditSubject(principalId: group), action: .groupMemberAddRefused, now: now
        ) {
            let graph = try await engine.store.transaction { tx -> MembershipGraph in
                try await engine.requireUnmanagedGroup(group, in: tx)
                return try await addMember(member, to: group, by: actor, in: tx, now: now)
            }
            engine.index.updateGraph(graph)
        }
    }

    /// Adds the membership within a transaction the caller commits; returns the graph after it.
    func addMember(
        _ member: Principal.ID, to group: Principal.ID, by actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws -> MembershipGraph {
        try await engine.authorize(actor.principalId, .managePrincipals, in: tx, now: now)
        guard let groupPrincipal = try await tx.principal(id: group), groupPrincipal.kind == .group else {
            throw RegentError(.notFound, "no such group", field: "groupId")
        }
        guard try await tx.principal(id: member) != nil else {
            throw RegentError(.notFound, "no such principal", field: "memberId")
        }
        var graph = try await tx.membershipGraph()
        // Joining a group is taking what it holds: nobody adds themselves (or a group
        // they are in), as nobody assigns a role to themselves without a second administrator.
        guard !graph.everyMember(of: member).contains(actor.principalId) else {
            throw RegentError(
                .accessDenied, "another administrator must add you (or a group you are in) to a group",
                field: "memberId")
        }
        guard !graph.wouldCreateCycle(adding: member, to: group) else {
            throw RegentError(.conflict, "the group is already inside this member", field: "memberId")
        }
        guard graph.members[group]?.contains(member) != true else { return graph }
        try await tx.addMember(member, to: group)
        graph.insert(member: member, into: group)
        try await engine.audit(
            AuditNote(.groupMemberAdded, details: ["memberId": member.description]), in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(principalId: group), correlationId: nil),
            now: now)
        return graph
    }

    public func createRole(
        name: String, description: String, entitlements: [Entitlement], by actor: ActorContext
    ) async throws -> Role {
        let now = engine.clock.now()
        return try await engine.audited(actor: actor, subject: AuditSubject(), action: .roleCreateRefused, now: now) {
            let role = try Role(
                id: Role.ID(UUID()), name: name, description: description, entitlements: entitlements, createdAt: now)
            try await engine.store.transaction { tx in try await createRole(role, by: actor, in: tx, now: now) }
            return role
        }
    }

    /// Stores a new role within a transaction the caller commits.
    func createRole(_ role: Role, by actor: ActorContext, in tx: StoreTransaction, now: Date) async throws {
        try await engine.authorize(actor.principalId, .manageRoles, in: tx, now: now)
        guard try await tx.role(named: role.name) == nil else {
            throw RegentError(.conflict, "a role named \(role.name) exists", field: "name")
        }
        try await engine.requireValidEntitlements(role.entitlements, in: tx)
        try await tx.insertRole(role)
        try await engine.audit(
            AuditNote(.roleCreated, details: ["name": role.name]), in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(roleId: role.id), correlationId: nil), now: now)
    }

    /// Sets the role's own policy at a scope (validated first); returns the effective policy there.
    public func setPolicy(_ policy: Policy, role roleId: Role.ID, scope: Scope, by actor: ActorContext) async throws
        -> EffectivePolicy
    {
        let now = engine.clock.now()
        let subject = AuditSubject(roleId: roleId, scope: scope)
        return try await engine.audited(actor: actor, subject: subject, action: .policyUpdateRefused, now: now) {
            return try await engine.store.transaction { tx in
                if let role = try await tx.role(id: roleId) {
                    try await engine.requireUnmanaged(ManifestObject.Key(.policy, "\(role.name) \(scope)"), in: tx)
                }
                return try await setPolicy(policy, role: roleId, scope: scope, by: actor, in: tx, now: now)
            }
        }
    }

    /// Removes the role's own policy at `scope` within a transaction the caller commits (a pruning
    /// apply): the scope inherits its parent's rules again.
    func removePolicy(
        role roleId: Role.ID, scope: Scope, by actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws {
        try await engine.authorize(actor.principalId, .manageRoles, in: tx, now: now)
        guard try await tx.policies(role: roleId).contains(where: { $0.scope == scope }) else { return }
        try await tx.removePolicy(role: roleId, scope: scope)
        try await engine.audit(
            AuditNote(.policyRemoved), in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(roleId: roleId, scope: scope), correlationId: nil),
            now: now)
    }

    /// Sets the policy within a transaction the caller commits; returns the effective one there.
    func setPolicy(
        _ policy: Policy, role roleId: Role.ID, scope: Scope, by actor: ActorContext, in tx: StoreTransaction,
        now: Date
    ) async throws -> EffectivePolicy {
        try policy.validate()
        try await engine.authorize(actor.principalId, .manageRoles, in: tx, now: now)
        guard try await tx.role(id: roleId) != nil else {
            throw RegentError(.notFound, "no such role", field: "roleId")
        }
        try await tx.setPolicy(policy, role: roleId, scope: scope, at: now)
        try await engine.audit(
            AuditNote(.policyUpdated, details: ["rules": policy.setRules.map(\.rawValue).joined(separator: ",")]),
            in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(roleId: roleId, scope: scope), correlationId: nil),
            now: now)
        return EffectivePolicy.resolve(try await tx.policies(role: roleId), at: scope)
    }
}
