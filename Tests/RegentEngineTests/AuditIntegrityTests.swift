import Foundation
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

/// Hostile text through the real audited paths — an unauthenticated sign-in, a justification and
/// ticket, an approver's denial — leaves a chain that verifies and records the text as given.
struct AuditIntegrityTests {
    static let hostile = [
        "mallet\u{0} was here", "\u{0}", "a\u{1}\u{1B}[31m\u{7F}", "e\u{301}\u{302}\u{303}", "😀\u{10FFFF}𝄞",
        String(repeating: "x\u{0}", count: 900),
    ]

    @Test(arguments: hostile)
    func hostileTextKeepsTheChainIntact(text: String) async throws {
        try await withHarness { h in
            await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
                _ = try await h.engine.sessions.signIn(
                    username: text, password: "x", sourceAddress: IPAddress("192.0.2.1"), userAgent: text)
            }
            let alice = try await h.user("alice")
            let bob = try await h.user("bob")
            let role = try await h.role("dba") {
                $0.approval = Approval(stages: [ApprovalStage(approvers: [bob.principalId])])
            }
            try await h.assign(alice.principalId, role)
            let request = try await h.engine.requests.submit(
                RequestDraft(
                    action: .selfActivate, requesterId: alice.principalId, principalId: alice.principalId,
                    roleId: role.id, scope: .root, kind: .active, justification: String(text.prefix(2000)),
                    ticket: Request.Ticket(system: String(text.prefix(100)), number: "1"), duration: .minutes(30)),
                by: alice)
            _ = try await h.engine.requests.deny(request.id, by: bob, justification: String(text.prefix(2000)))

            #expect(try await h.verifyChain().isIntact)
            let events = try await h.auditEvents()
            let failedLogin = try #require(events.first { $0.action == "auth.login.failed" })
            #expect(failedLogin.actor.name.utf8.elementsEqual(text.prefix(128).utf8))
            #expect(failedLogin.actor.userAgent.map { $0.utf8.elementsEqual(text.utf8) } == true)
            let denial = try #require(events.first { $0.action == "request.denied" })
            #expect(denial.reason.map { $0.utf8.elementsEqual(text.prefix(2000).utf8) } == true)
        }
    }
}
