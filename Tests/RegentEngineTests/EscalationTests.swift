import Foundation
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

/// The abuse-test findings, end to end through the engine over a real SQLite store: privilege
/// through groups, administrative changes to one's own activation, disabled groups, reviewing
/// one's own access, the last administrator on every path, and guessing a second factor.
struct EscalationTests {
    /// A privileged-role-admin (`pra`) in force for a day.
    func privilegedRoleAdmin(_ h: Harness, _ name: String = "pra") async throws -> ActorContext {
        let pra = try await h.user(name)
        try await h.assign(
            pra.principalId, try await h.engine.directory.role(named: "privileged-role-admin"), kind: .active,
            duration: .days(1))
        return pra
    }

    /// Assigning regent-admin to a group one is in waits for another administrator, who may not
    /// be a member of that group; nothing is granted meanwhile.
    @Test func selfAssignmentThroughAGroup() async throws {
        try await withHarness { h in
            let pra = try await privilegedRoleAdmin(h)
            let crew = try await h.group("crew", members: [pra])
            let regentAdmin = try await h.engine.directory.role(named: "regent-admin")
            let request = try await h.engine.requests.submit(
                RequestDraft(
                    action: .adminAssign, requesterId: pra.principalId, principalId: crew, roleId: regentAdmin.id,
                    scope: .root, kind: .active, justification: "needed", duration: .days(1)),
                by: pra)
            #expect(request.status == .pendingApproval)
            #expect(request.approval?.stages.first?.approvers == [h.admin.principalId])
            #expect(try await !h.engine.permits(pra, .managePrincipals))
            await #expect(throws: RegentError(.accessDenied, "", field: "approverId")) {
                _ = try await h.engine.requests.approve(request.id, by: pra, justification: nil)
            }
            _ = try await h.engine.requests.approve(request.id, by: h.admin, justification: "ok")
            #expect(try await h.engine.permits(pra, .managePrincipals))
        }
    }

    /// `adminExtend P30D` on one's own 5-minute activation of a role capped at 1 hour is refused;
    /// on somebody else's activation it is refused as well, past the activation maximum.
    @Test func adminExtendOfAnActivation() async throws {
        try await withHarness { h in
            let pra = try await privilegedRoleAdmin(h)
            let role = try await h.role("dba") { $0.maximumDuration = .hours(1) }
            try await h.assign(pra.principalId, role)
            let activation = try await h.activate(pra, role, duration: .minutes(5))
            let assignmentId = try #require(activation.assignmentId)
            func extend(by actor: ActorContext, _ duration: ISODuration) async throws -> Request {
                try await h.engine.requests.submit(
                    RequestDraft(
                        action: .adminExtend, requesterId: actor.principalId, principalId: pra.principalId,
                        roleId: role.id, scope: .root, kind: .active, justification: "longer", duration: duration,
                        targetAssignmentId: assignmentId),
                    by: actor)
            }
            #expect(try await refusal { _ = try await extend(by: pra, .days(30)) }?.failedRules == [.maximumDuration])
            #expect(
                try await refusal { _ = try await extend(by: h.admin, .days(30)) }?.failedRules == [.maximumDuration])
            // Within the maximum, one's own still needs the second administrator.
            #expect(try await extend(by: pra, .minutes(20)).status == .pendingApproval)
            let assignment = try #require(try await h.store.transaction { try await $0.assignment(id: assignmentId) })
            #expect(assignment.end == h.clock.now().addingTimeInterval(300))
        }
    }

    /// A disabled group confers no Regent right, no activation, no token claim and no check.
    @Test func disabledGroupGivesNoRightsActivationsOrTokens() async throws {
        try await withHarness { h in
            let bob = try await h.user("bob")
            let readers = try await h.group("readers", members: [bob])
            try await h.assign(
                readers, try await h.engine.directory.role(named: "security-reader"), kind: .active, duration: .days(1))
            let ops = try await h.role("ops")
            try await h.assign(readers, ops, kind: .active, duration: .days(1))
            let web = try await h.role("web")
            try await h.assign(readers, web)
            #expect(try await h.engine.permits(bob, .readAudit))
            #expect(try await h.engine.provisioning.issueRoleToken(for: bob, issuer: "regent").roles == 2)
            #expect(h.engine.check(principal: bob.principalId, role: ops.id, scope: .root) != nil)

            _ = try await h.engine.directory.updatePrincipal(readers, .init(isEnabled: false), by: h.admin)
            #expect(try await !h.engine.permits(bob, .readAudit))
            #expect(try await !h.engine.permits(bob, .readEverything))
            #expect(try await h.engine.provisioning.issueRoleToken(for: bob, issuer: "regent").roles == 0)
            #expect(h.engine.check(principal: bob.principalId, role: ops.id, scope: .root) == nil)
            #expect(try await refusal { _ = try await h.activate(bob, web) }?.failedRules == [.eligibility])
        }
    }

    /// Nobody reviews access they hold through a group: bob, in `ops-g`, is not chosen to review
    /// ops-g's assignment, and may not decide it through another reviewer group.
    @Test func noReviewOfOwnAccessThroughAGroup() async throws {
        try await withHarness { h in
            let bob = try await h.user("bob")
            let carol = try await h.user("carol")
            let opsG = try await h.group("ops-g", members: [bob])
            let reviewers = try await h.group("reviewers", members: [bob, carol])
            let role = try await h.role("ops")
            try await h.assign(opsG, role)
            let named = try ReviewTests().definition(h, roles: [role], reviewers: .principals([bob.principalId]))
            let review = try await h.engine.governance.createReview(named, by: h.admin)
            let instance = try #require(try await h.engine.governance.reviewInstances(of: review.id, by: h.admin).first)
            #expect(instance.items.map(\.reviewers) == [[h.admin.principalId]])

            let grouped = try await h.engine.governance.createReview(
                try ReviewTests().definition(h, roles: [role], reviewers: .principals([reviewers])), by: h.admin)
            let second = try #require(try await h.engine.governance.reviewInstances(of: grouped.id, by: h.admin).first)
            let item = try #require(second.items.first)
            await #expect(throws: RegentError(.accessDenied, "", field: "itemId")) {
                _ = try await h.engine.governance.decideReviewItem(
                    second.id, item: item.id, verdict: .approve, justification: "mine", by: bob)
            }
            let decided = try await h.engine.governance.decideReviewItem(
                second.id, item: item.id, verdict: .approve, justification: "needed", by: carol)
            #expect(decided.decision?.by == carol.principalId)
        }
    }

    /// Every path that can end admin coverage keeps an enabled user holding regent-admin: an
    /// empty group or a disabled user does not count as another administrator.
    @Test func neverWithoutAnAdministrator() async throws {
        try await withHarness { h in
            let regentAdmin = try await h.engine.directory.role(named: "regent-admin")
            let nobody = try await h.group("nobody", members: [])
            try await h.assign(nobody, regentAdmin, kind: .active)
            let carol = try await h.user("carol")
            try await h.assign(carol.principalId, regentAdmin, kind: .active)
            _ = try await h.engine.directory.updatePrincipal(carol.principalId, .init(isEnabled: false), by: h.admin)

            // Removal: the other holders are an empty group and a disabled user.
            let bob = try await h.user("bob")
            try await h.assign(bob.principalId, regentAdmin, kind: .active, duration: .hours(1))
            try await removeBootstrapAdministrator(h, by: bob)  // bob still covers: allowed
            #expect(try await !h.engine.permits(h.admin, .manageAssignments))

            // Expiry: bob's hour ends while only the empty group and the disabled carol remain.
            h.clock.advance(by: 3600)
            try await h.engine.provisioning.runDueJobs()
            #expect(try await h.engine.permits(bob, .manageAssignments))
            let prevented = try await h.auditEvents().filter { $0.action == "assignment.expiry_prevented" }
            #expect(prevented.count == 1)
        }
    }

    /// The only administrator can neither deactivate their regent-admin activation nor lose it by
    /// the removal of the eligibility it came from.
    @Test func lastAdministratorByActivation() async throws {
        try await withHarness { h in
            let regentAdmin = try await h.engine.directory.role(named: "regent-admin")
            let dave = try await h.user("dave")
            try await h.assign(dave.principalId, regentAdmin)
            let activation = try await h.activate(dave, regentAdmin, duration: .hours(2))
            try await removeBootstrapAdministrator(h, by: dave)
            h.clock.advance(by: 600)
            let deactivation = try await refusal {
                _ = try await h.engine.requests.submit(
                    RequestDraft(
                        action: .selfDeactivate, requesterId: dave.principalId, principalId: dave.principalId,
                        roleId: regentAdmin.id, scope: .root, kind: .active,
                        targetAssignmentId: activation.assignmentId),
                    by: dave)
            }
            #expect(deactivation?.failedRules == [.lastAdministrator])
            let eligible = try #require(
                try await h.store.transaction {
                    try await $0.assignments(
                        AssignmentFilter(principalIds: [dave.principalId], roleId: regentAdmin.id, kind: .eligible))
                }.first)
            let removal = try await refusal {
                _ = try await h.engine.requests.submit(
                    RequestDraft(
                        action: .adminRemove, requesterId: dave.principalId, principalId: dave.principalId,
                        roleId: regentAdmin.id, scope: .root, kind: .eligible, justification: "cleanup",
                        targetAssignmentId: eligible.id),
                    by: dave)
            }
            #expect(removal?.failedRules == [.lastAdministrator])
            #expect(try await h.engine.permits(dave, .manageAssignments))
        }
    }

    /// Wrong second-factor codes are throttled like passwords: five lock the account's codes, the
    /// right code is refused while locked, and every step is audited.
    @Test func secondFactorGuessingIsLockedOut() async throws {
        try await withHarness { h in
            let alice = try await h.engine.directory.createPrincipal(
                kind: .user, name: "alice", displayName: nil, email: nil, password: "right password", by: h.admin)
            let actor = ActorContext(principalId: alice.id, name: "alice", sourceAddress: IPAddress("192.0.2.9"))
            let signedIn = try await h.engine.sessions.signIn(
                username: "alice", password: "right password", sourceAddress: actor.sourceAddress, userAgent: nil)
            let session = try #require(try await h.engine.sessions.authenticate(token: signedIn.token))
            _ = try await h.engine.sessions.beginTOTPEnrollment(by: actor)
            let sealed = try #require(try await h.store.transaction { try await $0.totpEnrollment(of: alice.id) })
            let totp = TOTP(secret: try h.secrets.open(sealed.sealedSecret))
            func code(_ offset: Int64 = 0) -> String { totp.code(atStep: TOTP.step(at: h.clock.now()) + offset) }
            try await h.engine.sessions.confirmTOTPEnrollment(code: code(), session: session, by: actor)
            h.clock.advance(by: 60)

            for _ in 0..<5 {
                await #expect(throws: RegentError(.mfaRequired, "", field: "code")) {
                    try await h.engine.sessions.verifyTOTP(code: code(5), session: session, by: actor)
                }
            }
            await #expect(throws: RegentError(.tooManyAttempts, "")) {
                try await h.engine.sessions.verifyTOTP(code: code(), session: session, by: actor)
            }
            // A new password sign-in does not reset the count of wrong codes.
            _ = try await h.engine.sessions.signIn(
                username: "alice", password: "right password", sourceAddress: actor.sourceAddress, userAgent: nil)
            await #expect(throws: RegentError(.tooManyAttempts, "")) {
                try await h.engine.sessions.verifyTOTP(code: code(), session: session, by: actor)
            }
            h.clock.advance(by: 900)
            try await h.engine.sessions.verifyTOTP(code: code(), session: session, by: actor)
            let actions = try await h.auditEvents().map(\.action)
            #expect(actions.filter { $0 == "auth.mfa.failed" }.count == 5)
            #expect(actions.filter { $0 == "auth.mfa.locked_out" }.count == 1)
            #expect(actions.filter { $0 == "auth.mfa.locked" }.count == 2)
            #expect(actions.last == "auth.mfa.verified")
        }
    }

    /// `actor` removes the bootstrap administrator's permanent regent-admin assignment.
    func removeBootstrapAdministrator(_ h: Harness, by actor: ActorContext) async throws {
        let regentAdmin = try await h.engine.directory.role(named: "regent-admin")
        let bootstrap = try #require(
            try await h.store.transaction {
                try await $0.assignments(
                    AssignmentFilter(
                        principalIds: [h.admin.principalId], roleId: regentAdmin.id, kind: .active, states: [.active]))
            }.first)
        _ = try await h.engine.requests.submit(
            RequestDraft(
                action: .adminRemove, requesterId: actor.principalId, principalId: h.admin.principalId,
                roleId: regentAdmin.id, scope: .root, kind: .active, justification: "handover",
                targetAssignmentId: bootstrap.id),
            by: actor)
    }

    /// The policy refusal `body` throws (nil if it does not), so its failed rules can be compared.
    func refusal(_ body: () async throws -> Void) async throws -> RegentError? {
        do {
            try await body()
            return nil
        } catch let error as RegentError where error.code == .policyViolation {
            return error
        }
    }
}

