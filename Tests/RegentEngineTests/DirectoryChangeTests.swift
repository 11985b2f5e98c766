import Foundation
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

/// Changing principals, groups, roles and targets after creation: each is permission-checked,
/// audited, takes effect at once, and never leaves Regent without an enabled administrator.
struct DirectoryChangeTests {
    func signIn(_ h: Harness, _ name: String) async throws -> SignedIn {
        try await h.engine.sessions.signIn(
            username: name, password: "right password", sourceAddress: IPAddress("192.0.2.7"), userAgent: "test")
    }

    /// Disabling ends sessions and checks at once and withdraws the active assignment (revoked on
    /// the targets, its request closed); enabling again restores eligibility, never the activation.
    @Test func disablingAPrincipal() async throws {
        try await withHarness { h in
            let alice = try await h.engine.directory.createPrincipal(
                kind: .user, name: "alice", displayName: nil, email: nil, password: "right password", by: h.admin)
            let role = try await h.role("dba")
            let active = try await h.assign(alice.id, role, kind: .active, duration: .hours(8))
            try await h.assign(alice.id, role, kind: .eligible)
            let session = try await signIn(h, "alice")
            #expect(try await h.engine.sessions.authenticate(token: session.token) != nil)
            #expect(h.engine.check(principal: alice.id, role: role.id, scope: .root) != nil)

            let disabled = try await h.engine.directory.updatePrincipal(alice.id, .init(isEnabled: false), by: h.admin)
            #expect(!disabled.isEnabled)
            #expect(try await h.engine.sessions.authenticate(token: session.token) == nil)
            #expect(h.engine.check(principal: alice.id, role: role.id, scope: .root) == nil)
            await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
                try await signIn(h, "alice")
            }
            let events = try await h.auditEvents()
            let event = try #require(events.last { $0.action == "principal.disabled" })
            #expect(event.details["sessionsRevoked"] == "1")
            let withdrawn = try #require(events.last { $0.action == "assignment.withdrawn" })
            #expect(withdrawn.details["assignmentId"] == active.assignmentId?.description)
            #expect(try await h.engine.requests.request(active.id)?.status == .revoked)
            let assignmentId = try #require(active.assignmentId)
            #expect(try await h.store.transaction { try await $0.hasPendingJob(.revoke(assignmentId)) })
            // The eligibility kept is listed as a disabled person's.
            let listed = try await h.engine.requests.listAssignments(
                AssignmentFilter(states: AssignmentFilter.live), by: h.admin, after: nil, limit: 50)
            #expect(listed.items.contains { $0.principalId == alice.id && $0.kind == .eligible })
            #expect(listed.disabledHolders == [alice.id])

            _ = try await h.engine.directory.updatePrincipal(
                alice.id, .init(displayName: "Alice A.", isEnabled: true), by: h.admin)
            #expect(h.engine.check(principal: alice.id, role: role.id, scope: .root) == nil)
            let live = try await h.store.transaction {
                try await $0.assignments(AssignmentFilter(principalIds: [alice.id], states: AssignmentFilter.live))
            }
            #expect(live.map(\.kind) == [.eligible])
            #expect(
                try await h.engine.requests.listAssignments(
                    AssignmentFilter(states: AssignmentFilter.live), by: h.admin, after: nil, limit: 50
                ).disabledHolders.isEmpty)
            #expect(try await h.engine.directory.principal(named: "alice", by: h.admin).displayName == "Alice A.")
        }
    }

    /// A restarted engine reads the disabled state back into its check index.
    @Test func disabledSurvivesARestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("regent-\(UUID()).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try await Harness.make(path: path)
        let bob = try await h.user("bob")
        let crew = try await h.group("crew", members: [])
        let role = try await h.role("ops")
        try await h.assign(crew, role, kind: .active, duration: .hours(8))
        try await h.engine.directory.addMember(bob.principalId, to: crew, by: h.admin)
        _ = try await h.engine.directory.updatePrincipal(bob.principalId, .init(isEnabled: false), by: h.admin)
        let restarted = try await h.restart(at: h.clock.now())
        #expect(restarted.engine.check(principal: bob.principalId, role: role.id, scope: .root) == nil)
        _ = try await restarted.engine.directory.updatePrincipal(
            bob.principalId, .init(isEnabled: true), by: restarted.admin)
        #expect(restarted.engine.check(principal: bob.principalId, role: role.id, scope: .root) != nil)
        await restarted.close()
    }

    /// Joining a group is taking what it holds: an administrator cannot add themselves to a group
    /// (as they cannot assign themselves a role); the refusal is audited; adding others works.
    @Test func nobodyAddsThemselvesToAGroup() async throws {
        try await withHarness { h in
            let dbas = try await h.group("dbas", members: [])
            try await h.assign(dbas, try await h.role("dba"), kind: .eligible)
            await #expect(throws: RegentError(.accessDenied, "", field: "memberId")) {
                try await h.engine.directory.addMember(h.admin.principalId, to: dbas, by: h.admin)
            }
            let bob = try await h.user("bob")
            try await h.engine.directory.addMember(bob.principalId, to: dbas, by: h.admin)
            let actions = try await h.auditEvents().map(\.action)
            #expect(
                actions.filter { $0.hasPrefix("group.member_add") } == [
                    "group.member_add.refused", "group.member_added",
                ])
        }
    }

    /// A disabled group passes nothing on to its members.
    @Test func disabledGroupGivesNothing() async throws {
        try await withHarness { h in
            let bob = try await h.user("bob")
            let crew = try await h.group("crew", members: [bob])
            let role = try await h.role("ops")
            try await h.assign(crew, role, kind: .active, duration: .hours(8))
            #expect(h.engine.check(principal: bob.principalId, role: role.id, scope: .root) != nil)
            _ = try await h.engine.directory.updatePrincipal(crew, .init(isEnabled: false), by: h.admin)
            #expect(h.engine.check(principal: bob.principalId, role: role.id, scope: .root) == nil)
        }
    }

    /// The last enabled regent-admin can be neither disabled nor taken out of the group that makes
    /// them one; with a second one, both are allowed.
    @Test func lastRegentAdminIsKept() async throws {
        try await withHarness { h in
            await #expect(throws: RegentError(.conflict, "", field: "principalId")) {
                _ = try await h.engine.directory.updatePrincipal(
                    h.admin.principalId, .init(isEnabled: false), by: h.admin)
            }
            let carol = try await h.user("carol")
            let admins = try await h.group("admins", members: [carol])
            try await h.assign(admins, try await h.engine.directory.role(named: "regent-admin"), kind: .active)
            _ = try await h.engine.directory.updatePrincipal(h.admin.principalId, .init(isEnabled: false), by: carol)
            await #expect(throws: RegentError(.conflict, "", field: "principalId")) {
                try await h.engine.directory.removeMember(carol.principalId, from: admins, by: carol)
            }
            await #expect(throws: RegentError(.conflict, "", field: "principalId")) {
                _ = try await h.engine.directory.updatePrincipal(admins, .init(isEnabled: false), by: carol)
            }
            #expect(try await h.auditEvents().contains { $0.action == "principal.update.refused" })
        }
    }

    /// Removing a member takes away what it held through the group, at once.
    @Test func removingAMember() async throws {
        try await withHarness { h in
            let bob = try await h.user("bob")
            let crew = try await h.group("crew", members: [bob])
            let role = try await h.role("ops")
            try await h.assign(crew, role, kind: .active, duration: .hours(8))
            try await h.engine.directory.removeMember(bob.principalId, from: crew, by: h.admin)
            #expect(h.engine.check(principal: bob.principalId, role: role.id, scope: .root) == nil)
            await #expect(throws: RegentError(.notFound, "", field: "memberId")) {
                try await h.engine.directory.removeMember(bob.principalId, from: crew, by: h.admin)
            }
            #expect(try await h.auditEvents().contains { $0.action == "group.member_removed" })
        }
    }

    /// privileged-role-admin manages roles and targets but not principals.
    @Test func permissionsFollowTheTable() async throws {
        try await withHarness { h in
            let pra = try await h.user("pra")
            try await h.assign(
                pra.principalId, try await h.engine.directory.role(named: "privileged-role-admin"), kind: .active,
                duration: .hours(1))
            let role = try await h.engine.directory.createRole(name: "web", description: "", entitlements: [], by: pra)
            _ = try await h.engine.directory.updateRole(role.id, description: "web servers", entitlements: nil, by: pra)
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                _ = try await h.engine.directory.createPrincipal(
                    kind: .user, name: "mallory", displayName: nil, email: nil, password: nil, by: pra)
            }
            #expect(try await h.engine.permits(pra, .readEverything))
            #expect(try await !h.engine.permits(pra, .readAudit))
            // Once the assignment ends, so do the rights.
            h.clock.advance(by: 3601)
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                _ = try await h.engine.directory.updateRole(role.id, description: "late", entitlements: nil, by: pra)
            }
            await #expect(throws: RegentError(.conflict, "", field: "roleId")) {
                _ = try await h.engine.directory.updateRole(
                    try await h.engine.directory.role(named: "auditor").id, description: "mine now", entitlements: nil,
                    by: h.admin)
            }
        }
    }

    /// Entitlements are replaced whole, and must name existing targets, once each.
    @Test func updatingARole() async throws {
        try await withHarness { h in
            let target = try await h.engine.provisioning.createTarget(
                kind: .postgres, name: "db", scope: .root, config: [:], secrets: [:], by: h.admin)
            let role = try await h.role("dba")
            let grant = Entitlement(targetId: target.id, value: "pg_read_all_data")
            let updated = try await h.engine.directory.updateRole(
                role.id, description: nil, entitlements: [grant], by: h.admin)
            #expect(updated.entitlements == [grant])
            #expect(try await h.engine.directory.role(named: "dba").entitlements == [grant])
            await #expect(throws: RegentError(.invalidArgument, "", field: "entitlements")) {
                _ = try await h.engine.directory.updateRole(
                    role.id, description: nil, entitlements: [grant, grant], by: h.admin)
            }
            await #expect(throws: RegentError(.notFound, "", field: "entitlements.targetId")) {
                _ = try await h.engine.directory.updateRole(
                    role.id, description: nil, entitlements: [Entitlement(targetId: Target.ID(UUID()), value: "x")],
                    by: h.admin)
            }
        }
    }

    /// Secrets are kept unless replaced, and no secret value reaches the audit log.
    @Test func updatingATarget() async throws {
        try await withHarness { h in
            let target = try await h.engine.provisioning.createTarget(
                kind: .webhook, name: "hook", scope: .root, config: ["url": "http://127.0.0.1:1/a"],
                secrets: ["hmacKey": "first-secret"], by: h.admin)
            _ = try await h.engine.provisioning.updateTarget(
                target.id, scope: try Scope(parsing: "/prod"), config: ["url": "http://127.0.0.1:1/b"], secrets: nil,
                by: h.admin)
            #expect(try await h.engine.provisioning.secretNames(of: target.id) == ["hmacKey"])
            _ = try await h.engine.provisioning.updateTarget(
                target.id, scope: nil, config: nil, secrets: ["signingKey": "second-secret"], by: h.admin)
            #expect(try await h.engine.provisioning.secretNames(of: target.id) == ["signingKey"])
            let stored = try await h.engine.provisioning.target(target.id, by: h.admin)
            #expect(stored.scope.path == "/prod")
            #expect(stored.config == ["url": "http://127.0.0.1:1/b"])
            let audit = try await h.auditEvents().filter { $0.action == "target.updated" }
            #expect(audit.count == 2)
            #expect(audit.allSatisfy { !$0.details.values.contains { $0.contains("secret") && $0.contains("-") } })
            #expect(audit.first?.details["config"] == "url")
        }
    }

    /// An administrator resets another user's TOTP (their sessions end); nobody resets their own.
    @Test func resettingTOTP() async throws {
        try await withHarness { h in
            let alice = try await h.engine.directory.createPrincipal(
                kind: .user, name: "alice", displayName: nil, email: nil, password: "right password", by: h.admin)
            let session = try await signIn(h, "alice")
            let aliceActor = ActorContext(principalId: alice.id, name: "alice")
            _ = try await h.engine.sessions.beginTOTPEnrollment(by: aliceActor)
            await #expect(throws: RegentError(.accessDenied, "", field: "principalId")) {
                try await h.engine.directory.resetTOTP(of: h.admin.principalId, by: h.admin)
            }
            let bob = try await h.user("bob")
            await #expect(throws: RegentError(.accessDenied, "", field: "actor")) {
                try await h.engine.directory.resetTOTP(of: bob.principalId, by: aliceActor)
            }
            try await h.engine.directory.resetTOTP(of: alice.id, by: h.admin)
            #expect(try await h.engine.sessions.authenticate(token: session.token) == nil)
            await #expect(throws: RegentError(.notFound, "", field: "principalId")) {
                try await h.engine.directory.resetTOTP(of: alice.id, by: h.admin)
            }
            #expect(try await h.auditEvents().contains { $0.action == "mfa.totp_reset" })
        }
    }
}
