import Foundation
import RegentAudit
import RegentConnectors
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Synchronization
import Testing

/// Every security alert rule triggers and clears with a fake clock, and an alert's life (raised,
/// dismissed with a reason, reopened by something new, resolved) is audited.
struct AlertTests {
    func state(_ h: Harness, _ rule: AlertRule) async throws -> Alert? {
        try await h.engine.governance.alerts(by: h.admin).first { $0.rule == rule }
    }

    func settings(_ h: Harness, _ rule: AlertRule, _ change: (inout AlertSettings) -> Void) async throws {
        var settings = try await h.engine.governance.alertSettings(by: h.admin)[rule] ?? .defaults(for: rule)
        change(&settings)
        _ = try await h.engine.governance.setAlertSettings(settings, for: rule, by: h.admin)
    }

    func permanentRole(_ h: Harness, _ name: String) async throws -> Role {
        try await h.role(name) {
            $0.activeExpiration = AssignmentExpiration(allowPermanent: true, maximumDuration: nil)
        }
    }

    /// The bootstrap administrator's permanent regent-admin raises an alert that they may not
    /// dismiss themselves; a second administrator dismisses it; a new permanent assignment
    /// reopens it; exempting the roles resolves it.
    @Test func lifecycle() async throws {
        try await withHarness { h in
            try await h.engine.governance.evaluateAlerts()
            let raised = try #require(try await state(h, .permanentActiveAssignment))
            #expect(raised.state == .open && raised.items.map(\.principalId) == [h.admin.principalId])
            await #expect(throws: RegentError(.accessDenied, "", field: "rule")) {
                try await h.engine.governance.dismissAlert(.permanentActiveAssignment, reason: "mine", by: h.admin)
            }
            let bob = try await h.user("bob")
            let adminRole = try await h.engine.directory.role(named: "regent-admin")
            try await h.assign(bob.principalId, adminRole, kind: .active, duration: .days(30))
            await #expect(throws: RegentError.invalid("reason", "")) {
                try await h.engine.governance.dismissAlert(.permanentActiveAssignment, reason: "  ", by: bob)
            }
            let dismissed = try await h.engine.governance.dismissAlert(
                .permanentActiveAssignment, reason: "break-glass", by: bob)
            #expect(dismissed.state == .dismissed && dismissed.dismissal?.by == bob.principalId)
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .permanentActiveAssignment)?.state == .dismissed)
            let carol = try await h.user("carol")
            try await h.assign(carol.principalId, try await permanentRole(h, "ops"), kind: .active)
            try await h.engine.governance.evaluateAlerts()
            let reopened = try #require(try await state(h, .permanentActiveAssignment))
            #expect(reopened.state == .open && reopened.items.count == 2)
            try await settings(h, .permanentActiveAssignment) { $0.names = ["regent-admin", "ops"] }
            #expect(try await state(h, .permanentActiveAssignment)?.state == .resolved)
            let actions = try await h.auditEvents().map(\.action).filter { $0.hasPrefix("alert.") }
            #expect(
                actions == [
                    "alert.raised", "alert.dismiss.refused", "alert.dismiss.refused", "alert.dismissed",
                    "alert.reopened", "alert.settings_changed", "alert.resolved",
                ])
            #expect(try await h.verifyChain().isIntact)
        }
    }

    /// Reading alerts needs read-everything; dismissing and changing rules needs manageAlerts.
    @Test func rights() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                try await h.engine.governance.alerts(by: alice)
            }
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                try await h.engine.governance.setAlertSettings(
                    AlertSettings(enabled: false), for: .activationWithoutMfa, by: alice)
            }
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                try await h.engine.governance.dismissAlert(.activationWithoutMfa, reason: "fine", by: alice)
            }
            await #expect(throws: RegentError.invalid("count", "")) {
                try await h.engine.governance.setAlertSettings(
                    AlertSettings(count: 0), for: .tooManyAdmins, by: h.admin)
            }
        }
    }

    /// More regent-admin holders than the count and the share allow (through a group too); clears
    /// when an activation of it ends.
    @Test func tooManyAdmins() async throws {
        try await withHarness { h in
            try await settings(h, .tooManyAdmins) {
                $0.count = 2
                $0.percent = 50
            }
            let adminRole = try await h.engine.directory.role(named: "regent-admin")
            let bob = try await h.user("bob")
            let carol = try await h.user("carol")
            _ = try await h.user("dave")
            try await h.assign(bob.principalId, adminRole, kind: .active, duration: .hours(1))
            let admins = try await h.group("admins", members: [carol])
            try await h.assign(admins, adminRole, kind: .active, duration: .days(30))
            try await h.engine.governance.evaluateAlerts()
            let alert = try #require(try await state(h, .tooManyAdmins))
            #expect(alert.state == .open && alert.items.count == 3)
            #expect(alert.items.allSatisfy { $0.summary.contains("3 of 4 users, 75%") })
            h.clock.advance(by: 3600)
            try await h.engine.provisioning.runDueJobs()
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .tooManyAdmins)?.state == .resolved)
        }
    }

    /// N activations of one role by one principal within the window; clears as they age out.
    @Test func frequentActivation() async throws {
        try await withHarness { h in
            try await settings(h, .frequentActivation) {
                $0.count = 3
                $0.window = .hours(1)
            }
            let alice = try await h.user("alice")
            let dba = try await h.role("dba")
            try await h.assign(alice.principalId, dba)
            for _ in 0..<3 {
                _ = try await h.activate(alice, dba, duration: .minutes(5))
                try await h.engine.provisioning.runDueJobs()
                h.clock.advance(by: 301)
                try await h.engine.provisioning.runDueJobs()
            }
            try await h.engine.governance.evaluateAlerts()
            let alert = try #require(try await state(h, .frequentActivation))
            #expect(alert.state == .open)
            #expect(alert.items.map(\.summary) == ["alice activated dba 3 times within PT1H"])
            #expect(alert.items.first?.principalId == alice.principalId)
            h.clock.advance(by: 3600)
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .frequentActivation)?.state == .resolved)
        }
    }

    /// An eligibility older than the window with no activation in it; an activation clears it.
    @Test func unusedEligibility() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let dba = try await h.role("dba")
            try await h.assign(alice.principalId, dba)
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .unusedEligibility) == nil)
            h.clock.advance(by: 31 * 86_400)
            try await h.engine.governance.evaluateAlerts()
            let alert = try #require(try await state(h, .unusedEligibility))
            #expect(alert.state == .open && alert.items.first?.summary.hasPrefix("alice has not activated dba") == true)
            _ = try await h.activate(alice, dba)
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .unusedEligibility)?.state == .resolved)
        }
    }

    /// A role whose policy (at the root or at a deeper scope) lets it activate without MFA.
    @Test func activationWithoutMfa() async throws {
        try await withHarness { h in
            let dba = try await h.role("dba")
            var lax = Policy()
            lax.requireMfa = false
            _ = try await h.engine.directory.setPolicy(
                lax, role: dba.id, scope: try Scope(parsing: "/lab"), by: h.admin)
            try await h.engine.governance.evaluateAlerts()
            let alert = try #require(try await state(h, .activationWithoutMfa))
            #expect(alert.items.map(\.summary) == ["dba at /lab activates without a fresh MFA"])
            _ = try await h.engine.directory.setPolicy(
                Policy(), role: dba.id, scope: try Scope(parsing: "/lab"), by: h.admin)
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .activationWithoutMfa)?.state == .resolved)
        }
    }

    /// A revocation past its attempt limit; clears when it finally goes through.
    @Test func revocationFailing() async throws {
        let db = MemoryTarget()
        let configuration = EngineConfiguration(checkpointEvery: 10, maximumJobAttempts: 2, failingRevocationRetry: 60)
        try await withHarness(provisioners: ProvisionerRegistry([db]), configuration: configuration) { h in
            let alice = try await h.user("alice")
            let (dba, _) = try await ProvisioningTests().role(h, "dba", value: "pg_dba")
            try await h.assign(alice.principalId, dba, kind: .active, duration: .hours(1))
            try await h.engine.provisioning.runDueJobs()
            db.failRevocations.withLock { $0 = true }
            h.clock.advance(by: 3600)
            for _ in 0..<4 {
                try await h.engine.provisioning.runDueJobs()
                h.clock.advance(by: 301)
            }
            try await h.engine.governance.evaluateAlerts()
            let alert = try #require(try await state(h, .revocationFailing))
            #expect(alert.state == .open && alert.items.first?.summary.contains("target unreachable") == true)
            db.failRevocations.withLock { $0 = false }
            h.clock.advance(by: 61)
            try await h.engine.provisioning.runDueJobs()
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .revocationFailing)?.state == .resolved)
        }
    }

    /// Access found on a target outside Regent; clears once the window has passed.
    @Test func roleAssignedOutsideRegent() async throws {
        let db = MemoryTarget()
        try await withHarness(provisioners: ProvisionerRegistry([db])) { h in
            let alice = try await h.user("alice")
            let (dba, _) = try await ProvisioningTests().role(h, "dba", value: "pg_dba")
            try await h.assign(alice.principalId, dba, kind: .active, duration: .days(30))
            try await h.engine.provisioning.runDueJobs()
            db.held.withLock { _ = $0.insert("pg_dba mallory") }
            _ = try await h.engine.provisioning.reconcile()
            try await h.engine.governance.evaluateAlerts()
            let alert = try #require(try await state(h, .roleAssignedOutsideRegent))
            #expect(alert.items.first?.summary.hasPrefix("pg_dba for mallory on db") == true)
            h.clock.advance(by: 7 * 86_400 + 1)
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .roleAssignedOutsideRegent)?.state == .resolved)
        }
    }

    /// A sign-in of a break-glass account; the account itself may not dismiss it; clears after the window.
    @Test func breakGlassUsed() async throws {
        try await withHarness { h in
            let glass = try await h.engine.directory.createPrincipal(
                kind: .user, name: "glass", displayName: nil, email: nil, password: "right password", by: h.admin)
            try await settings(h, .breakGlassUsed) { $0.names = ["glass"] }
            _ = try await h.engine.sessions.signIn(
                username: "glass", password: "right password", sourceAddress: IPAddress("192.0.2.7"), userAgent: "test")
            try await h.engine.governance.evaluateAlerts()
            let alert = try #require(try await state(h, .breakGlassUsed))
            #expect(alert.items.map(\.principalId) == [glass.id])
            h.clock.advance(by: 7 * 86_400 + 1)
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .breakGlassUsed)?.state == .resolved)
        }
    }

    /// A disabled rule raises nothing, and turning it off resolves what it had raised.
    @Test func disabledRule() async throws {
        try await withHarness { h in
            try await h.engine.governance.evaluateAlerts()
            #expect(try await state(h, .permanentActiveAssignment)?.state == .open)
            try await settings(h, .permanentActiveAssignment) { $0.enabled = false }
            #expect(try await state(h, .permanentActiveAssignment)?.state == .resolved)
        }
    }
}
