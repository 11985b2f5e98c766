import Foundation
import RegentAudit
import RegentConnectors
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

struct EngineUseCaseTests {
    /// An auto-approved activation is granted, answers "yes" until its end, "no" the instant it
    /// ends (before any job ran), then expires exactly once with the chain intact.
    @Test func activationLifecycle() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let dba = try await h.role("dba")
            try await h.assign(alice.principalId, dba)
            let request = try await h.activate(alice, dba)
            #expect(request.status == .provisioning)
            try await h.engine.provisioning.runDueJobs()
            #expect(try await h.engine.requests.request(request.id)?.status == .provisioned)
            let match = try #require(
                h.engine.check(principal: alice.principalId, role: dba.id, scope: try Scope(parsing: "/prod")))
            #expect(match.until == t0 + 1800)
            h.clock.advance(by: 1799)
            #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) != nil)
            h.clock.advance(by: 1)
            #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) == nil)
            try await h.engine.provisioning.runDueJobs()
            #expect(try await h.engine.requests.request(request.id)?.status == .expired)
            let events = try await h.auditEvents()
            #expect(events.filter { $0.action == "assignment.expired" }.count == 1)
            #expect(events.contains { $0.action == "grant.revoked" && $0.correlationId == request.id.description })
            #expect(try await h.verifyChain().isIntact)
        }
    }

    /// "Recently ended": an expired activation is listed with its reason from the moment it ends,
    /// a group's ended assignment says which group, and what ended before `since` is not.
    @Test func recentlyEndedRoles() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let dba = try await h.role("dba")
            try await h.assign(alice.principalId, dba)
            _ = try await h.activate(alice, dba)
            try await h.engine.provisioning.runDueJobs()
            #expect(try await h.engine.requests.myEndedRoles(alice, since: t0).isEmpty)
            h.clock.advance(by: 1800)
            try await h.engine.provisioning.runDueJobs()
            let ended = try await h.engine.requests.myEndedRoles(alice, since: t0)
            #expect(ended.map(\.roleName) == ["dba"])
            #expect(ended.first?.assignment.endReason == .expired && ended.first?.viaGroup == nil)
            #expect(try await h.engine.requests.myEndedRoles(alice, since: t0 + 1801).isEmpty)
            let bob = try await h.user("bob")
            #expect(try await h.engine.requests.myEndedRoles(bob, since: t0).isEmpty)
        }
    }

    /// The requester cannot approve through a group that approves; the refusal is audited; another
    /// member approves and the activation is granted.
    @Test func approvalThroughGroups() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let bob = try await h.user("bob")
            let leads = try await h.group("leads", members: [alice, bob])
            let dba = try await h.role("dba") { $0.approval = Approval(stages: [ApprovalStage(approvers: [leads])]) }
            try await h.assign(alice.principalId, dba)
            let pending = try await h.activate(alice, dba)
            #expect(pending.status == .pendingApproval)
            await #expect(throws: RegentError(.accessDenied, "", field: "approverId")) {
                try await h.engine.requests.approve(pending.id, by: alice, justification: "me")
            }
            let refusal = try await h.auditEvents().last
            #expect(refusal?.action == "request.approve.refused")
            #expect(refusal?.outcome == .denied)
            #expect(refusal?.actor.principalId == alice.principalId)
            let approved = try await h.engine.requests.approve(pending.id, by: bob, justification: "ok")
            #expect(approved.status == .provisioning)
            #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) != nil)
        }
    }

    /// A stage nobody decides times out through the scheduler; a decision after that is refused.
    @Test func stageTimeout() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let bob = try await h.user("bob")
            let dba = try await h.role("dba") {
                $0.approval = Approval(stages: [ApprovalStage(approvers: [bob.principalId], timeout: .hours(1))])
            }
            try await h.assign(alice.principalId, dba)
            let pending = try await h.activate(alice, dba)
            h.clock.advance(by: 3600)
            try await h.engine.provisioning.runDueJobs()
            #expect(try await h.engine.requests.request(pending.id)?.status == .timedOut)
            await #expect(throws: RegentError(.invalidTransition, "", field: "requestId")) {
                try await h.engine.requests.approve(pending.id, by: bob, justification: "late")
            }
        }
    }

    /// A late decision before the timer ran still meets a timed-out request.
    @Test func lateApprovalBeforeTimerRuns() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let bob = try await h.user("bob")
            let dba = try await h.role("dba") {
                $0.approval = Approval(stages: [ApprovalStage(approvers: [bob.principalId], timeout: .hours(1))])
            }
            try await h.assign(alice.principalId, dba)
            let pending = try await h.activate(alice, dba)
            h.clock.advance(by: 7200)
            await #expect(throws: RegentError(.invalidTransition, "", field: "requestId")) {
                try await h.engine.requests.approve(pending.id, by: bob, justification: "late")
            }
            #expect(try await h.engine.requests.request(pending.id)?.status == .timedOut)
            #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) == nil)
        }
    }

    /// A non-administrator cannot assign anything, to anyone; nothing is written but the refusal.
    @Test func onlyAdministratorsAssign() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let dba = try await h.role("dba")
            let before = try await h.store.transaction { try await $0.requests().count }
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                try await h.engine.requests.submit(
                    RequestDraft(
                        action: .adminAssign, requesterId: alice.principalId, principalId: alice.principalId,
                        roleId: dba.id, scope: .root, kind: .active, justification: "me", duration: .hours(1)),
                    by: alice)
            }
            #expect(try await h.store.transaction { try await $0.requests().count } == before)
            #expect(try await h.store.transaction { try await $0.pendingJobCount() } == 0)
            #expect(try await h.auditEvents().last?.action == "request.refused")
            #expect(h.engine.check(principal: alice.principalId, role: dba.id, scope: .root) == nil)
        }
    }

    /// A policy refusal is kept as a denied request, audited, and thrown with every failed rule.
    @Test func policyRefusal() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let dba = try await h.role("dba") {
                $0.maximumDuration = .hours(1)
                $0.requireTicket = true
            }
            try await h.assign(alice.principalId, dba)
            do {
                _ = try await h.activate(alice, dba, duration: .hours(2))
                Issue.record("the activation should have been refused")
            } catch let error as RegentError {
                #expect(error.code == .policyViolation)
                #expect(error.failedRules == [.maximumDuration, .requireTicket])
            }
            let denied = try await h.store.transaction { try await $0.requests(status: .denied) }
            #expect(denied.count == 1)
            #expect(try await h.auditEvents().last?.action == "request.denied")
            #expect(
                try await h.store.transaction { try await $0.liveAssignments() }.allSatisfy {
                    $0.kind != .active || $0.roleId != dba.id
                })
        }
    }

    /// An activation that only lacks a fresh MFA is refused as mfa-required.
    @Test func mfaRequired() async throws {
        try await withHarness { h in
            var alice = try await h.user("alice")
            let dba = try await h.role("dba")
            try await h.assign(alice.principalId, dba)
            alice.mfaVerifiedAt = nil
            await #expect(throws: RegentError(.mfaRequired, "")) {
                try await h.engine.requests.submit(
                    RequestDraft(
                        action: .selfActivate, requesterId: alice.principalId, principalId: alice.principalId,
                        roleId: dba.id, scope: .root, kind: .active, justification: "x", duration: .hours(1)),
                    by: alice)
            }
        }
    }

    /// The last regent-admin assignment cannot be removed; with a second admin, it can.
    @Test func lastAdministrator() async throws {
        try await withHarness { h in
            let regentAdmin = try await h.store.transaction { try await $0.role(named: "regent-admin") }!
            let adminAssignment = try await h.store.transaction {
                try await $0.assignments(AssignmentFilter(principalIds: [h.admin.principalId], roleId: regentAdmin.id))
            }.first!
            let removal = RequestDraft(
                action: .adminRemove, requesterId: h.admin.principalId, principalId: h.admin.principalId,
                roleId: regentAdmin.id, scope: .root, kind: .active, targetAssignmentId: adminAssignment.id)
            await #expect(throws: RegentError(.policyViolation, "")) {
                try await h.engine.requests.submit(removal, by: h.admin)
            }
            #expect(h.engine.check(principal: h.admin.principalId, role: regentAdmin.id, scope: .root) != nil)
            let bob = try await h.user("bob")
            try await h.assign(bob.principalId, regentAdmin, kind: .active, duration: .days(30))
            let removed = try await h.engine.requests.submit(removal, by: h.admin)
            #expect(removed.status == .revoked)
            #expect(h.engine.check(principal: h.admin.principalId, role: regentAdmin.id, scope: .root) == nil)
        }
    }

    /// A validation-only request reports the outcome and stores nothing.
    @Test func validationOnly() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let dba = try await h.role("dba")
            let before = try await h.auditEvents().count
            let dryRun = try await h.engine.requests.submit(
                RequestDraft(
                    action: .adminAssign, requesterId: h.admin.principalId, principalId: alice.principalId,
                    roleId: dba.id, scope: .root, kind: .eligible),
                by: h.admin, validationOnly: true)
            #expect(dryRun.status == .provisioned)
            #expect(try await h.store.transaction { try await $0.request(id: dryRun.id) } == nil)
            #expect(try await h.auditEvents().count == before)
        }
    }

    /// Groups cannot be nested into a cycle.
    @Test func groupCycleRefused() async throws {
        try await withHarness { h in
            let inner = try await h.group("inner", members: [])
            let outer = try await h.group("outer", members: [])
            try await h.engine.directory.addMember(inner, to: outer, by: h.admin)
            await #expect(throws: RegentError(.conflict, "", field: "memberId")) {
                try await h.engine.directory.addMember(outer, to: inner, by: h.admin)
            }
        }
    }
}

struct RoleCreationTests {
    /// Entitlements must name existing targets and appear once; a refusal writes nothing.
    @Test func entitlementsAreChecked() async throws {
        try await withHarness { h in
            let unknown = Entitlement(targetId: Target.ID(UUID()), value: "orders_admin")
            await #expect(throws: RegentError(.notFound, "", field: "entitlements.targetId")) {
                try await h.engine.directory.createRole(
                    name: "dba", description: "", entitlements: [unknown], by: h.admin)
            }
            let target = try Target(id: Target.ID(UUID()), kind: .postgres, name: "orders-db", scope: .root)
            try await h.store.transaction { try await $0.insertTarget(target, at: t0) }
            let known = Entitlement(targetId: target.id, value: "orders_admin")
            await #expect(throws: RegentError.invalid("entitlements", "")) {
                try await h.engine.directory.createRole(
                    name: "dba", description: "", entitlements: [known, known], by: h.admin)
            }
            let role = try await h.engine.directory.createRole(
                name: "dba", description: "", entitlements: [known], by: h.admin)
            #expect(try await h.engine.directory.role(named: "dba") == role)
        }
    }
}
