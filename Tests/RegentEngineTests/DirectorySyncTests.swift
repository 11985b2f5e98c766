import Foundation
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

/// The directory (SCIM) provisioning users and groups: leaving a group, deactivation and deletion
/// take access away at once; names as the directory spells them, never merged; local principals
/// out of its reach.
struct DirectorySyncTests {
    func client(_ h: Harness) async throws -> DirectoryClient {
        let created = try await h.engine.directorySync.createToken(name: "entra", by: h.admin)
        return try #require(try await h.engine.directorySync.authenticate(token: created.token))
    }

    func live(_ h: Harness, _ principal: Principal.ID) async throws -> [Assignment] {
        try await h.store.transaction {
            try await $0.assignments(AssignmentFilter(principalIds: [principal], states: AssignmentFilter.live))
        }
    }

    @Test func leavingAGroupWithdrawsWhatItGave() async throws {
        try await withHarness { h in
            let scim = try await client(h)
            let zoe = try await h.engine.directorySync.createUser(
                DirectoryUserDraft(userName: "Zoë.O'Brien@Contoso.com", displayName: "Zoë O'Brien"), by: scim)
            #expect(zoe.principal.name == "zoe.obrien@contoso.com")
            let dbas = try await h.engine.directorySync.createGroup(
                DirectoryGroupDraft(displayName: "DBAs", members: [zoe.principal.id]), by: scim)
            #expect(dbas.members.map(\.id) == [zoe.principal.id])
            let role = try await h.role("dba")
            try await h.assign(dbas.principal.id, role, kind: .eligible)
            let actor = ActorContext(principalId: zoe.principal.id, name: zoe.principal.name)
            let activation = try await h.activate(actor, role)
            #expect(h.engine.check(principal: zoe.principal.id, role: role.id, scope: .root) != nil)

            let left = try await h.engine.directorySync.updateGroup(dbas.principal.id, by: scim) { group in
                var draft = group.draft
                draft.members = []
                return draft
            }
            #expect(left.members.isEmpty)
            #expect(h.engine.check(principal: zoe.principal.id, role: role.id, scope: .root) == nil)
            #expect(try await h.engine.requests.request(activation.id)?.status == .revoked)
            let assignmentId = try #require(activation.assignmentId)
            #expect(try await h.store.transaction { try await $0.hasPendingJob(.revoke(assignmentId)) })
            let actions = try await h.auditEvents().map(\.action)
            #expect(
                actions.suffix(4) == [
                    "directory.group_updated", "group.member_removed", "assignment.withdrawn", "request.revoked",
                ])
            let withdrawn = try #require(try await h.auditEvents().last { $0.action == "assignment.withdrawn" })
            #expect(withdrawn.actor.name == "scim:entra")
            #expect(withdrawn.actor.principalId == nil)
        }
    }

    @Test func deactivationEndsEverythingButEligibility() async throws {
        try await withHarness { h in
            let scim = try await client(h)
            let bob = try await h.engine.directorySync.createUser(
                DirectoryUserDraft(userName: "bob@contoso.com", active: true), by: scim)
            let role = try await h.role("ops")
            try await h.assign(bob.principal.id, role, kind: .eligible)
            let actor = ActorContext(principalId: bob.principal.id, name: bob.principal.name)
            _ = try await h.activate(actor, role)
            #expect(h.engine.check(principal: bob.principal.id, role: role.id, scope: .root) != nil)

            let off = try await h.engine.directorySync.updateUser(bob.principal.id, by: scim) { user in
                var draft = user.draft
                draft.active = false
                return draft
            }
            #expect(!off.principal.isEnabled)
            #expect(h.engine.check(principal: bob.principal.id, role: role.id, scope: .root) == nil)
            #expect(try await live(h, bob.principal.id).map(\.kind) == [.eligible])

            let on = try await h.engine.directorySync.updateUser(bob.principal.id, by: scim) { user in
                var draft = user.draft
                draft.active = true
                return draft
            }
            #expect(on.principal.isEnabled)
            #expect(h.engine.check(principal: bob.principal.id, role: role.id, scope: .root) == nil)
            #expect(try await live(h, bob.principal.id).map(\.kind) == [.eligible])

            try await h.engine.directorySync.deleteUser(bob.principal.id, by: scim)
            #expect(try await live(h, bob.principal.id).isEmpty)
            await #expect(throws: RegentError.self) { try await h.engine.directorySync.user(bob.principal.id) }
            // The name stays with the history kept under it.
            await #expect(throws: RegentError(.conflict, "", field: "userName")) {
                try await h.engine.directorySync.createUser(DirectoryUserDraft(userName: "BOB@contoso.com"), by: scim)
            }
        }
    }

    @Test func namesAreNeverMerged() async throws {
        try await withHarness { h in
            let scim = try await client(h)
            _ = try await h.engine.directorySync.createUser(DirectoryUserDraft(userName: "Zoë@Contoso.com"), by: scim)
            // Same name without case: taken.
            await #expect(throws: RegentError(.conflict, "", field: "userName")) {
                try await h.engine.directorySync.createUser(DirectoryUserDraft(userName: "zoë@contoso.com"), by: scim)
            }
            // Another person whose name derives to the same Regent name: refused, not merged.
            await #expect(throws: RegentError(.conflict, "", field: "userName")) {
                try await h.engine.directorySync.createUser(DirectoryUserDraft(userName: "zoe@contoso.com"), by: scim)
            }
            // A local principal's name is not the directory's to take.
            await #expect(throws: RegentError(.conflict, "", field: "userName")) {
                try await h.engine.directorySync.createUser(DirectoryUserDraft(userName: "Admin"), by: scim)
            }
            #expect(try await h.engine.directorySync.users().count == 1)
            let refusals = try await h.auditEvents().filter { $0.action == "directory.change.refused" }
            #expect(refusals.count == 3)
        }
    }

    @Test func localPrincipalsAreOutOfReach() async throws {
        try await withHarness { h in
            let scim = try await client(h)
            await #expect(throws: RegentError(.notFound, "", field: "id")) {
                try await h.engine.directorySync.deleteUser(h.admin.principalId, by: scim)
            }
            let crew = try await h.group("crew", members: [])
            await #expect(throws: RegentError(.notFound, "", field: "id")) {
                _ = try await h.engine.directorySync.updateGroup(crew, by: scim) { $0.draft }
            }
            let group = try await h.engine.directorySync.createGroup(DirectoryGroupDraft(displayName: "Ops"), by: scim)
            // A member must be a principal the directory provisions; nothing is applied otherwise.
            await #expect(throws: RegentError(.notFound, "", field: "members")) {
                _ = try await h.engine.directorySync.updateGroup(group.principal.id, by: scim) { current in
                    var draft = current.draft
                    draft.members = [h.admin.principalId]
                    return draft
                }
            }
            #expect(try await h.engine.directorySync.group(group.principal.id).members.isEmpty)
        }
    }

    @Test func scimTokensAreForSCIMOnly() async throws {
        try await withHarness { h in
            let created = try await h.engine.directorySync.createToken(name: "okta", by: h.admin)
            #expect(try await h.engine.sessions.authenticate(token: created.token) == nil)
            #expect(try await h.engine.directorySync.authenticate(token: created.token)?.name == "okta")
            try await h.engine.directorySync.revokeToken(id: created.record.id, by: h.admin)
            #expect(try await h.engine.directorySync.authenticate(token: created.token) == nil)
            let bob = try await h.user("bob")
            await #expect(throws: RegentError.self) {
                try await h.engine.directorySync.createToken(name: "mine", by: bob)
            }
        }
    }
}
