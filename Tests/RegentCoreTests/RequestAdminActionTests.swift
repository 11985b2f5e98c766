import Foundation
import RegentCore
import RegentTestSupport
import Testing

/// The admin actions and renewals, each filed against a real assignment value.
struct RequestAdminActionTests {
    /// An active assignment of alice, made by an admin, ending in 10 days.
    let assignment = Assignment.open(
        id: id(600), kind: .active, principalId: alice, roleId: dbaRole, scope: prod, start: t0, end: t0 + 10 * 86_400,
        requestId: id(601), activatedFrom: nil, now: t0
    ).0

    func file(
        _ action: Request.Action, by requester: Principal.ID = admin, target: Assignment?, duration: ISODuration?,
        policy: EffectivePolicy = .defaults, administrators: Set<Principal.ID> = [admin, bob], now: Date = t0 + 86_400,
        existing: Assignment? = nil
    ) throws -> (Request, [Effect]) {
        try Request.submit(
            id: id(710), newAssignmentId: id(810),
            draft: RequestDraft(
                action: action, requesterId: requester, principalId: alice, roleId: dbaRole, scope: prod, kind: .active,
                justification: "needed", duration: duration, targetAssignmentId: target?.id),
            policy: policy, facts: RequestFacts(target: target, existing: existing, administrators: administrators),
            context: RequestContext(now: now), safeguards: Safeguards())
    }

    /// adminUpdate moves the end to start + duration, within the active assignment maximum.
    @Test func adminUpdate() throws {
        let (updated, effects) = try file(.adminUpdate, target: assignment, duration: .days(20))
        #expect(updated.status == .provisioned)
        #expect(savedAssignments(effects).first?.end == t0 + 20 * 86_400)
        #expect(effects.contains(.schedule(.assignmentExpiry(assignment.id), at: t0 + 20 * 86_400)))
        #expect(try file(.adminUpdate, target: assignment, duration: .days(200)).0.failedRules == [.activeExpiration])
        #expect(try file(.adminUpdate, target: assignment, duration: nil).0.failedRules == [.activeExpiration])
    }

    /// adminExtend adds time to the current end; the result stays within the maximum from now.
    @Test func adminExtend() throws {
        let (extended, effects) = try file(.adminExtend, target: assignment, duration: .days(5))
        #expect(extended.status == .provisioned)
        #expect(savedAssignments(effects).first?.end == t0 + 15 * 86_400)
        #expect(try file(.adminExtend, target: assignment, duration: .days(175)).0.failedRules == [.activeExpiration])
        #expect(throws: RegentError.invalid("duration", "")) {
            try file(.adminExtend, target: assignment, duration: nil)
        }
    }

    /// Only an expired assignment is renewed; the renewal is a new assignment with a new window.
    @Test func adminRenew() throws {
        var expired = assignment
        _ = expired.expire(now: t0 + 10 * 86_400, isLastAdministrator: false)
        #expect(throws: RegentError(.invalidTransition, "", field: "assignmentId")) {
            try file(.adminRenew, target: assignment, duration: .days(10))
        }
        let now = t0 + 11 * 86_400
        let (renewed, effects) = try file(.adminRenew, target: expired, duration: .days(10), now: now)
        #expect(renewed.status == .provisioning)
        let created = try #require(savedAssignments(effects).first)
        #expect(created.id == id(810))
        #expect(created.start == now && created.end == now + 10 * 86_400)
        #expect(throws: RegentError(.conflict, "", field: "roleId")) {
            try file(.adminRenew, target: expired, duration: .days(10), now: now, existing: created)
        }
    }

    /// selfRenew always waits for another administrator; with none other than the requester, it is denied.
    @Test func selfRenewNeedsAnAdministrator() throws {
        var expired = assignment
        _ = expired.expire(now: t0 + 10 * 86_400, isLastAdministrator: false)
        let (pending, _) = try file(
            .selfRenew, by: alice, target: expired, duration: .days(10), administrators: [alice, bob])
        #expect(pending.status == .pendingApproval)
        #expect(pending.approval?.stages.first?.approvers == [bob])
        let (denied, _) = try file(.selfRenew, by: alice, target: expired, duration: .days(10), administrators: [alice])
        #expect(denied.failedRules == [.separationOfDuties])
    }

    /// selfExtend of an admin-made assignment needs an administrator's approval, never the policy's auto-approval.
    @Test func selfExtendOfAssignmentNeedsAdministrator() throws {
        let (pending, _) = try file(.selfExtend, by: alice, target: assignment, duration: .days(5))
        #expect(pending.status == .pendingApproval)
        #expect(pending.approval?.stages.first?.approvers.contains(alice) == false)
    }

    /// Canceling a scheduled request cancels its scheduled assignment without touching access.
    @Test func cancelScheduled() throws {
        var (request, effects) = try activate(policy { _ in }, start: t0 + 3600)
        let scheduled = try #require(savedAssignments(effects).first)
        let canceled = try request.cancel(by: alice, scheduled: scheduled, now: t0 + 60)
        #expect(request.status == .canceled)
        #expect(savedAssignments(canceled).first?.endReason == .canceled)
        #expect(!canceled.contains { if case .revoke = $0 { true } else { false } })
    }
}
