import Foundation
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

/// Plain-text "hashes" so the engine tests exercise the rules and the counting, not bcrypt.
struct LoginThrottleTests {
    func signIn(_ h: Harness, _ name: String, _ password: String, from address: String = "192.0.2.7") async throws
        -> SignedIn
    {
        try await h.engine.sessions.signIn(
            username: name, password: password, sourceAddress: IPAddress(address), userAgent: "test")
    }

    /// Five failures lock the account, even against the right password, until the lock ends; a
    /// success resets the count.
    @Test func accountLockout() async throws {
        try await withHarness { h in
            _ = try await h.engine.directory.createPrincipal(
                kind: .user, name: "alice", displayName: nil, email: nil, password: "right password", by: h.admin)
            for _ in 0..<4 {
                await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
                    try await signIn(h, "alice", "wrong")
                }
            }
            _ = try await signIn(h, "alice", "right password")  // resets
            for _ in 0..<5 {
                await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
                    try await signIn(h, "alice", "wrong")
                }
            }
            await #expect(throws: RegentError(.tooManyAttempts, "")) { try await signIn(h, "alice", "right password") }
            h.clock.advance(by: 900)
            _ = try await signIn(h, "alice", "right password")
            let actions = try await h.auditEvents().map(\.action)
            #expect(actions.filter { $0 == "auth.login.locked_out" }.count == 1)
            #expect(actions.filter { $0 == "auth.login.locked" }.count == 1)
        }
    }

    /// Many failures from one address, across many names, lock that address and not others.
    @Test func addressLockout() async throws {
        try await withHarness { h in
            _ = try await h.engine.directory.createPrincipal(
                kind: .user, name: "bob", displayName: nil, email: nil, password: "right password", by: h.admin)
            for n in 0..<50 {
                await #expect(throws: RegentError(.unauthenticated, "", field: "credentials")) {
                    try await signIn(h, "user\(n)", "x")
                }
            }
            await #expect(throws: RegentError(.tooManyAttempts, "")) { try await signIn(h, "bob", "right password") }
            _ = try await signIn(h, "bob", "right password", from: "198.51.100.1")
        }
    }
}

struct SessionCacheTests {
    /// A session is served from memory, but a change made behind this engine's back (another
    /// replica disabling the user) is seen within the cache lifetime; logout is seen at once.
    @Test func cacheBound() async throws {
        try await withHarness { h in
            let alice = try await h.engine.directory.createPrincipal(
                kind: .user, name: "alice", displayName: nil, email: nil, password: "right password", by: h.admin)
            let signedIn = try await h.engine.sessions.signIn(
                username: "alice", password: "right password", sourceAddress: nil, userAgent: nil)
            _ = try #require(try await h.engine.sessions.authenticate(token: signedIn.token))
            try await h.store.transaction { try await $0.setPrincipalEnabled(alice.id, false) }
            #expect(try await h.engine.sessions.authenticate(token: signedIn.token) != nil)
            h.clock.advance(by: h.engine.configuration.sessionCacheLifetime)
            #expect(try await h.engine.sessions.authenticate(token: signedIn.token) == nil)

            try await h.store.transaction { try await $0.setPrincipalEnabled(alice.id, true) }
            let again = try #require(try await h.engine.sessions.authenticate(token: signedIn.token))
            try await h.engine.sessions.signOut(again, by: ActorContext(principalId: alice.id, name: "alice"))
            #expect(try await h.engine.sessions.authenticate(token: signedIn.token) == nil)
        }
    }
}
