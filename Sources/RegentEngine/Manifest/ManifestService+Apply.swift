public import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// One step of an apply, in domain terms, naming objects by name as the manifest does. The server
/// turns a plan's changes into these; the engine carries them out through the same use cases
/// (and checks, and audit events) as the API.
public enum ManifestOperation: Sendable {
    /// Secrets are values here, resolved by the CLI from the manifest's references.
    case createTarget(
        kind: Target.Kind, name: String, scope: Scope, config: [String: String], secrets: [String: String])
    /// `secrets` nil keeps the target's secrets.
    case updateTarget(name: String, scope: Scope, config: [String: String], secrets: [String: String]?)
    /// A user (without a password: they sign in through the provider) or a service.
    case createPrincipal(kind: Principal.Kind, name: String, displayName: String?, email: String?)
    /// The id is chosen by the caller, so a policy in the same apply can name the group as approver.
    case createGroup(id: Principal.ID, name: String, displayName: String?, members: [String])
    case setGroupMembers(group: String, members: [String])
    case createRole(name: String, description: String, entitlements: [(target: String, value: String)])
    case updateRole(name: String, description: String, entitlements: [(target: String, value: String)])
    /// The policy's approvers are ids: those of live principals, or of groups this apply creates.
    case setPolicy(role: String, scope: Scope, policy: Policy)
    /// The scope inherits its parent's rules again.
    case removePolicy(role: String, scope: Scope)
    /// A review, built once the names it uses are ids (its roles may be made by this apply).
    case createReview(
        @Sendable (
            _ principal: @Sendable (String) async throws -> Principal.ID,
            _ role: @Sendable (String) async throws -> Role.ID
        ) async throws -> ReviewDefinition)
    case setAlertRule(AlertRule, AlertSettings)
    /// An `adminAssign` request, held to its policy and the self-assignment safeguards.
    case assignEligible(principal: String, role: String, scope: Scope, end: Date?)
    /// An `adminRemove` request for the live eligible assignment.
    case removeEligibility(principal: String, role: String, scope: Scope)
}

/// What an apply carries out: the plan against the state it was computed from, as operations.
public struct ManifestApplication: Sendable {
    public var stateHash: String
    public var changes: [ManifestChange]
    public var operations: [ManifestOperation]

    public init(stateHash: String, changes: [ManifestChange], operations: [ManifestOperation]) {
        self.stateHash = stateHash
        self.changes = changes
        self.operations = operations
    }
}

extension ManifestService {
    /// Applies a plan in one transaction, or nothing: the live state is read again inside it and
    /// `prepare` plans against it; when its hash is not `expectedStateHash` (another apply, or an
    /// edit, came between the plan and now) the apply is refused. Every change goes through its
    /// use case, and the apply is one more audit event listing the changes and `manifestHash`.
    public func apply(
        by actor: ActorContext, manifestHash: String, expectedStateHash: String,
        prepare: @Sendable (ManifestSnapshot) async throws -> ManifestApplication
    ) async throws -> ManifestApplication {
        let now = engine.clock.now()
        return try await engine.audited(actor: actor, subject: AuditSubject(), action: .manifestApplyRefused, now: now)
        {
            let (application, applied, graph) = try await engine.store.transaction {
                tx -> (ManifestApplication, Engine.Applied, MembershipGraph?) in
                try await engine.authorize(actor.principalId, .manageRoles, in: tx, now: now)
                let application = try await prepare(try await snapshot(in: tx))
                guard application.stateHash == expectedStateHash else {
                    throw RegentError(
                        .conflict, "the live configuration changed since the plan; plan again", field: "stateHash")
                }
                var applied = Engine.Applied()
                var graph: MembershipGraph?
                for operation in application.operations {
                    let (more, changedGraph) = try await perform(
                        operation, by: actor, manifestHash: manifestHash, in: tx, now: now)
                    applied.merge(more)
                    if let changedGraph { graph = changedGraph }
                }
                let kept = application.changes.filter { $0.action != .delete }.map(\.key)
                try await tx.markManaged(kept, manifest: manifestHash, at: now)
                try await tx.unmarkManaged(application.changes.filter { $0.action == .delete }.map(\.key))
                try await engine.audit(
                    AuditNote(
                        .manifestApplied,
                        details: [
                            "sha256": manifestHash, "count": "\(application.changes.count)",
                            "changes": application.changes.map { "\($0.action.rawValue) \($0.key)" }.joined(
                                separator: "; "),
                        ]), in: tx,
                    context: Engine.AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
                    now: now)
                return (application, applied, graph)
            }
            if let graph { engine.index.updateGraph(graph) }
            engine.afterCommit(applied)
            if application.operations.contains(where: { if case .setAlertRule = $0 { true } else { false } }) {
                try await engine.governance.evaluateAlerts()
            }
            // A new review's first occurrence opens now, as one made through the API does.
            if application.operations.contains(where: { if case .createReview = $0 { true } else { false } }) {
                try await engine.governance.runReviews()
            }
            return application
        }
    }

