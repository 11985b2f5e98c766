public import Foundation

/// The request state machine of DESIGN.md §2. Each event takes the time as a parameter and returns
/// the effects to perform; refusals throw and leave the request unchanged.
extension Request {
    /// An approver approves the current stage. The requester and the beneficiary can never approve,
    /// whatever groups they are in; other approvers must be in the stage's set now.
    ///
    /// - Parameters:
    ///   - identities: the approver and the groups whose rights they use, expanded at decision time.
    ///   - selfIdentities: the approver and every group they are in, disabled or not: an approver
    ///     who is, or is in, the request's principal is deciding about their own access.
    public mutating func approve(
        by approverId: Principal.ID, identities: Set<Principal.ID>, selfIdentities: Set<Principal.ID>,
        justification: String?, facts: RequestFacts, now: Date
    ) throws(RegentError) -> [Effect] {
        var progress = try checkDecision(
            by: approverId, identities: identities, selfIdentities: selfIdentities, justification: justification,
            now: now)
        progress.decisions.append(
            ApprovalDecision(
                stage: progress.currentStage, approverId: approverId, verdict: .approve, justification: justification,
                at: now))
        approval = progress
        updatedAt = now
        var effects: [Effect] = [
            .audit(decisionNote(.requestStageApproved, approverId: approverId, justification: justification))
        ]
        guard progress.resolution(ofStage: progress.currentStage, disabled: facts.disabledPrincipals) == .approved
        else { return effects }
        if progress.currentStage + 1 < progress.stages.count {
            progress.currentStage += 1
            progress.stageStartedAt = now
            approval = progress
            return effects + progress.timers(for: id) + approvalNotice(escalated: false)
        }
        status = .approved
        effects.append(.audit(note(.requestApproved)))
        effects += notice(.requestApproved(id))
        do {
            effects += try complete(facts: facts, now: now)
        } catch {
            status = .failed
            reason = error.reason
            effects.append(.audit(note(.requestFailed, .failed, reason: error.reason)))
        }
        return effects
    }

    /// An approver denies: one denial decides the request.
    public mutating func deny(
        by approverId: Principal.ID, identities: Set<Principal.ID>, selfIdentities: Set<Principal.ID>,
        justification: String?, now: Date
    ) throws(RegentError) -> [Effect] {
        var progress = try checkDecision(
            by: approverId, identities: identities, selfIdentities: selfIdentities, justification: justification,
            now: now)
        progress.decisions.append(
            ApprovalDecision(
                stage: progress.currentStage, approverId: approverId, verdict: .deny, justification: justification,
                at: now))
        approval = progress
        status = .denied
        reason = justification
        updatedAt = now
        return [.audit(decisionNote(.requestDenied, approverId: approverId, justification: justification))]
            + notice(.requestDenied(id, reason: justification, timedOut: false))
    }

    /// The requester withdraws a request that is still waiting for approval or its start.
    /// - Parameter scheduled: the assignment a `scheduled` request created, which is canceled with it.
    public mutating func cancel(by actorId: Principal.ID, scheduled: Assignment?, now: Date) throws(RegentError)
        -> [Effect]
    {
        guard actorId == requesterId else {
            throw RegentError(.accessDenied, "only the requester can cancel a request", field: "requestId")
        }
        guard status == .pendingApproval || status == .scheduled else {
            throw RegentError(
                .invalidTransition, "a request that is \(status.rawValue) cannot be canceled", field: "requestId")
        }
        var effects: [Effect] = []
        if status == .scheduled {
            guard var assignment = scheduled, assignment.id == assignmentId else {
                throw RegentError(.notFound, "the scheduled assignment is missing", field: "assignmentId")
            }
            effects += try assignment.finish(.canceled, now: now).filter {
                if case .closeRequest = $0 { return false } else { return true }
            }
        }
        status = .canceled
        updatedAt = now
        return effects + [.audit(note(.requestCanceled))]
    }

    /// Regent withdraws a request still waiting for approval because the principal it is for (or
    /// who asked) can no longer hold access: disabled, deleted or out of the group (see
    /// ``AccessWithdrawal``).
    public mutating func withdraw(reason why: String, now: Date) -> [Effect] {
        guard status == .pendingApproval else { return [] }
        status = .canceled
        reason = why
        updatedAt = now
        return [.audit(note(.requestWithdrawn, reason: why))]
    }

    /// The stage timer fired. Stale timers (the stage was decided, or a later stage runs) do nothing.
    public mutating func stageTimedOut(stage: Int, now: Date) -> [Effect] {
        guard status == .pendingApproval, let approval, approval.currentStage == stage, now >= approval.deadline else {
            return []
        }
        status = .timedOut
        reason = "approval stage \(stage + 1) was not decided within \(approval.stage.timeout)"
        updatedAt = now
        return [.audit(note(.requestTimedOut, .failed, reason: reason))]
            + notice(.requestDenied(id, reason: reason, timedOut: true))
    }

    /// The escalation delay of a stage passed: its escalation approvers may now decide.
    public mutating func escalate(stage: Int, now: Date) -> [Effect] {
        guard status == .pendingApproval, var progress = approval, progress.currentStage == stage,
            let escalationTime = progress.escalationTime, now >= escalationTime,
            !progress.escalatedStages.contains(stage)
        else { return [] }
        progress.escalatedStages.insert(stage)
        approval = progress
        updatedAt = now
        return [.audit(note(.requestEscalated))] + approvalNotice(escalated: true)
    }

