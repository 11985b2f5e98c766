import Foundation
import RegentCore
import RegentTestSupport
import Testing

/// The safeguards the abuse tests broke: self-assignment through a group, administrative changes to
/// one's own activation, extensions past the eligibility or the activation maximum, scheduled
/// activations against a limit, deciding about a group one is in, and the last administrator.
struct SafeguardTests {
    let ops: Principal.ID = id(30)
    let adminRole: Role.ID = id(101)

    /// An activation of alice's dba role at /prod, from `eligibility()`, ending at t0 + 5 min.
    var activation: Assignment {
        Assignment.open(
            id: id(610), kind: .active, principalId: alice, roleId: dbaRole, scope: prod, start: t0, end: t0 + 300,
            requestId: id(611), activatedFrom: eligibility().id, now: t0
        ).0
    }

    func file(
        _ action: Request.Action, by requester: Principal.ID, for principal: Principal.ID = alice,
        kind: Assignment.Kind = .active, target: Assignment? = nil, duration: ISODuration? = nil,
        facts: RequestFacts, policy: EffectivePolicy = .defaults, now: Date = t0 + 60
    ) throws -> (Request, [Effect]) {
        try Request.submit(
            id: id(720), newAssignmentId: id(820),
            draft: RequestDraft(
                action: action, requesterId: requester, principalId: principal, roleId: target?.roleId ?? dbaRole,
                scope: target?.scope ?? prod, kind: kind, justification: "needed", duration: duration,
                targetAssignmentId: target?.id),
            policy: policy, facts: facts, context: RequestContext(now: now, mfaVerifiedAt: now),
            safeguards: Safeguards())
    }