    private func perform(
        _ operation: ManifestOperation, by actor: ActorContext, manifestHash: String, in tx: StoreTransaction,
        now: Date
    ) async throws -> (Engine.Applied, MembershipGraph?) {
        let directory = engine.directory
        switch operation {
        case .createTarget(let kind, let name, let scope, let config, let secrets):
            let target = try Target(id: Target.ID(UUID()), kind: kind, name: name, scope: scope, config: config)
            try await engine.provisioning.createTarget(target, secrets: secrets, by: actor, in: tx, now: now)
        case .updateTarget(let name, let scope, let config, let secrets):
            guard let target = try await tx.target(named: name) else {
                throw RegentError(.notFound, "no target named \(name)", field: "name")
            }
            _ = try await engine.provisioning.updateTarget(
                target.id, scope: scope, config: config, secrets: secrets, by: actor, in: tx, now: now)
        case .createPrincipal(let kind, let name, let displayName, let email):
            let principal = try Principal(
                id: Principal.ID(UUID()), kind: kind, name: name, displayName: displayName, email: email, createdAt: now
            )
            try await directory.createPrincipal(principal, passwordHash: nil, by: actor, in: tx, now: now)
        case .createGroup(let id, let name, let displayName, let members):
            let group = try Principal(id: id, kind: .group, name: name, displayName: displayName, createdAt: now)
            try await directory.createPrincipal(group, passwordHash: nil, by: actor, in: tx, now: now)
            return try await setMembers(of: group.name, to: members, by: actor, in: tx, now: now)
        case .setGroupMembers(let group, let members):
            return try await setMembers(of: group, to: members, by: actor, in: tx, now: now)
        case .createRole(let name, let description, let entitlements):
            let role = try Role(
                id: Role.ID(UUID()), name: name, description: description,
                entitlements: try await resolve(entitlements, in: tx), createdAt: now)
            try await directory.createRole(role, by: actor, in: tx, now: now)
        case .updateRole(let name, let description, let entitlements):
            let role = try await role(named: name, in: tx)
            _ = try await directory.updateRole(
                role.id, description: description, entitlements: try await resolve(entitlements, in: tx), by: actor,
                in: tx, now: now)
        case .setPolicy(let role, let scope, let policy):
            _ = try await directory.setPolicy(
                policy, role: try await self.role(named: role, in: tx).id, scope: scope, by: actor, in: tx, now: now)
        case .removePolicy(let role, let scope):
            try await directory.removePolicy(
                role: try await self.role(named: role, in: tx).id, scope: scope, by: actor, in: tx, now: now)
        case .setAlertRule(let rule, let settings):
            try await engine.governance.setAlertSettings(settings, for: rule, by: actor, in: tx, now: now)
        case .createReview(let build):
            let definition = try await build(
                { try await self.principal(named: $0, in: tx).id }, { try await self.role(named: $0, in: tx).id })
            try await engine.governance.createReview(definition, by: actor, in: tx, now: now)
        case .assignEligible(let principal, let role, let scope, let end):
            let duration = try end.map { end -> ISODuration in
                let seconds = Int64(end.timeIntervalSince(now).rounded(.down))
                guard seconds > 0 else {
                    throw RegentError.invalid("end", "the eligibility of \(principal) for \(role) ends in the past")
                }
                return ISODuration(seconds: seconds)
            }
            let draft = RequestDraft(
                action: .adminAssign, requesterId: actor.principalId,
                principalId: try await self.principal(named: principal, in: tx).id,
                roleId: try await self.role(named: role, in: tx).id, scope: scope, kind: .eligible,
                justification: "manifest \(manifestHash.prefix(12))", duration: duration)
            return (try await submitted(draft, by: actor, in: tx, now: now), nil)
        case .removeEligibility(let principal, let role, let scope):
            let principalId = try await self.principal(named: principal, in: tx).id
            let roleId = try await self.role(named: role, in: tx).id
            guard
                let assignment = try await tx.assignments(
                    AssignmentFilter(
                        principalIds: [principalId], roleId: roleId, kind: .eligible, states: AssignmentFilter.live)
                ).first(where: { $0.scope == scope })
            else { return (Engine.Applied(), nil) }
            let draft = RequestDraft(
                action: .adminRemove, requesterId: actor.principalId, principalId: principalId, roleId: roleId,
                scope: scope, kind: .eligible, justification: "manifest \(manifestHash.prefix(12))",
                targetAssignmentId: assignment.id)
            return (try await submitted(draft, by: actor, in: tx, now: now), nil)
        }
        return (Engine.Applied(), nil)
    }

