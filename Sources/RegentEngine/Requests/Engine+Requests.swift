import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// The request use cases: file, approve, deny, cancel. Every decision, allowed or refused, is
/// audited; a refusal that is thrown is audited in its own transaction before it reaches the caller.
extension Engine {

    func decide(
        _ requestId: Request.ID, by actor: ActorContext, refusal: AuditAction,
        _ transition: @escaping @Sendable (inout Request, MembershipGraph, RequestFacts, Date) throws -> [Effect]
    ) async throws -> Request {
        let now = clock.now()
        let subject =
            try await store.transaction { try await $0.request(id: requestId) }?.auditSubject ?? AuditSubject()
        return try await audited(
            actor: actor, subject: subject, action: refusal, correlationId: requestId.description, now: now
        ) { [self] in
            // A stage whose deadline passed is closed first, so a late decision meets a timed-out request.
            try await expireStageIfDue(requestId, now: now)
            let (request, applied) = try await store.transaction { tx in
                try await self.requireEnabled(actor.principalId, in: tx)
                guard var request = try await tx.request(id: requestId) else {
                    throw RegentError(.notFound, "no such request", field: "requestId")
                }
                let graph = try await tx.membershipGraph()
                let facts = try await self.completionFacts(for: request, graph: graph, in: tx, now: now)
                let effects = try transition(&request, graph, facts, now)
                try await tx.saveRequest(request)
                let applied = try await self.apply(
                    effects, in: tx,
                    context: AuditContext(
                        actor: actor.auditActor, subject: request.auditSubject, correlationId: request.id.description),
                    now: now)
                return (request, applied)
            }
            afterCommit(applied)
            return request
        }
    }

    func expireStageIfDue(_ requestId: Request.ID, now: Date) async throws {
        let applied = try await store.transaction { tx -> Applied in
            guard var request = try await tx.request(id: requestId), let approval = request.approval,
                request.status == .pendingApproval, now >= approval.deadline
            else { return Applied() }
            let effects = request.stageTimedOut(stage: approval.currentStage, now: now)
            try await tx.saveRequest(request)
            return try await self.apply(
                effects, in: tx,
                context: AuditContext(
                    actor: .system, subject: request.auditSubject, correlationId: request.id.description),
                now: now)
        }
        afterCommit(applied)
    }

    func submissionFacts(
        _ draft: RequestDraft, actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws -> (RequestFacts, EffectivePolicy, RequestContext) {
        guard let role = try await tx.role(id: draft.roleId) else {
            throw RegentError(.notFound, "no such role", field: "roleId")
        }
        let policy = EffectivePolicy.resolve(try await tx.policies(role: role.id), at: draft.scope)
        let graph = try await tx.membershipGraph()
        var facts = RequestFacts()
        if let targetId = draft.targetAssignmentId { facts.target = try await tx.assignment(id: targetId) }
        if [.adminAssign, .selfActivate, .adminRenew, .selfRenew].contains(draft.action) {
            facts.existing = try await tx.assignments(
                AssignmentFilter(
                    principalIds: [draft.principalId], roleId: draft.roleId, kind: draft.kind,
                    states: AssignmentFilter.live)
            ).first { $0.scope == draft.scope }
        }
        if draft.action == .selfActivate {
            facts.eligibility = try await eligibility(
                for: draft.principalId, role: draft.roleId, scope: draft.scope, graph: graph, in: tx, now: now)
        } else if let origin = facts.target?.activatedFrom {
            facts.eligibility = try await tx.assignment(id: origin)
        }
        if let target = facts.target, target.kind == .eligible, draft.action == .adminRemove {
            facts.derivedActivations = try await tx.assignments(
                AssignmentFilter(roleId: target.roleId, kind: .active, states: AssignmentFilter.live)
            ).filter { $0.activatedFrom == target.id }
        }
        if role.name == Role.BuiltIn.regentAdmin.rawValue {
            facts.administratorCoverage = try await administratorCoverage(in: tx, graph: graph)
        }
        facts.administrators = try await holders(of: .manageAssignments, in: tx, now: now, graph: graph)
        facts.beneficiaries = graph.everyMember(of: draft.principalId)
        var context = RequestContext(
            now: now, mfaVerifiedAt: actor.mfaVerifiedAt, mfaMethod: actor.mfaMethod, sourceAddress: actor.sourceAddress
        )
        if let limit = policy.maxActivations {
            // Scheduled activations count as much as past ones: every start from one window before
            // this one's on.
            let start = max(draft.start ?? now, now)
            context.recentActivations = try await tx.activationStarts(
                principal: draft.principalId, role: draft.roleId,
                since: start.addingTimeInterval(-limit.window.timeInterval))
        }
        return (facts, policy, context)
    }

    /// The facts a pending request needs when it is carried out later (after approval).
    func completionFacts(for request: Request, graph: MembershipGraph, in tx: StoreTransaction, now: Date)
        async throws -> RequestFacts
    {
        var facts = RequestFacts()
        facts.disabledPrincipals = graph.disabled
        if let targetId = request.targetAssignmentId { facts.target = try await tx.assignment(id: targetId) }
        if request.status == .scheduled, let assignmentId = request.assignmentId {
            facts.target = try await tx.assignment(id: assignmentId)
        }
        if request.action == .selfActivate {
            facts.eligibility = try await eligibility(
                for: request.principalId, role: request.roleId, scope: request.scope, graph: graph, in: tx,
                now: now)
        } else if let origin = facts.target?.activatedFrom {
            facts.eligibility = try await tx.assignment(id: origin)
        }
        return facts
    }

    /// The eligible assignment (the principal's own or a group's) that lets the principal activate
    /// the role at the scope now; the longest-lasting one wins.
    func eligibility(
        for principal: Principal.ID, role: Role.ID, scope: Scope, graph: MembershipGraph, in tx: StoreTransaction,
        now: Date
    ) async throws -> Assignment? {
        let identities = graph.identities(of: principal)
        return try await tx.assignments(
            AssignmentFilter(principalIds: identities, roleId: role, kind: .eligible, states: [.active], scope: scope)
        ).filter { $0.isInForce(at: now) }.max { ($0.end ?? .distantFuture) < ($1.end ?? .distantFuture) }
    }
}

extension RequestService {
    /// Files a request. A policy refusal is kept as a `denied` request and thrown as
    /// `policyViolation` (or `mfaRequired` when only a fresh MFA is missing).
    ///
    /// - Parameter validationOnly: check everything and return the outcome without storing it.
    public func submit(_ draft: RequestDraft, by actor: ActorContext, validationOnly: Bool = false) async throws
        -> Request
    {
        let now = engine.clock.now()
        let subject = AuditSubject(principalId: draft.principalId, roleId: draft.roleId, scope: draft.scope)
        return try await engine.audited(actor: actor, subject: subject, action: .requestRefused, now: now) { [self] in
            guard draft.requesterId == actor.principalId else {
                throw RegentError(.accessDenied, "a request is filed by its requester", field: "requesterId")
            }
            let (request, applied) = try await engine.store.transaction { tx in
                // Ending an eligibility a manifest gave is the manifest's to do.
                if draft.action == .adminRemove, let id = draft.targetAssignmentId,
                    let target = try await tx.assignment(id: id), target.kind == .eligible,
                    let principal = try await tx.principal(id: target.principalId),
                    let role = try await tx.role(id: target.roleId)
                {
                    try await engine.requireUnmanaged(
                        ManifestObject.Key(.eligibility, "\(principal.name) \(role.name) \(target.scope)"), in: tx)
                }
                return try await submit(draft, by: actor, in: tx, now: now, validationOnly: validationOnly)
            }
            engine.afterCommit(applied)
            if request.status == .denied {
                let code: RegentError.Code = request.failedRules == [.requireMfa] ? .mfaRequired : .policyViolation
                throw RegentError(code, request.reason ?? "refused by policy", failedRules: request.failedRules)
            }
            return request
        }
    }

