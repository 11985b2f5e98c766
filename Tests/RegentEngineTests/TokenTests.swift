import Foundation
import JWTKit
import RegentConnectors
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

struct TokenTests {
    func publicKeys(_ h: Harness) async throws -> [String: Data] {
        Dictionary(
            uniqueKeysWithValues: try await h.engine.provisioning.tokenPublicKeys().map { ($0.kid, $0.publicKey) })
    }

    /// A token carries the active roles and expires no later than the earliest of them, and never
    /// after 15 minutes; it verifies with the published keys.
    @Test func expiryFollowsRoles() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let dba = try await h.role("dba")
            try await h.assign(alice.principalId, dba)
            let empty = try await h.engine.provisioning.issueRoleToken(for: alice, issuer: "https://regent.test")
            #expect(empty.expiresAt == t0 + 900)
            #expect(empty.roles == 0)
            _ = try await h.activate(alice, dba, duration: .minutes(10))
            let issued = try await h.engine.provisioning.issueRoleToken(for: alice, issuer: "https://regent.test")
            #expect(issued.expiresAt == t0 + 600)
            let claims = try await TokenIssuer.verify(issued.token, publicKeys: try await publicKeys(h))
            #expect(claims.roles.map(\.role) == ["dba"])
            #expect(claims.sub.value == alice.principalId.description)
            #expect(claims.iss.value == "https://regent.test")
        }
    }

    /// After a rotation, tokens signed with the old key still verify until they expire; then the old
    /// key leaves the JWKS.
    @Test func rotationKeepsIssuedTokensValid() async throws {
        try await withHarness { h in
            let alice = try await h.user("alice")
            let before = try await h.engine.provisioning.issueRoleToken(for: alice, issuer: "regent")
            try await h.engine.provisioning.rotateTokenKey(by: h.admin)
            let after = try await h.engine.provisioning.issueRoleToken(for: alice, issuer: "regent")
            var keys = try await publicKeys(h)
            #expect(keys.count == 2)
            _ = try await TokenIssuer.verify(before.token, publicKeys: keys)
            _ = try await TokenIssuer.verify(after.token, publicKeys: keys)
            h.clock.advance(by: 901)
            keys = try await publicKeys(h)
            #expect(keys.count == 1)
            await #expect(throws: (any Error).self) { try await TokenIssuer.verify(before.token, publicKeys: keys) }
        }
    }
}