    /// A request filed for the apply; a refusal (a policy, a safeguard) refuses the whole apply.
    private func submitted(_ draft: RequestDraft, by actor: ActorContext, in tx: StoreTransaction, now: Date)
        async throws -> Engine.Applied
    {
        let (request, applied) = try await engine.requests.submit(draft, by: actor, in: tx, now: now)
        if request.status == .denied {
            throw RegentError(
                .policyViolation, request.reason ?? "refused by policy", failedRules: request.failedRules)
        }
        return applied
    }

    /// Makes the group's direct members exactly `names`, each change through its use case.
    private func setMembers(
        of groupName: String, to names: [String], by actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws -> (Engine.Applied, MembershipGraph?) {
        let group = try await principal(named: groupName, in: tx)
        var wanted: Set<Principal.ID> = []
        for name in names { wanted.insert(try await principal(named: name, in: tx).id) }
        let current = try await tx.membershipGraph().members[group.id] ?? []
        var applied = Engine.Applied()
        var graph: MembershipGraph?
        for member in wanted.subtracting(current).sorted(by: { $0.description < $1.description }) {
            graph = try await engine.directory.addMember(member, to: group.id, by: actor, in: tx, now: now)
        }
        for member in current.subtracting(wanted).sorted(by: { $0.description < $1.description }) {
            let (after, withdrawn) = try await engine.directory.removeMember(
                member, from: group.id, by: actor, in: tx, now: now)
            applied.merge(withdrawn)
            graph = after
        }
        return (applied, graph)
    }

    private func resolve(_ entitlements: [(target: String, value: String)], in tx: StoreTransaction) async throws
        -> [Entitlement]
    {
        var resolved: [Entitlement] = []
        for entitlement in entitlements {
            guard let target = try await tx.target(named: entitlement.target) else {
                throw RegentError(.notFound, "no target named \(entitlement.target)", field: "entitlements.targetId")
            }
            resolved.append(Entitlement(targetId: target.id, value: entitlement.value))
        }
        return resolved
    }

    private func role(named name: String, in tx: StoreTransaction) async throws -> Role {
        guard let role = try await tx.role(named: name) else {
            throw RegentError(.notFound, "no role named \(name)", field: "role")
        }
        return role
    }

    private func principal(named name: String, in tx: StoreTransaction) async throws -> Principal {
        guard let principal = try await tx.principal(named: name) else {
            throw RegentError(.notFound, "no principal named \(name)", field: "principal")
        }
        return principal
    }
}
