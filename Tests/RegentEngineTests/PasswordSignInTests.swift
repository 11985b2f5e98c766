import Foundation
import RegentAudit
import RegentCore
import RegentEngine
import RegentTestSupport
import Testing

/// With people signing in through the organisation's provider, passwords are for the break-glass
/// accounts only: the names of the `breakGlassUsed` alert rule, whose sign-ins it reports.
struct PasswordSignInTests {
    @Test func onlyBreakGlassAccountsUsePasswords() async throws {
        let h = try await Harness.make(configuration: EngineConfiguration(passwordSignIn: .breakGlass))
        _ = try await h.engine.directory.createPrincipal(
            kind: .user, name: "bob", displayName: nil, email: nil, password: "bob password 123", by: h.admin)
        func signIn(_ name: String, _ password: String) async throws -> SignedIn {
            try await h.engine.sessions.signIn(username: name, password: password, sourceAddress: nil, userAgent: nil)
        }
        await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
            try await signIn("bob", "bob password 123")
        }
        // Refused before the password is looked at: a wrong one gets the same answer.
        await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
            try await signIn("admin", "wrong")
        }
        await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
            try await signIn("admin", "harness-admin-password")
        }
        try await h.engine.governance.setAlertSettings(
            AlertSettings(window: .days(7), names: ["admin"]), for: .breakGlassUsed, by: h.admin)
        let admin = try await signIn("admin", "harness-admin-password")
        #expect(admin.principal.name == "admin")
        let refused = try await h.auditEvents().filter { $0.action == "auth.login.failed" }
        #expect(refused.count == 3)
        #expect(refused.allSatisfy { $0.reason?.contains("break-glass") == true })
        await h.close()
    }
}
