import Foundation
import RegentCore
import RegentTestSupport
import Testing

/// Who is told what is decided with the event, as `.notify` effects of the same transition.
struct NoticeTests {
    func notices(_ effects: [Effect]) -> [Notice] {
        effects.compactMap { if case .notify(let notice) = $0 { notice } else { nil } }
    }

    @Test func theStoryOfAnApprovedActivation() throws {
        var (request, effects) = try activate(twoStages)
        #expect(
            notices(effects) == [
                .approvalNeeded(request.id, stage: 0, approvers: [leads], escalated: false, deadline: t0 + 7200)
            ])
        // The escalation asks its own approvers; the exact effects of the transition.
        effects = request.escalate(stage: 0, now: t0 + 3600)
        guard case .audit(let escalated) = effects.first else { throw RegentError(.invalidArgument, "not audited") }
        #expect(escalated.action == .requestEscalated)
        #expect(
            effects == [
                .audit(escalated),
                .notify(
                    .approvalNeeded(request.id, stage: 0, approvers: [admin], escalated: true, deadline: t0 + 7200)),
            ])
        let facts = RequestFacts(eligibility: eligibility())
        effects = try request.approve(
            by: bob, identities: [bob, leads], selfIdentities: [bob, leads], justification: "ok", facts: facts,
            now: t0 + 3700)
        #expect(
            notices(effects) == [
                .approvalNeeded(
                    request.id, stage: 1, approvers: [carol], escalated: false,
                    deadline: t0 + 3700 + ApprovalStage.defaultTimeout.timeInterval)
            ])
        effects = try request.approve(
            by: carol, identities: [carol], selfIdentities: [carol], justification: "ok", facts: facts, now: t0 + 4000)
        let assignment = try #require(savedAssignments(effects).first)
        #expect(notices(effects) == [.requestApproved(request.id), .activationStarted(assignment.id)])

        var active = assignment
        #expect(notices(try active.finish(.deactivated, now: t0 + 5000)) == [.activationEnded(assignment.id)])
    }

    @Test func denialsAndTimeoutsTellTheRequester() throws {
        var (denied, _) = try activate(twoStages)
        let deny = try denied.deny(
            by: bob, identities: [bob, leads], selfIdentities: [bob, leads], justification: "not now", now: t0 + 60)
        #expect(notices(deny) == [.requestDenied(denied.id, reason: "not now", timedOut: false)])

        var (late, _) = try activate(twoStages)
        let timedOut = late.stageTimedOut(stage: 0, now: t0 + 7200)
        #expect(notices(timedOut) == [.requestDenied(late.id, reason: late.reason, timedOut: true)])
        // A refusal by policy tells nobody: the requester has the answer.
        let (refused, effects) = try activate(twoStages, justification: nil)
        #expect(refused.status == .denied && notices(effects) == [])
    }

    @Test func assignmentsMadeEndedAndCanceled() throws {
        let (made, effects) = Assignment.open(
            id: id(520), kind: .eligible, principalId: bob, roleId: dbaRole, scope: prod, start: t0, end: nil,
            requestId: nil, activatedFrom: nil, now: t0)
        #expect(notices(effects) == [.assignmentCreated(made.id)])
        var removed = made
        #expect(notices(try removed.finish(.removed, now: t0 + 60)) == [.assignmentRemoved(made.id)])

        // A scheduled activation tells when it starts, and nothing when canceled first.
        var (scheduled, opened) = Assignment.open(
            id: id(521), kind: .active, principalId: alice, roleId: dbaRole, scope: prod, start: t0 + 600,
            end: t0 + 4200, requestId: nil, activatedFrom: eligibility().id, now: t0)
        #expect(notices(opened) == [])
        var canceled = scheduled
        #expect(notices(try canceled.finish(.canceled, now: t0 + 60)) == [])
        #expect(notices(scheduled.begin(now: t0 + 600)) == [.activationStarted(scheduled.id)])
    }
}