    /// The assignment this request scheduled has started.
    public mutating func assignmentStarted(kind: Assignment.Kind, now: Date) -> [Effect] {
        guard status == .scheduled else { return [] }
        status = kind == .active ? .provisioning : .provisioned
        updatedAt = now
        return [.audit(note(.requestStarted))]
    }

    /// Every grant of the created assignment is in place.
    public mutating func provisioned(now: Date) -> [Effect] {
        guard status == .provisioning else { return [] }
        status = .provisioned
        updatedAt = now
        return [.audit(note(.requestProvisioned))]
    }

    /// Provisioning failed for good (a later issue's connectors report it).
    public mutating func provisioningFailed(reason failure: String, now: Date) -> [Effect] {
        guard status == .provisioning else { return [] }
        status = .failed
        reason = failure
        updatedAt = now
        return [.audit(note(.requestFailed, .failed, reason: failure))]
    }

    /// The assignment this request created has ended.
    public mutating func assignmentEnded(because endReason: Assignment.EndReason, now: Date) -> [Effect] {
        guard [.scheduled, .provisioning, .provisioned].contains(status) else { return [] }
        status = endReason == .expired ? .expired : .revoked
        updatedAt = now
        return [.audit(note(endReason == .expired ? .requestExpired : .requestRevoked))]
    }

    private func checkDecision(
        by approverId: Principal.ID, identities: Set<Principal.ID>, selfIdentities: Set<Principal.ID>,
        justification: String?, now: Date
    ) throws(RegentError) -> ApprovalProgress {
        guard status == .pendingApproval, let approval else {
            throw RegentError(
                .invalidTransition, "a request that is \(status.rawValue) takes no decision", field: "requestId")
        }
        guard approverId != requesterId && !selfIdentities.union([approverId]).contains(principalId) else {
            throw RegentError(
                .accessDenied, "nobody decides their own request or access, directly or through a group",
                field: "approverId")
        }
        guard now < approval.deadline else {
            throw RegentError(.invalidTransition, "the approval stage has timed out", field: "requestId")
        }
        guard approval.mayDecide(identities: identities.union([approverId]), at: now) else {
            throw RegentError(.accessDenied, "not an approver of this stage", field: "approverId")
        }
        guard !approval.decisions.contains(where: { $0.stage == approval.currentStage && $0.approverId == approverId })
        else {
            throw RegentError(.conflict, "this approver has already decided this stage", field: "approverId")
        }
        if let justification, justification.count > Self.maximumTextLength {
            throw .invalid("justification", "a justification is at most \(Self.maximumTextLength) characters")
        }
        return approval
    }

    private func decisionNote(_ action: AuditAction, approverId: Principal.ID, justification: String?) -> AuditNote {
        var decision = note(action, action == .requestDenied ? .denied : .success, reason: justification)
        decision.details["approverId"] = approverId.description
        decision.details["stage"] = String((approval?.currentStage ?? 0) + 1)
        return decision
    }

    /// Carries out an approved request. The access window of an activation starts now, when it is
    /// granted, not when it was asked for.
    mutating func complete(facts: RequestFacts, now: Date) throws(RegentError) -> [Effect] {
        updatedAt = now
        switch action {
        case .adminAssign, .adminRenew, .selfRenew, .selfActivate:
            guard let newAssignmentId = assignmentId else {
                throw RegentError(.invalidTransition, "the request reserved no assignment id", field: "requestId")
            }
            let start = max(requestedStart ?? now, now)
            var end = duration.map { start + $0 }
            var origin: Assignment.ID?
            if action == .selfActivate {
                guard let eligibility = facts.eligibility, eligibility.isInForce(at: now) else {
                    throw RegentError(
                        .invalidTransition, "the eligibility ended before the activation", field: "roleId")
                }
                if let eligibleEnd = eligibility.end { end = min(end ?? eligibleEnd, eligibleEnd) }
                origin = eligibility.id
            }
            let (assignment, effects) = Assignment.open(
                id: newAssignmentId, kind: kind, principalId: principalId, roleId: roleId, scope: scope, start: start,
                end: end, requestId: id, activatedFrom: origin, now: now)
            status = assignment.state == .scheduled ? .scheduled : (kind == .active ? .provisioning : .provisioned)
            return effects
        case .adminUpdate, .adminExtend, .selfExtend:
            guard var target = facts.target, target.id == targetAssignmentId, target.state != .ended else {
                throw RegentError(.invalidTransition, "the assignment ended before the change", field: "assignmentId")
            }
            var newEnd = resultingEnd(facts: facts, now: now)
            // An activation never outlasts the eligibility it came from, however it is extended.
            if target.isActivation, let eligibility = facts.eligibility, eligibility.id == target.activatedFrom,
                let eligibleEnd = eligibility.end
            {
                newEnd = min(newEnd ?? eligibleEnd, eligibleEnd)
            }
            status = .provisioned
            return try target.changeEnd(to: newEnd, now: now)
        case .adminRemove, .selfDeactivate:
            guard var target = facts.target, target.id == targetAssignmentId else {
                throw RegentError(.notFound, "the assignment does not exist", field: "assignmentId")
            }
            var effects = try target.finish(action == .adminRemove ? .removed : .deactivated, now: now)
            for var activation in facts.derivedActivations where activation.state != .ended {
                effects += try activation.finish(.removed, now: now)
            }
            status = .revoked
            return effects
        }
    }
}
