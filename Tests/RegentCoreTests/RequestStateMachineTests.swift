import Foundation
import RegentCore
import RegentTestSupport
import Testing

struct RequestStateMachineTests {
    /// Without approval, an activation is granted at once for exactly the requested window.
    @Test func autoApprovedActivation() throws {
        let (request, effects) = try activate(policy { _ in })
        #expect(request.status == .provisioning)
        let assignment = try #require(savedAssignments(effects).first)
        #expect(assignment.start == t0)
        #expect(assignment.end == t0 + 3600)
        #expect(assignment.activatedFrom == eligibility().id)
        #expect(effects.contains(.grant(assignment.id)))
        #expect(effects.contains(.schedule(.assignmentExpiry(assignment.id), at: t0 + 3600)))
        #expect(auditActions(effects) == ["request.created", "assignment.created"])
    }

    /// Two serial stages must both approve; the window starts at the final approval, not at filing.
    @Test func twoStagesAndLateApprovalKeepsTheWindow() throws {
        var (request, effects) = try activate(twoStages)
        #expect(request.status == .pendingApproval)
        #expect(effects.contains(.schedule(.stageTimeout(request.id, stage: 0), at: t0 + 7200)))
        #expect(effects.contains(.schedule(.escalation(request.id, stage: 0), at: t0 + 3600)))
        let facts = RequestFacts(eligibility: eligibility())
        effects = try request.approve(
            by: bob, identities: [bob, leads], selfIdentities: [bob, leads], justification: "ok", facts: facts,
            now: t0 + 600)
        #expect(request.status == .pendingApproval)
        #expect(request.approval?.currentStage == 1)
        #expect(throws: RegentError(.accessDenied, "", field: "approverId")) {
            try request.approve(
                by: bob, identities: [bob, leads], selfIdentities: [bob, leads], justification: nil, facts: facts,
                now: t0 + 700)
        }
        effects = try request.approve(
            by: carol, identities: [carol], selfIdentities: [carol], justification: "ok", facts: facts, now: t0 + 5000)
        #expect(request.status == .provisioning)
        let assignment = try #require(savedAssignments(effects).first)
        #expect(assignment.start == t0 + 5000)
        #expect(assignment.end == t0 + 5000 + 3600)
    }

    /// The requester never approves, not even through a group that is an approver.
    @Test func noSelfApprovalThroughGroup() throws {
        let selfish = policy { $0.approval = Approval(stages: [ApprovalStage(approvers: [leads, alice])]) }
        var (request, _) = try activate(selfish)
        #expect(throws: RegentError(.accessDenied, "", field: "approverId")) {
            try request.approve(
                by: alice, identities: [alice, leads], selfIdentities: [alice, leads], justification: nil,
                facts: RequestFacts(), now: t0 + 1)
        }
        #expect(request.status == .pendingApproval)
        #expect(request.approval?.decisions.isEmpty == true)
    }

    /// Someone outside the stage's set cannot decide; escalation approvers can only after the delay.
    @Test func nonApproverAndEscalation() throws {
        var (request, _) = try activate(twoStages)
        let facts = RequestFacts(eligibility: eligibility())
        #expect(throws: RegentError(.accessDenied, "", field: "approverId")) {
            try request.approve(
                by: carol, identities: [carol], selfIdentities: [carol], justification: nil, facts: facts, now: t0 + 1)
        }
        #expect(throws: RegentError(.accessDenied, "", field: "approverId")) {
            try request.approve(
                by: admin, identities: [admin], selfIdentities: [admin], justification: nil, facts: facts,
                now: t0 + 3599)
        }
        #expect(request.escalate(stage: 0, now: t0 + 3599).isEmpty)
        #expect(auditActions(request.escalate(stage: 0, now: t0 + 3600)) == ["request.escalated"])
        #expect(request.escalate(stage: 0, now: t0 + 3601).isEmpty)
        _ = try request.approve(
            by: admin, identities: [admin], selfIdentities: [admin], justification: nil, facts: facts, now: t0 + 3600)
        #expect(request.approval?.currentStage == 1)
    }

    /// After the stage timeout a decision is refused and the timer moves the request to timedOut.
    @Test func approvalAfterTimeout() throws {
        var (request, _) = try activate(twoStages)
        #expect(throws: RegentError(.invalidTransition, "", field: "requestId")) {
            try request.approve(
                by: bob, identities: [leads], selfIdentities: [leads], justification: nil, facts: RequestFacts(),
                now: t0 + 7200)
        }
        #expect(request.stageTimedOut(stage: 0, now: t0 + 7199).isEmpty)
        #expect(request.stageTimedOut(stage: 1, now: t0 + 7200).isEmpty)
        #expect(auditActions(request.stageTimedOut(stage: 0, now: t0 + 7200)) == ["request.timed_out"])
        #expect(request.status == .timedOut)
    }

    /// The same approver cannot approve a stage twice; N required approvals need N people.
    @Test func doubleApproval() throws {
        let twoOfThem = policy {
            $0.approval = Approval(stages: [ApprovalStage(approvers: [bob, carol], requiredApprovals: 2)])
        }
        var (request, _) = try activate(twoOfThem)
        let facts = RequestFacts(eligibility: eligibility())
        _ = try request.approve(
            by: bob, identities: [bob], selfIdentities: [bob], justification: nil, facts: facts, now: t0 + 1)
        #expect(throws: RegentError(.conflict, "", field: "approverId")) {
            try request.approve(
                by: bob, identities: [bob], selfIdentities: [bob], justification: nil, facts: facts, now: t0 + 2)
        }
        #expect(request.status == .pendingApproval)
        _ = try request.approve(
            by: carol, identities: [carol], selfIdentities: [carol], justification: nil, facts: facts, now: t0 + 3)
        #expect(request.status == .provisioning)
        #expect(throws: RegentError(.invalidTransition, "", field: "requestId")) {
            try request.approve(
                by: carol, identities: [carol], selfIdentities: [carol], justification: nil, facts: facts, now: t0 + 4)
        }
    }

    /// An approval given by an approver who was disabled since no longer counts.
    @Test func approvalsOfTheOffboardedNoLongerCount() throws {
        let twoOfThree = policy {
            $0.approval = Approval(stages: [ApprovalStage(approvers: [bob, carol, leads], requiredApprovals: 2)])
        }
        var (request, _) = try activate(twoOfThree)
        var facts = RequestFacts(eligibility: eligibility())
        _ = try request.approve(
            by: bob, identities: [bob], selfIdentities: [bob], justification: nil, facts: facts, now: t0 + 1)
        facts.disabledPrincipals = [bob]
        _ = try request.approve(
            by: carol, identities: [carol], selfIdentities: [carol], justification: nil, facts: facts, now: t0 + 2)
        #expect(request.status == .pendingApproval)
        _ = try request.approve(
            by: leads, identities: [leads], selfIdentities: [leads], justification: nil, facts: facts, now: t0 + 3)
        #expect(request.status == .provisioning)
    }

    /// One denial decides; only the requester cancels, and only while it waits.
    @Test func denyAndCancel() throws {
        var (denied, _) = try activate(twoStages)
        #expect(
            auditActions(
                try denied.deny(by: bob, identities: [leads], selfIdentities: [leads], justification: "no", now: t0 + 1)
            ) == [
                "request.denied"
            ])
        #expect(denied.status == .denied)
        var (waiting, _) = try activate(twoStages)
        #expect(throws: RegentError(.accessDenied, "", field: "requestId")) {
            try waiting.cancel(by: bob, scheduled: nil, now: t0 + 1)
        }
        _ = try waiting.cancel(by: alice, scheduled: nil, now: t0 + 1)
        #expect(waiting.status == .canceled)
        #expect(throws: RegentError(.invalidTransition, "", field: "requestId")) {
            try waiting.cancel(by: alice, scheduled: nil, now: t0 + 2)
        }
    }

    /// Activation beyond the maximum, without eligibility, or under the minimum is denied naming the rules.
    @Test func policyRefusals() throws {
        let (tooLong, effects) = try activate(policy { $0.maximumDuration = .hours(1) }, duration: .hours(2))
        #expect(tooLong.status == .denied)
        #expect(tooLong.failedRules == [.maximumDuration])
        #expect(savedAssignments(effects).isEmpty)
        #expect(
            effects == [
                .audit(
                    AuditNote(
                        .requestDenied, .denied, reason: tooLong.reason,
                        details: [
                            "requestId": tooLong.id.description, "action": "selfActivate", "status": "denied",
                            "duration": "PT2H",
                            "justification": "INC-42 failover", "failedRules": "maximumDuration",
                        ]))
            ])
        let (notEligible, _) = try activate(policy { _ in }, facts: RequestFacts())
        #expect(notEligible.failedRules == [.eligibility])
        let (tooShort, _) = try activate(policy { _ in }, duration: .minutes(4))
        #expect(tooShort.failedRules == [.minimumDuration])
        let (noMfa, _) = try activate(policy { _ in }, context: RequestContext(now: t0, mfaVerifiedAt: t0 - 601))
        #expect(noMfa.failedRules == [.requireMfa])
    }

    /// An activation never outlives the eligibility it came from.
    @Test func cappedAtEligibilityEnd() throws {
        let (_, effects) = try activate(policy { _ in }, facts: RequestFacts(eligibility: eligibility(end: t0 + 1800)))
        #expect(savedAssignments(effects).first?.end == t0 + 1800)
    }

    /// A scheduled activation starts later and the window is counted from that start.
    @Test func scheduledStart() throws {
        var (request, effects) = try activate(policy { _ in }, start: t0 + 600)
        #expect(request.status == .scheduled)
        var assignment = try #require(savedAssignments(effects).first)
        #expect(assignment.state == .scheduled)
        #expect(effects.contains(.schedule(.assignmentStart(assignment.id), at: t0 + 600)))
        #expect(assignment.begin(now: t0 + 599).isEmpty)
        let started = assignment.begin(now: t0 + 600)
        #expect(started.contains(.grant(assignment.id)))
        #expect(started.contains(.schedule(.assignmentExpiry(assignment.id), at: t0 + 600 + 3600)))
        _ = request.assignmentStarted(kind: .active, now: t0 + 600)
        #expect(request.status == .provisioning)
        _ = request.provisioned(now: t0 + 601)
        #expect(request.status == .provisioned)
    }

    /// Extending an activation is bounded by the maximum counted from now.
    @Test func extendBeyondPolicy() throws {
        let (_, effects) = try activate(policy { $0.maximumDuration = .hours(2) })
        let activation = try #require(savedAssignments(effects).first)
        func extend(by duration: ISODuration, at now: Date) throws -> (Request, [Effect]) {
            try Request.submit(
                id: id(701), newAssignmentId: id(801),
                draft: RequestDraft(
                    action: .selfExtend, requesterId: alice, principalId: alice, roleId: dbaRole, scope: prod,
                    kind: .active,
                    justification: "more", duration: duration, targetAssignmentId: activation.id),
                policy: policy { $0.maximumDuration = .hours(2) },
                facts: RequestFacts(target: activation, eligibility: eligibility()),
                context: RequestContext(now: now, mfaVerifiedAt: now), safeguards: Safeguards())
        }
        let (refused, _) = try extend(by: .hours(2), at: t0 + 600)
        #expect(refused.failedRules == [.maximumDuration])
        let (extended, extendedEffects) = try extend(by: .minutes(30), at: t0 + 600)
        #expect(extended.status == .provisioned)
        #expect(savedAssignments(extendedEffects).first?.end == t0 + 3600 + 1800)
    }

    /// The last active regent-admin assignment can be neither removed nor left to expire.
    @Test func lastAdministrator() throws {
        var (adminAssignment, _) = Assignment.open(
            id: id(900), kind: .active, principalId: admin, roleId: id(101), scope: .root, start: t0, end: t0 + 3600,
            requestId: nil, activatedFrom: nil, now: t0)
        let (removal, effects) = try Request.submit(
            id: id(702), newAssignmentId: id(802),
            draft: RequestDraft(
                action: .adminRemove, requesterId: bob, principalId: admin, roleId: id(101), scope: .root,
                kind: .active,
                targetAssignmentId: adminAssignment.id),
            policy: .defaults,
            facts: RequestFacts(
                target: adminAssignment,
                administratorCoverage: AdministratorCoverage(
                    assignments: [adminAssignment], graph: MembershipGraph(), users: [admin])),
            context: RequestContext(now: t0 + 10), safeguards: Safeguards())
        #expect(removal.failedRules == [.lastAdministrator])
        #expect(!effects.contains { if case .revoke = $0 { true } else { false } })
        let expiry = adminAssignment.expire(now: t0 + 3600, isLastAdministrator: true)
        #expect(auditActions(expiry) == ["assignment.expiry_prevented"])
        #expect(adminAssignment.isPermanent && adminAssignment.state == .active)
    }

    /// No self-deactivation within the configured delay; afterwards the activation ends and is revoked.
    @Test func selfDeactivationDelay() throws {
        let (_, effects) = try activate(policy { _ in })
        let activation = try #require(savedAssignments(effects).first)
        func deactivate(at now: Date) throws -> (Request, [Effect]) {
            try Request.submit(
                id: id(703), newAssignmentId: id(803),
                draft: RequestDraft(
                    action: .selfDeactivate, requesterId: alice, principalId: alice, roleId: dbaRole, scope: prod,
                    kind: .active, targetAssignmentId: activation.id),
                policy: policy { _ in }, facts: RequestFacts(target: activation), context: RequestContext(now: now),
                safeguards: Safeguards(selfDeactivationDelay: .minutes(5)))
        }
        #expect(try deactivate(at: t0 + 299).0.failedRules == [.selfDeactivationDelay])
        let (done, doneEffects) = try deactivate(at: t0 + 300)
        #expect(done.status == .revoked)
        #expect(doneEffects.contains(.revoke(activation.id)))
        #expect(doneEffects.contains(.closeRequest(id(700), because: .deactivated)))
    }

    /// An admin assigning themselves needs another administrator; with none, it is denied.
    @Test func separationOfDuties() throws {
        func assignSelf(administrators: Set<Principal.ID>) throws -> Request {
            try Request.submit(
                id: id(704), newAssignmentId: id(804),
                draft: RequestDraft(
                    action: .adminAssign, requesterId: admin, principalId: admin, roleId: dbaRole, scope: prod,
                    kind: .eligible),
                policy: .defaults, facts: RequestFacts(administrators: administrators),
                context: RequestContext(now: t0),
                safeguards: Safeguards()
            ).0
        }
        #expect(try assignSelf(administrators: [admin]).failedRules == [.separationOfDuties])
        let pending = try assignSelf(administrators: [admin, bob])
        #expect(pending.status == .pendingApproval)
        #expect(pending.approval?.stages.first?.approvers == [bob])
    }

    /// Structural refusals throw and name the field: conflicts, unknown targets, acting for someone else.
    @Test func structuralRefusals() throws {
        #expect(throws: RegentError(.conflict, "", field: "roleId")) {
            try activate(policy { _ in }, facts: RequestFacts(eligibility: eligibility(), existing: eligibility()))
        }
        #expect(throws: RegentError(.notFound, "", field: "assignmentId")) {
            try Request.submit(
                id: id(705), newAssignmentId: id(805),
                draft: RequestDraft(
                    action: .adminRemove, requesterId: admin, principalId: alice, roleId: dbaRole, scope: prod,
                    kind: .eligible, targetAssignmentId: id(999)),
                policy: .defaults, facts: RequestFacts(), context: RequestContext(now: t0), safeguards: Safeguards())
        }
        #expect(throws: RegentError(.accessDenied, "", field: "principalId")) {
            try Request.submit(
                id: id(706), newAssignmentId: id(806),
                draft: RequestDraft(
                    action: .selfActivate, requesterId: bob, principalId: alice, roleId: dbaRole, scope: prod,
                    kind: .active),
                policy: .defaults, facts: RequestFacts(), context: RequestContext(now: t0), safeguards: Safeguards())
        }
    }

    /// An assignment ends exactly once.
    @Test func endsExactlyOnce() throws {
        var assignment = eligibility()
        _ = try assignment.finish(.removed, now: t0)
        #expect(throws: RegentError(.invalidTransition, "", field: "assignmentId")) {
            try assignment.finish(.expired, now: t0)
        }
        #expect(assignment.expire(now: t0 + 10, isLastAdministrator: false).isEmpty)
    }
}
