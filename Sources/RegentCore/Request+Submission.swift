import Foundation

/// Filing a request: structural checks (thrown), then the policy (a denied request is kept with
/// every failed rule), then approval or completion.
extension Request {
    public static let maximumTextLength = 2000

    /// Files `draft`. Throws for requests that cannot be filed at all (wrong target, conflict);
    /// returns a `denied` request, kept for history, when the policy refuses.
    ///
    /// - Parameters:
    ///   - id: the new request's id.
    ///   - newAssignmentId: the id the created assignment will have, for actions that create one.
    public static func submit(
        id: ID, newAssignmentId: Assignment.ID, draft: RequestDraft, policy: EffectivePolicy, facts: RequestFacts,
        context: RequestContext, safeguards: Safeguards
    ) throws(RegentError) -> (Request, [Effect]) {
        try validateShape(draft, facts: facts, now: context.now)
        let createsAssignment = [.adminAssign, .adminRenew, .selfActivate, .selfRenew].contains(draft.action)
        var request = Request(
            id: id, action: draft.action, requesterId: draft.requesterId, principalId: draft.principalId,
            roleId: draft.roleId, scope: draft.scope, kind: draft.kind, justification: draft.justification,
            ticket: draft.ticket, requestedStart: draft.start,
            duration: draft.duration ?? defaultDuration(draft, policy),
            targetAssignmentId: draft.targetAssignmentId,
            assignmentId: createsAssignment ? newAssignmentId : draft.targetAssignmentId, status: .approved,
            failedRules: [], reason: nil, approval: nil, createdAt: context.now, updatedAt: context.now)

        let failed = request.policyFailures(policy: policy, facts: facts, context: context, safeguards: safeguards)
        if !failed.isEmpty {
            request.status = .denied
            request.failedRules = failed.sorted()
            request.reason = "refused by policy: " + request.failedRules.map(\.rawValue).joined(separator: ", ")
            return (request, [.audit(request.note(.requestDenied, .denied, reason: request.reason))])
        }

        let stages = request.approvalStages(policy: policy, facts: facts, safeguards: safeguards)
        if let stages {
            guard !stages.isEmpty else {
                request.status = .denied
                request.failedRules = [.separationOfDuties]
                request.reason = "no administrator other than the requester can approve this request"
                return (request, [.audit(request.note(.requestDenied, .denied, reason: request.reason))])
            }
            let progress = ApprovalProgress(stages: stages, startedAt: context.now)
            request.status = .pendingApproval
            request.approval = progress
            return (
                request,
                [.audit(request.createdNote(context))] + progress.timers(for: id)
                    + request.approvalNotice(escalated: false)
            )
        }
        let effects = try request.complete(facts: facts, now: context.now)
        return (request, [.audit(request.createdNote(context))] + effects)
    }

    private static func defaultDuration(_ draft: RequestDraft, _ policy: EffectivePolicy) -> ISODuration? {
        draft.action == .selfActivate ? policy.maximumDuration : nil
    }