/// Refused reads are audited: at once for the first of a window, then one event with the count.
struct RefusedReadTests {
    @Test func refusedReadsAreAuditedAndAggregated() async throws {
        try await withHarness { h in
            let mallory = try await h.user("mallory")
            for _ in 0..<5 {
                await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                    _ = try await h.engine.directory.listPrincipals(by: mallory, after: nil, limit: 10)
                }
            }
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                _ = try await h.engine.auditLog.searchAudit(AuditFilter(), by: mallory, before: nil, limit: 10)
            }
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                _ = try await h.engine.requests.listRequests(
                    status: nil, mine: false, awaitingMe: false, by: mallory, after: nil, limit: 10)
            }
            func denials() async throws -> [AuditEvent] {
                try await h.auditEvents().filter { $0.action == "authorization.denied" }
            }
            #expect(try await denials().map { $0.details["count"] } == ["1", "1", "1"])
            #expect(try await denials().allSatisfy { $0.actor.principalId == mallory.principalId })
            h.clock.advance(by: 61)
            try await h.engine.governance.sweepRefusals()
            let all = try await denials()
            #expect(all.map { $0.details["count"] } == ["1", "1", "1", "4"])
            #expect(all.last?.details["operation"] == all.first?.details["operation"])
            #expect(try await h.verifyChain().isIntact)
        }
    }
}
