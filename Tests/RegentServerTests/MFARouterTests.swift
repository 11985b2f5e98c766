import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RegentAudit
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

/// Decodes unpadded base32, as an authenticator app reads the enrollment secret.
func base32Decode(_ text: String) -> Data {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var bytes: [UInt8] = []
    var buffer: UInt32 = 0
    var bits = 0
    for character in text {
        guard let value = alphabet.firstIndex(of: character) else { continue }
        buffer = buffer << 5 | UInt32(value)
        bits += 5
        if bits >= 8 {
            bytes.append(UInt8(buffer >> UInt32(bits - 8) & 0xff))
            bits -= 8
        }
    }
    return Data(bytes)
}

struct MFARouterTests {
    func post(_ client: any TestClientProtocol, _ uri: String, _ headers: HTTPFields, _ body: [String: Any] = [:])
        async throws
        -> (HTTPResponse.Status, [String: Any])
    {
        try await client.execute(uri: uri, method: .post, headers: headers, body: json(body)) {
            (response) async throws in
            (response.status, try object(response))
        }
    }

    /// Enroll, confirm, then sign in again: the session can do nothing until a code is verified, a
    /// used code is refused, and a later code passes.
    @Test func enrollmentAndLoginStep() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let first = try await h.token(client, "alice")
            let (started, enrollment) = try await post(client, "/v1/me/mfa/totp", bearer(first))
            #expect(started == .created)
            let secret = try #require(enrollment["secret"] as? String)
            #expect(
                (enrollment["otpauthUri"] as? String)?.hasPrefix("otpauth://totp/Regent:alice?secret=\(secret)") == true
            )
            let totp = TOTP(secret: base32Decode(secret))
            func code() -> String { totp.code(atStep: TOTP.step(at: h.clock.now())) }

            let (wrong, _) = try await post(client, "/v1/me/mfa/totp/confirm", bearer(first), ["code": "000000"])
            #expect(wrong == .unauthorized)
            let (confirmed, _) = try await post(client, "/v1/me/mfa/totp/confirm", bearer(first), ["code": code()])
            #expect(confirmed == .ok)

            h.clock.advance(by: 30)
            let (login, signedIn) = try await post(
                client, "/v1/auth/login", [.contentType: "application/json"],
                ["username": "alice", "password": "correct horse"])
            #expect(login == .ok)
            #expect(signedIn["mfaRequired"] as? Bool == true)
            let second = try #require(signedIn["token"] as? String)
            try await client.execute(uri: "/v1/me", method: .get, headers: bearer(second)) { (response) async throws in
                #expect(response.status == .unauthorized)
                #expect(try object(response)["type"] as? String == "urn:regent:problem:mfa-required")
            }
            let current = code()
            let (verified, _) = try await post(client, "/v1/auth/mfa", bearer(second), ["code": current])
            #expect(verified == .ok)
            try await client.execute(uri: "/v1/me", method: .get, headers: bearer(second)) { #expect($0.status == .ok) }
            let (replayed, _) = try await post(client, "/v1/auth/mfa", bearer(second), ["code": current])
            #expect(replayed == .unauthorized)
            let failures = try await h.store.transaction { try await $0.auditEvents(after: 0, limit: 1000) }
                .filter { $0.action == "auth.mfa.failed" }
            #expect(failures.count == 2)
        }
    }

    /// An activation whose policy needs a fresh MFA passes with X-Regent-OTP and not without it.
    @Test func stepUpAtActivation() async throws {
        try await ServerHarness.run { h, client in
            let alice = try await h.user("alice")
            let role = try await h.role("dba") { $0.mfaFreshness = .minutes(10) }
            try await h.makeEligible(alice.id, for: role)
            let token = try await h.token(client, "alice")
            let (_, enrollment) = try await post(client, "/v1/me/mfa/totp", bearer(token))
            let totp = TOTP(secret: base32Decode(enrollment["secret"] as? String ?? ""))
            _ = try await post(
                client, "/v1/me/mfa/totp/confirm", bearer(token),
                ["code": totp.code(atStep: TOTP.step(at: h.clock.now()))])
            h.clock.advance(by: 11 * 60)
            let activation: [String: Any] = [
                "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT1H", "justification": "INC-7",
            ]
            let (stale, problem) = try await post(client, "/v1/requests", bearer(token), activation)
            #expect(stale == .unauthorized)
            #expect(problem["type"] as? String == "urn:regent:problem:mfa-required")
            var headers = bearer(token)
            headers[HTTPField.Name("X-Regent-OTP")!] = totp.code(atStep: TOTP.step(at: h.clock.now()))
            let (granted, request) = try await post(client, "/v1/requests", headers, activation)
            #expect(granted == .created)
            #expect(request["status"] as? String == "provisioning")
        }
    }
}