    /// Assigning a role to a group one is in is assigning it to oneself: it waits for another
    /// administrator, and no member of the group may be that administrator.
    @Test func selfAssignmentThroughGroup() throws {
        let (request, effects) = try file(
            .adminAssign, by: bob, for: ops, kind: .active, duration: .days(1),
            facts: RequestFacts(administrators: [bob, carol, admin], beneficiaries: [ops, bob, carol]))
        #expect(request.status == .pendingApproval)
        #expect(request.approval?.stages.map(\.approvers) == [[admin]])
        #expect(auditActions(effects) == ["request.created"])
        #expect(!effects.contains { if case .saveAssignment = $0 { true } else { false } })

        var pending = request
        #expect(throws: RegentError(.accessDenied, "", field: "approverId")) {
            // carol is an administrator and in ops: she would approve her own access.
            try pending.approve(
                by: carol, identities: [carol], selfIdentities: [carol, ops], justification: nil, facts: RequestFacts(),
                now: t0 + 120)
        }
        let (alone, _) = try file(
            .adminAssign, by: bob, for: ops, kind: .active, duration: .days(1),
            facts: RequestFacts(administrators: [bob, carol], beneficiaries: [ops, bob, carol]))
        #expect(alone.status == .denied)
        #expect(alone.failedRules == [.separationOfDuties])
    }

    /// An administrator's update, extension or renewal of an assignment they hold (directly or
    /// through a group) needs a second administrator, like an assignment does.
    @Test(arguments: [Request.Action.adminUpdate, .adminExtend])
    func adminChangeOfOwnAssignment(action: Request.Action) throws {
        let own = Assignment.open(
            id: id(620), kind: .active, principalId: ops, roleId: dbaRole, scope: prod, start: t0, end: t0 + 86_400,
            requestId: nil, activatedFrom: nil, now: t0
        ).0
        let facts = RequestFacts(target: own, administrators: [bob, admin], beneficiaries: [ops, bob])
        let (request, effects) = try file(action, by: bob, for: ops, target: own, duration: .days(2), facts: facts)
        #expect(request.status == .pendingApproval)
        #expect(request.approval?.stages.map(\.approvers) == [[admin]])
        #expect(auditActions(effects) == ["request.created"])
        // Somebody else's assignment: carried out at once.
        let (other, _) = try file(
            action, by: admin, for: ops, target: own, duration: .days(2),
            facts: RequestFacts(target: own, administrators: [bob, admin], beneficiaries: [ops, bob]))
        #expect(other.status == .provisioned)
    }

    /// No action extends an activation past the policy's activation maximum counted from now,
    /// whatever the active-assignment rules allow.
    @Test(arguments: [Request.Action.adminExtend, .selfExtend, .adminUpdate])
    func activationMaximumBindsEveryExtension(action: Request.Action) throws {
        let limited = policy {
            $0.maximumDuration = .hours(1)
            $0.activeExpiration = AssignmentExpiration(allowPermanent: false, maximumDuration: .days(90))
        }
        let facts = RequestFacts(target: activation, eligibility: eligibility(), administrators: [admin, bob])
        let (refused, effects) = try file(
            action, by: action == .selfExtend ? alice : admin, target: activation, duration: .days(30),
            facts: facts, policy: limited)
        #expect(refused.status == .denied)
        #expect(refused.failedRules == [.maximumDuration])
        #expect(auditActions(effects) == ["request.denied"])
    }

    /// An extension of an activation ends no later than the eligibility it came from.
    @Test func extensionClippedToEligibility() throws {
        let ending = eligibility(end: t0 + 900)
        let (extended, effects) = try file(
            .selfExtend, by: alice, target: activation, duration: .minutes(30),
            facts: RequestFacts(target: activation, eligibility: ending))
        #expect(extended.status == .provisioned)
        #expect(savedAssignments(effects).map(\.end) == [t0 + 900])
        #expect(effects.contains(.schedule(.assignmentExpiry(activation.id), at: t0 + 900)))
        // With the eligibility gone, there is nothing to extend from.
        let (refused, _) = try file(
            .selfExtend, by: alice, target: activation, duration: .minutes(30),
            facts: RequestFacts(target: activation, eligibility: nil))
        #expect(refused.failedRules == [.eligibility])
    }

    /// Scheduled activations count against a limit like past ones: 1 per hour cannot be had
    /// twice by starting both 40 seconds ahead, nor by one now and one scheduled later.
    @Test func scheduledActivationsCountTowardTheLimit() throws {
        let once = policy { $0.maxActivations = .atMost(ActivationLimit(count: 1, window: .hours(1))) }
        func activateAt(_ start: Date?, others: [Date]) throws -> Request {
            try activate(
                once, context: RequestContext(now: t0, mfaVerifiedAt: t0, recentActivations: others), start: start
            ).0
        }
        #expect(try activateAt(t0 + 40, others: []).status == .scheduled)
        #expect(try activateAt(t0 + 40, others: [t0 + 40]).failedRules == [.maxActivations])
        #expect(try activateAt(nil, others: [t0 + 40]).failedRules == [.maxActivations])
        #expect(try activateAt(t0 + 3600, others: [t0 - 1]).status == .scheduled)
        #expect(try activateAt(t0 + 3599, others: [t0 + 7198]).failedRules == [.maxActivations])
        let twice = ActivationLimit(count: 2, window: .hours(1))
        #expect(!twice.isExceeded(adding: t0, to: [t0 - 3000]))
        #expect(twice.isExceeded(adding: t0, to: [t0 - 3000, t0 + 500]))
        #expect(!twice.isExceeded(adding: t0, to: [t0 - 3600, t0 + 3600]))
    }

    /// Deactivating, or removing the eligibility behind, the only administrator's regent-admin
    /// is refused as `lastAdministrator`; with another enabled administrator it goes through.
    @Test func lastAdministratorBySelfDeactivationAndDerivedActivation() throws {
        let eligible = Assignment.open(
            id: id(630), kind: .eligible, principalId: admin, roleId: adminRole, scope: .root, start: t0 - 86_400,
            end: nil, requestId: nil, activatedFrom: nil, now: t0 - 86_400
        ).0
        let activated = Assignment.open(
            id: id(631), kind: .active, principalId: admin, roleId: adminRole, scope: .root, start: t0 - 600,
            end: t0 + 3000, requestId: id(632), activatedFrom: eligible.id, now: t0 - 600
        ).0
        let onlyAdmin = AdministratorCoverage(assignments: [activated], graph: MembershipGraph(), users: [admin, bob])
        let deactivation = try file(
            .selfDeactivate, by: admin, for: admin, target: activated,
            facts: RequestFacts(target: activated, administratorCoverage: onlyAdmin))
        #expect(deactivation.0.failedRules == [.lastAdministrator])
        #expect(auditActions(deactivation.1) == ["request.denied"])
        let removal = try file(
            .adminRemove, by: bob, for: admin, kind: .eligible, target: eligible,
            facts: RequestFacts(target: eligible, derivedActivations: [activated], administratorCoverage: onlyAdmin))
        #expect(removal.0.failedRules == [.lastAdministrator])

        let bobs = Assignment.open(
            id: id(633), kind: .active, principalId: bob, roleId: adminRole, scope: .root, start: t0 - 600, end: nil,
            requestId: nil, activatedFrom: nil, now: t0 - 600
        ).0
        let twoAdmins = AdministratorCoverage(
            assignments: [activated, bobs], graph: MembershipGraph(), users: [admin, bob])
        let allowed = try file(
            .adminRemove, by: bob, for: admin, kind: .eligible, target: eligible,
            facts: RequestFacts(target: eligible, derivedActivations: [activated], administratorCoverage: twoAdmins))
        #expect(allowed.0.status == .revoked)
        #expect(allowed.1.contains(.revoke(activated.id)))
    }

    /// Coverage counts enabled users reached through enabled groups at that time: an empty group,
    /// a disabled user, a disabled group or a service is nobody.
    @Test func coverageCountsOnlyEnabledUsers() {
        let service: Principal.ID = id(40)
        func active(_ n: Int, _ principal: Principal.ID, end: Date? = nil) -> Assignment {
            Assignment.open(
                id: id(n), kind: .active, principalId: principal, roleId: adminRole, scope: .root, start: t0, end: end,
                requestId: nil, activatedFrom: nil, now: t0
            ).0
        }
        let mine = active(640, admin)
        let emptyGroup = active(641, ops)
        let disabledUser = active(642, carol)
        let serviceAccount = active(643, service)
        var graph = MembershipGraph(edges: [(leads, bob)], disabled: [carol])
        let coverage = AdministratorCoverage(
            assignments: [mine, emptyGroup, disabledUser, serviceAccount, active(644, leads, end: t0 + 60)],
            graph: graph, users: [admin, bob, carol])
        #expect(coverage.administrators(at: t0 + 10) == [admin, bob])
        #expect(coverage.administrators(at: t0 + 60) == [admin])
        #expect(coverage.isLastCover(mine, at: t0 + 60))
        #expect(coverage.isLost(by: coverage.ending([mine.id]), at: t0 + 60))
        #expect(!coverage.isLost(by: coverage.ending([mine.id]), at: t0 + 10))
        graph.setEnabled(leads, false)
        var withoutLeads = coverage
        withoutLeads.graph = graph
        #expect(withoutLeads.administrators(at: t0 + 10) == [admin])
        #expect(!coverage.isLastCover(disabledUser, at: t0 + 60))
    }

    /// A disabled group gives nothing and passes nothing on, but still counts as its members'
    /// own for conflicts of interest; cycles are found through disabled groups too.
    @Test func disabledGroupsInTheExpansion() {
        let outer: Principal.ID = id(31)
        var graph = MembershipGraph(edges: [(ops, bob), (outer, ops)], disabled: [ops])
        #expect(graph.identities(of: bob) == [bob])
        #expect(graph.selfIdentities(of: bob) == [bob, ops, outer])
        #expect(graph.transitiveMembers(of: outer).isEmpty)
        #expect(graph.everyMember(of: outer) == [outer, ops, bob])
        #expect(graph.wouldCreateCycle(adding: outer, to: ops))
        graph.setEnabled(ops, true)
        #expect(graph.identities(of: bob) == [bob, ops, outer])
        graph.setEnabled(bob, false)
        #expect(graph.identities(of: bob).isEmpty)
        #expect(graph.transitiveMembers(of: outer) == [ops])
    }

    /// Nobody dismisses an alert about a group they are in (disabled or not); others may.
    @Test func noDismissalOfAnAlertAboutOnesGroup() throws {
        var alert = Alert(
            rule: .tooManyAdmins, state: .open,
            items: [AlertItem(key: "ops", summary: "ops holds it", principalId: ops)],
            raisedAt: t0, updatedAt: t0, dismissal: nil)
        #expect(throws: RegentError(.accessDenied, "", field: "rule")) {
            try alert.dismiss(by: bob, selfIdentities: [bob, ops], reason: "fine", at: t0 + 1)
        }
        #expect(alert.state == .open)
        try alert.dismiss(by: carol, selfIdentities: [carol, leads], reason: "expected during migration", at: t0 + 2)
        #expect(alert.state == .dismissed && alert.dismissal?.by == carol)
    }
}
