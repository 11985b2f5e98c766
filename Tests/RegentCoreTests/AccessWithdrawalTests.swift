import Foundation
import RegentCore
import RegentTestSupport
import Testing

/// What a directory change takes away: disabling, deleting, and leaving a group, each with the
/// exact assignments ended and requests withdrawn.
struct AccessWithdrawalTests {
    let dbas: Principal.ID = id(20)

    func assignment(
        _ n: Int, _ kind: Assignment.Kind, of principal: Principal.ID, from origin: Assignment.ID? = nil,
        start: Date = t0
    ) -> Assignment {
        Assignment.open(
            id: id(n), kind: kind, principalId: principal, roleId: dbaRole, scope: prod, start: start,
            end: kind == .active ? t0 + 3600 : nil, requestId: id(n + 1000), activatedFrom: origin, now: t0
        ).0
    }

    /// alice is in dbas; dbas is eligible (601); alice activated through dbas (602), holds her own
    /// eligibility (603) and an activation of it (604); bob activated through dbas too (605).
    var live: [Assignment] {
        [
            assignment(601, .eligible, of: dbas),
            assignment(602, .active, of: alice, from: id(601)),
            assignment(603, .eligible, of: alice),
            assignment(604, .active, of: alice, from: id(603)),
            assignment(605, .active, of: bob, from: id(601)),
        ]
    }

    var graph: MembershipGraph { MembershipGraph(edges: [(dbas, alice), (dbas, bob)]) }

    func pending(_ n: Int, for principal: Principal.ID) throws -> Request {
        let (request, _) = try Request.submit(
            id: id(n), newAssignmentId: id(n + 100),
            draft: RequestDraft(
                action: .selfActivate, requesterId: principal, principalId: principal, roleId: dbaRole,
                scope: prod, kind: .active, justification: "INC-1", duration: .hours(1)),
            policy: policy { $0.approval = Approval(stages: [ApprovalStage(approvers: [carol])]) },
            facts: RequestFacts(eligibility: eligibility()), context: RequestContext(now: t0, mfaVerifiedAt: t0),
            safeguards: Safeguards())
        return request
    }

    func ended(_ decision: AccessWithdrawal) -> [String] {
        decision.endings.map { "\($0.assignment.id.uuid.uuidString.suffix(3)):\($0.reason.rawValue)" }
    }

    @Test func disablingAUserEndsEveryActivationAndKeepsEligibility() throws {
        var after = graph
        after.setEnabled(alice, false)
        let waiting = try pending(700, for: alice)
        let decision = AccessWithdrawal.decide(
            live: live, pending: [waiting, try pending(710, for: bob)], graph: after, eligibility: .keep)
        #expect(ended(decision) == ["602:withdrawn", "604:withdrawn"])
        #expect(decision.withdrawn.map(\.id) == [waiting.id])
    }

    @Test func disablingAUserCanRemoveEligibilityToo() {
        var after = graph
        after.setEnabled(alice, false)
        let decision = AccessWithdrawal.decide(live: live, pending: [], graph: after, eligibility: .remove)
        #expect(ended(decision) == ["603:removed", "602:withdrawn", "604:withdrawn"])
    }

    @Test func leavingAGroupEndsOnlyWhatTheGroupGave() {
        var after = graph
        after.remove(member: alice, from: dbas)
        let decision = AccessWithdrawal.decide(live: live, pending: [], graph: after, eligibility: .keep)
        #expect(ended(decision) == ["602:withdrawn"])
    }

    /// A nested group: alice is in dbas through oncall; oncall leaving dbas takes alice's
    /// activation through dbas.
    @Test func leavingThroughANestedGroup() {
        let oncall: Principal.ID = id(21)
        let nested = MembershipGraph(edges: [(dbas, oncall), (oncall, alice)])
        var after = nested
        after.remove(member: oncall, from: dbas)
        let decision = AccessWithdrawal.decide(
            live: live.filter { $0.principalId != bob }, pending: [], graph: after, eligibility: .keep)
        #expect(ended(decision) == ["602:withdrawn"])
        #expect(AccessWithdrawal.affected(by: oncall, in: nested) == [oncall, alice])
    }

    @Test func disablingAGroupEndsItsMembersActivationsAndKeepsTheirOwn() throws {
        var after = graph
        after.setEnabled(dbas, false)
        let decision = AccessWithdrawal.decide(
            live: live, pending: [try pending(700, for: alice)], graph: after, eligibility: .keep)
        #expect(ended(decision) == ["602:withdrawn", "605:withdrawn"])
        #expect(decision.withdrawn.isEmpty)
    }

    @Test func deletingEndsEverythingOfTheDeleted() {
        var after = graph
        after.remove(member: alice, from: dbas)
        after.setEnabled(alice, false)
        let decision = AccessWithdrawal.decide(
            live: live, pending: [], graph: after, deleted: [alice], eligibility: .keep)
        #expect(ended(decision) == ["603:removed", "602:withdrawn", "604:withdrawn"])
    }

    /// A scheduled activation is withdrawn as well; an enabled user keeps everything.
    @Test func scheduledAndUntouched() {
        let scheduled = assignment(606, .active, of: alice, from: id(603), start: t0 + 600)
        var after = graph
        after.setEnabled(alice, false)
        #expect(
            ended(AccessWithdrawal.decide(live: [scheduled], pending: [], graph: after, eligibility: .keep))
                == ["606:withdrawn"])
        #expect(AccessWithdrawal.decide(live: live, pending: [], graph: graph, eligibility: .keep).endings.isEmpty)
    }

    /// Withdrawing a pending request cancels it with the reason, audited, once.
    @Test func withdrawingARequest() throws {
        var after = graph
        after.setEnabled(bob, false)
        var request = try pending(720, for: bob)
        let decision = AccessWithdrawal.decide(live: [], pending: [request], graph: after, eligibility: .keep)
        #expect(decision.withdrawn.map(\.id) == [request.id])
        let effects = request.withdraw(reason: "bob was disabled", now: t0 + 5)
        #expect(request.status == .canceled)
        #expect(request.reason == "bob was disabled")
        #expect(auditActions(effects) == ["request.withdrawn"])
        #expect(request.withdraw(reason: "again", now: t0 + 6).isEmpty)
    }

    /// Ending an activation revokes it and closes its request, exactly once.
    @Test func endingRevokes() throws {
        var activation = assignment(602, .active, of: alice, from: id(601))
        let effects = try activation.finish(.withdrawn, now: t0 + 10)
        #expect(auditActions(effects) == ["assignment.withdrawn"])
        #expect(effects.contains { if case .revoke(let revoked) = $0 { revoked == activation.id } else { false } })
        #expect(throws: RegentError.self) { try activation.finish(.withdrawn, now: t0 + 11) }
    }
}