    private static func validateShape(_ draft: RequestDraft, facts: RequestFacts, now: Date) throws(RegentError) {
        if let text = draft.justification, text.count > maximumTextLength {
            throw .invalid("justification", "a justification is at most \(maximumTextLength) characters")
        }
        if let ticket = draft.ticket, ticket.system.count > 100 || ticket.number.count > 100 {
            throw .invalid("ticket", "a ticket's system and number are at most 100 characters")
        }
        if draft.action.isSelfService && draft.requesterId != draft.principalId {
            throw RegentError(.accessDenied, "self-service requests act for the requester only", field: "principalId")
        }
        if let start = draft.start, start > now + .days(365) {
            throw .invalid("start", "a start is at most a year ahead")
        }
        switch draft.action {
        case .adminAssign, .selfActivate:
            if draft.action == .selfActivate && draft.kind != .active {
                throw .invalid("kind", "an activation is always of kind active")
            }
            if draft.action == .selfActivate && draft.duration == nil && draft.start != nil {
                throw .invalid("duration", "a scheduled activation names its duration")
            }
            if let existing = facts.existing {
                throw RegentError(
                    .conflict,
                    "an assignment of this role at this scope already exists (\(existing.id)); extend it instead",
                    field: "roleId")
            }
        case .adminRemove, .adminUpdate, .adminExtend, .selfExtend, .selfDeactivate:
            let target = try matchingTarget(draft, facts)
            guard target.state != .ended else {
                throw RegentError(.invalidTransition, "the assignment has already ended", field: "assignmentId")
            }
            if [.adminExtend, .selfExtend].contains(draft.action) {
                guard (draft.duration?.seconds ?? 0) > 0 else {
                    throw .invalid("duration", "an extension names how much longer")
                }
                guard target.end != nil else {
                    throw RegentError(
                        .invalidTransition, "a permanent assignment cannot be extended", field: "assignmentId")
                }
            }
            if draft.action == .adminUpdate && draft.start != nil {
                throw .invalid("start", "an update changes the end (duration from the start), not the start")
            }
            if draft.action == .selfDeactivate && !(target.isActivation && target.state == .active) {
                throw RegentError(
                    .invalidTransition, "only an activation in force can be deactivated", field: "assignmentId")
            }
        case .adminRenew, .selfRenew:
            let target = try matchingTarget(draft, facts)
            guard target.state == .ended && target.endReason == .expired && !target.isActivation else {
                throw RegentError(
                    .invalidTransition, "only an expired assignment can be renewed", field: "assignmentId")
            }
            if let existing = facts.existing {
                throw RegentError(
                    .conflict, "an assignment of this role at this scope already exists (\(existing.id))",
                    field: "roleId")
            }
        }
    }

    private static func matchingTarget(_ draft: RequestDraft, _ facts: RequestFacts) throws(RegentError) -> Assignment {
        guard let target = facts.target, target.id == draft.targetAssignmentId else {
            throw RegentError(.notFound, "the assignment does not exist", field: "assignmentId")
        }
        guard target.principalId == draft.principalId, target.roleId == draft.roleId, target.scope == draft.scope,
            target.kind == draft.kind
        else {
            throw .invalid(
                "assignmentId", "the assignment is not this principal's assignment of this role, scope and kind")
        }
        return target
    }

    private func policyFailures(
        policy: EffectivePolicy, facts: RequestFacts, context: RequestContext, safeguards: Safeguards
    ) -> [PolicyRule] {
        let now = context.now
        switch action {
        case .selfActivate:
            var failed: [PolicyRule] = []
            if facts.eligibility.map({ !$0.isInForce(at: now) || $0.kind != .eligible }) ?? true {
                failed.append(.eligibility)
            }
            let start = max(requestedStart ?? now, now)
            return failed
                + policy.activationFailures(
                    duration: duration ?? policy.maximumDuration, justification: justification, ticket: ticket,
                    start: start, context: context, safeguards: safeguards, countsTowardLimit: true)
        case .selfExtend where facts.target?.isActivation == true:
            var failed = policy.activationFailures(
                duration: duration ?? .init(seconds: 0), justification: justification, ticket: ticket, start: now,
                context: context, safeguards: safeguards, countsTowardLimit: false)
            failed.removeAll { $0 == .maximumDuration }
            return failed + activationEndFailures(policy: policy, facts: facts, now: now)
        case .adminAssign, .adminRenew, .selfRenew, .adminUpdate:
            let failed = policy.assignmentFailures(
                kind: kind, lifetime: duration, justification: justification, context: context, safeguards: safeguards)
            return failed
                + (action == .adminUpdate ? activationEndFailures(policy: policy, facts: facts, now: now) : [])
        case .adminExtend, .selfExtend:
            let lifetime = resultingEnd(facts: facts, now: now).map {
                ISODuration(seconds: Int64($0.timeIntervalSince(now)))
            }
            return policy.assignmentFailures(
                kind: kind, lifetime: lifetime, justification: justification, context: context, safeguards: safeguards
            )
            .filter { $0 != .minimumDuration } + activationEndFailures(policy: policy, facts: facts, now: now)
        case .adminRemove:
            return lastAdministratorFailures(
                ending: [targetAssignmentId].compactMap { $0 } + facts.derivedActivations.map(\.id), facts: facts,
                now: now)
        case .selfDeactivate:
            guard let target = facts.target else { return [] }
            let tooSoon = now.timeIntervalSince(target.start) < safeguards.selfDeactivationDelay.timeInterval
            return (tooSoon ? [.selfDeactivationDelay] : [])
                + lastAdministratorFailures(ending: [target.id], facts: facts, now: now)
        }
    }

