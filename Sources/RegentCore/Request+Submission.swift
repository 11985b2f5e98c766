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
            return (request, [.audit(request.note("request.denied", .denied, reason: request.reason))])
        }

        let stages = request.approvalStages(policy: policy, facts: facts, safeguards: safeguards)
        if let stages {
            guard !stages.isEmpty else {
                request.status = .denied
                request.failedRules = [.separationOfDuties]
                request.reason = "no administrator other than the requester can approve this request"
                return (request, [.audit(request.note("request.denied", .denied, reason: request.reason))])
            }
            let progress = ApprovalProgress(stages: stages, startedAt: context.now)
            request.status = .pendingApproval
            request.approval = progress
            return (request, [.audit(request.note("request.created"))] + progress.timers(for: id))
        }
        let effects = try request.complete(facts: facts, now: context.now)
        return (request, [.audit(request.note("request.created"))] + effects)
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
            let extension_ = (duration ?? .init(seconds: 0))
            var failed = policy.activationFailures(
                duration: extension_, justification: justification, ticket: ticket, start: now, context: context,
                safeguards: safeguards, countsTowardLimit: false)
            failed.removeAll { $0 == .maximumDuration }
            if newEnd(facts: facts, now: now).map({ $0.timeIntervalSince(now) > policy.maximumDuration.timeInterval })
                ?? true
            {
                failed.append(.maximumDuration)
            }
            return failed
        case .adminAssign, .adminRenew, .selfRenew, .adminUpdate:
            return policy.assignmentFailures(
                kind: kind, lifetime: duration, justification: justification, context: context, safeguards: safeguards)
        case .adminExtend, .selfExtend:
            let lifetime = newEnd(facts: facts, now: now).map { ISODuration(seconds: Int64($0.timeIntervalSince(now))) }
            return policy.assignmentFailures(
                kind: kind, lifetime: lifetime, justification: justification, context: context, safeguards: safeguards
            )
            .filter { $0 != .minimumDuration }
        case .adminRemove:
            if facts.roleIsRegentAdmin, let target = facts.target, target.kind == .active, target.isInForce(at: now),
                facts.activeAdministratorCount <= 1
            {
                return [.lastAdministrator]
            }
            return []
        case .selfDeactivate:
            guard let target = facts.target else { return [] }
            return now.timeIntervalSince(target.start) < safeguards.selfDeactivationDelay.timeInterval
                ? [.selfDeactivationDelay] : []
        }
    }

    /// The end an extension leads to: the extra time is added to the later of the current end and now.
    private func newEnd(facts: RequestFacts, now: Date) -> Date? {
        guard let target = facts.target, let duration else { return nil }
        guard let end = target.end else { return nil }
        return max(end, now) + duration
    }

    /// nil: no approval needed. Empty: approval needed but nobody may give it.
    private func approvalStages(policy: EffectivePolicy, facts: RequestFacts, safeguards: Safeguards)
        -> [ApprovalStage]?
    {
        let byAdministrators = ApprovalStage(
            approvers: facts.administrators.subtracting([requesterId, principalId]).sorted(), requiredApprovals: 1,
            timeout: safeguards.administratorApprovalTimeout)
        let adminStages = byAdministrators.approvers.isEmpty ? [] : [byAdministrators]
        switch action {
        case .selfActivate:
            return policy.approval.isRequired ? policy.approval.stages : nil
        case .selfExtend:
            if facts.target?.isActivation == true { return policy.approval.isRequired ? policy.approval.stages : nil }
            return adminStages
        case .selfRenew:
            return adminStages
        case .adminAssign:
            return safeguards.requireSecondAdminForSelfAssignment && principalId == requesterId ? adminStages : nil
        case .adminUpdate, .adminRemove, .adminExtend, .adminRenew, .selfDeactivate:
            return nil
        }
    }

    func note(_ action: String, _ outcome: AuditOutcome = .success, reason: String? = nil) -> AuditNote {
        var details = ["requestId": id.description, "action": self.action.rawValue, "status": status.rawValue]
        if let duration { details["duration"] = duration.description }
        if let ticket { details["ticket"] = "\(ticket.system):\(ticket.number)" }
        if let justification { details["justification"] = justification }
        if !failedRules.isEmpty { details["failedRules"] = failedRules.map(\.rawValue).joined(separator: ",") }
        return AuditNote(action, outcome, reason: reason, details: details)
    }
}