    /// Files the request within a transaction the caller commits (an apply holds many); the
    /// effects are applied, and the caller carries out what they leave after the commit.
    func submit(
        _ draft: RequestDraft, by actor: ActorContext, in tx: StoreTransaction, now: Date, validationOnly: Bool = false
    ) async throws -> (Request, Engine.Applied) {
        let subject = AuditSubject(principalId: draft.principalId, roleId: draft.roleId, scope: draft.scope)
        try await engine.requireEnabled(actor.principalId, in: tx)
        if !draft.action.isSelfService {
            try await engine.authorize(actor.principalId, .manageAssignments, in: tx, now: now)
        }
        guard let principal = try await tx.principal(id: draft.principalId) else {
            throw RegentError(.notFound, "no such principal", field: "principalId")
        }
        guard principal.isEnabled || draft.action == .adminRemove else {
            throw RegentError(.invalidTransition, "the principal is disabled", field: "principalId")
        }
        let (facts, policy, context) = try await engine.submissionFacts(draft, actor: actor, in: tx, now: now)
        let (request, effects) = try Request.submit(
            id: Request.ID(UUID()), newAssignmentId: Assignment.ID(UUID()), draft: draft, policy: policy,
            facts: facts, context: context, safeguards: engine.configuration.safeguards)
        if validationOnly { return (request, Engine.Applied()) }
        try await tx.saveRequest(request)
        let applied = try await engine.apply(
            effects, in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: subject, correlationId: request.id.description),
            now: now)
        return (request, applied)
    }

    /// Records an approval of the request's current stage; the last one carries the request out.
    public func approve(_ requestId: Request.ID, by actor: ActorContext, justification: String?) async throws -> Request
    {
        try await engine.decide(requestId, by: actor, refusal: .requestApproveRefused) { request, graph, facts, now in
            try request.approve(
                by: actor.principalId, identities: graph.identities(of: actor.principalId),
                selfIdentities: graph.selfIdentities(of: actor.principalId), justification: justification,
                facts: facts, now: now)
        }
    }

    public func deny(_ requestId: Request.ID, by actor: ActorContext, justification: String?) async throws -> Request {
        try await engine.decide(requestId, by: actor, refusal: .requestDenyRefused) { request, graph, _, now in
            try request.deny(
                by: actor.principalId, identities: graph.identities(of: actor.principalId),
                selfIdentities: graph.selfIdentities(of: actor.principalId), justification: justification, now: now)
        }
    }

    public func cancel(_ requestId: Request.ID, by actor: ActorContext) async throws -> Request {
        try await engine.decide(requestId, by: actor, refusal: .requestCancelRefused) { request, _, facts, now in
            try request.cancel(by: actor.principalId, scheduled: facts.target, now: now)
        }
    }

    public func request(_ id: Request.ID) async throws -> Request? {
        try await engine.store.transaction { try await $0.request(id: id) }
    }
}