    /// A change to an activation's end, by anyone: it stays within the policy's activation maximum
    /// from now, and within the eligibility it came from (which must still be in force).
    private func activationEndFailures(policy: EffectivePolicy, facts: RequestFacts, now: Date) -> [PolicyRule] {
        guard let target = facts.target, target.isActivation else { return [] }
        var failed: [PolicyRule] = []
        if facts.eligibility.map({ $0.id != target.activatedFrom || !$0.isInForce(at: now) }) ?? true {
            failed.append(.eligibility)
        }
        let end = resultingEnd(facts: facts, now: now)
        if end.map({ $0.timeIntervalSince(now) > policy.maximumDuration.timeInterval }) ?? true {
            failed.append(.maximumDuration)
        }
        return failed
    }

    /// The last-administrator safeguard: ending these assignments must leave an enabled user
    /// holding `regent-admin` (only asked when the request is about that role).
    private func lastAdministratorFailures(ending: [Assignment.ID], facts: RequestFacts, now: Date) -> [PolicyRule] {
        guard let coverage = facts.administratorCoverage else { return [] }
        return coverage.isLost(by: coverage.ending(ending), at: now) ? [.lastAdministrator] : []
    }

    /// The end a change of end leads to, before any bound: an update counts the new duration from
    /// the start; an extension adds to the later of the current end and now. nil: permanent.
    func resultingEnd(facts: RequestFacts, now: Date) -> Date? {
        guard let target = facts.target else { return nil }
        if action == .adminUpdate { return duration.map { target.start + $0 } }
        guard let end = target.end else { return nil }
        return max(end, now) + (duration ?? .init(seconds: 0))
    }

    /// nil: no approval needed. Empty: approval needed but nobody may give it.
    ///
    /// An administrator's change to an assignment they would hold themselves — the principal is
    /// them, or a group they are in (disabled or not) — needs another administrator, who must not
    /// be among its beneficiaries either.
    private func approvalStages(policy: EffectivePolicy, facts: RequestFacts, safeguards: Safeguards)
        -> [ApprovalStage]?
    {
        let beneficiaries = facts.beneficiaries.union([principalId])
        let byAdministrators = ApprovalStage(
            approvers: facts.administrators.subtracting(beneficiaries).subtracting([requesterId]).sorted(),
            requiredApprovals: 1, timeout: safeguards.administratorApprovalTimeout)
        let adminStages = byAdministrators.approvers.isEmpty ? [] : [byAdministrators]
        switch action {
        case .selfActivate:
            return policy.approval.isRequired ? policy.approval.stages : nil
        case .selfExtend:
            if facts.target?.isActivation == true { return policy.approval.isRequired ? policy.approval.stages : nil }
            return adminStages
        case .selfRenew:
            return adminStages
        case .adminAssign, .adminUpdate, .adminExtend, .adminRenew:
            return safeguards.requireSecondAdminForSelfAssignment && beneficiaries.contains(requesterId)
                ? adminStages : nil
        case .adminRemove, .selfDeactivate:
            return nil
        }
    }

    /// `request.created`, with how the requester's MFA was met (`totp`, the provider's `amr:…` /
    /// `acr:…`, or `none`).
    func createdNote(_ context: RequestContext) -> AuditNote {
        var note = note(.requestCreated)
        note.details["mfa"] = context.mfaVerifiedAt == nil ? "none" : (context.mfaMethod ?? "totp")
        return note
    }

    func note(_ action: AuditAction, _ outcome: AuditOutcome = .success, reason: String? = nil) -> AuditNote {
        var details = ["requestId": id.description, "action": self.action.rawValue, "status": status.rawValue]
        if let duration { details["duration"] = duration.description }
        if let ticket { details["ticket"] = "\(ticket.system):\(ticket.number)" }
        if let justification { details["justification"] = justification }
        if !failedRules.isEmpty { details["failedRules"] = failedRules.map(\.rawValue).joined(separator: ",") }
        return AuditNote(action, outcome, reason: reason, details: details)
    }
}
