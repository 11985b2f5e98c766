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

struct AuthRouterTests {
    /// A correct password yields a token and an HttpOnly, SameSite=Strict session cookie; both work.
    @Test func loginBearerAndCookie() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let cookie = try await client.execute(
                uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                body: json(["username": "alice", "password": "correct horse"])
            ) { (response) async throws in
                #expect(response.status == .ok)
                #expect(try object(response)["mfaRequired"] as? Bool == false)
                let setCookie = try #require(response.headers[.setCookie])
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
                return String(setCookie.split(separator: ";")[0])
            }
            let token = try await h.token(client, "alice")
            for headers: HTTPFields in [bearer(token), [.cookie: cookie]] {
                try await client.execute(uri: "/v1/me", method: .get, headers: headers) { (response) async throws in
                    #expect(response.status == .ok)
                    #expect(try object(response)["name"] as? String == "alice")
                }
            }
        }
    }

    /// Behind an https public URL the API's session cookie is `Secure` like the portal's (one
    /// builder), and every API response, a refusal included, is `no-store`.
    @Test func credentialsAreProtected() async throws {
        try await ServerHarness.run(publicURL: "https://regent.example") { h, client in
            try await h.user("alice")
            let token = try await client.execute(
                uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                body: json(["username": "alice", "password": "correct horse"])
            ) { (response) async throws in
                #expect(response.headers[.setCookie]?.hasSuffix("; Secure") == true)
                #expect(response.headers[.cacheControl] == "no-store")
                return try #require(try object(response)["token"] as? String)
            }
            var headers = bearer(token)
            headers[.contentType] = "application/json"
            try await client.execute(
                uri: "/v1/auth/mfa", method: .post, headers: headers,
                body: json(["code": "000000"])
            ) { (response) async throws in
                #expect(response.status.code >= 400)
                #expect(response.headers[.cacheControl] == "no-store")
            }
            try await client.execute(
                uri: "/v1/me/tokens", method: .post, headers: headers,
                body: json(["name": "ci", "expiresIn": "P1D"])
            ) { (response) async throws in
                #expect(response.status == .created)
                #expect(response.headers[.cacheControl] == "no-store")
            }
        }
    }

    /// A database that does not answer is a 503 problem the client may retry, never a 500.
    @Test func storageUnavailableIs503() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            try await h.store.close()
            try await client.execute(
                uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                body: json(["username": "alice", "password": "correct horse"])
            ) { (response) async throws in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(try object(response)["type"] as? String == "urn:regent:problem:unavailable")
            }
        }
    }

    /// A wrong password and an unknown user get the same 401 problem, and both are audited.
    @Test func failedLogins() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            for (name, password) in [("alice", "wrong"), ("mallory", "whatever")] {
                try await client.execute(
                    uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                    body: json(["username": name, "password": password])
                ) { (response) async throws in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(try object(response)["type"] as? String == "urn:regent:problem:invalid-credentials")
                }
            }
            let failures = try await h.store.transaction { try await $0.auditEvents(after: 0, limit: 1000) }
                .filter { $0.action == "auth.login.failed" }
            #expect(failures.map(\.actor.name) == ["alice", "mallory"])
            #expect(failures.allSatisfy { $0.outcome == .denied })
        }
    }

    /// Without a session, with a made-up token, after logout, after the idle timeout, and for a
    /// disabled user: 401.
    @Test func sessionsEnd() async throws {
        try await ServerHarness.run { h, client in
            let alice = try await h.user("alice")
            func me(_ headers: HTTPFields) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/v1/me", method: .get, headers: headers) { $0.status }
            }
            #expect(try await me([:]) == .unauthorized)
            #expect(try await me(bearer("rgt_made_up")) == .unauthorized)

            let loggedOut = try await h.token(client, "alice")
            try await client.execute(uri: "/v1/auth/logout", method: .post, headers: bearer(loggedOut)) {
                #expect($0.status == .noContent)
            }
            #expect(try await me(bearer(loggedOut)) == .unauthorized)

            let idle = try await h.token(client, "alice")
            h.clock.advance(by: 1799)
            #expect(try await me(bearer(idle)) == .ok)
            h.clock.advance(by: 1800)
            #expect(try await me(bearer(idle)) == .unauthorized)

            let disabled = try await h.token(client, "alice")
            try await h.store.transaction { try await $0.setPrincipalEnabled(alice.id, false) }
            #expect(try await me(bearer(disabled)) == .unauthorized)
        }
    }

    /// Malformed JSON, unknown fields' types, and a body over 1 MiB are refused as problems, never 500.
    @Test func badBodies() async throws {
        try await ServerHarness.run { _, client in
            let cases: [(String, HTTPResponse.Status)] = [
                ("{", .badRequest), (#"{"username": 5, "password": "x"}"#, .badRequest),
                (#"{"password": "x"}"#, .badRequest),
                (#"{"username": "a", "password": "x", "extra": 1}"#, .badRequest),
                (String(repeating: "x", count: (1 << 20) + 1), .contentTooLarge),
            ]
            for (body, status) in cases {
                try await client.execute(
                    uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { (response) async throws in
                    #expect(response.status == status, "\(body.prefix(40))")
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
            }
        }
    }
}

struct LockoutRouterTests {
    /// After repeated failures the account answers 429 `login-locked`, right password or not.
    @Test func lockedAccount() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            func attempt(_ password: String) async throws -> (HTTPResponse.Status, String?) {
                try await client.execute(
                    uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                    body: json(["username": "alice", "password": password])
                ) { (response) async throws in (response.status, try object(response)["type"] as? String) }
            }
            for _ in 0..<5 { #expect(try await attempt("wrong").0 == .unauthorized) }
            let (status, type) = try await attempt("correct horse")
            #expect(status == .tooManyRequests)
            #expect(type == "urn:regent:problem:login-locked")
        }
    }
}

struct CSRFRouterTests {
    /// A cookie-authenticated POST from another origin is refused; the same with a bearer token is not.
    @Test func crossSiteCookiePost() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let token = try await h.token(client, "alice")
            let cookie: HTTPFields = [
                .cookie: "regent_session=\(token)", .origin: "https://evil.example", .contentType: "application/json",
            ]
            try await client.execute(uri: "/v1/auth/logout", method: .post, headers: cookie) {
                (response) async throws in
                #expect(response.status == .forbidden)
                #expect(try object(response)["type"] as? String == "urn:regent:problem:csrf")
            }
            var fetchMetadata: HTTPFields = [.cookie: "regent_session=\(token)"]
            fetchMetadata[HTTPField.Name("Sec-Fetch-Site")!] = "cross-site"
            try await client.execute(uri: "/v1/auth/logout", method: .post, headers: fetchMetadata) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/me", method: .get, headers: cookie) { #expect($0.status == .ok) }
            var withBearer = bearer(token)
            withBearer[.origin] = "https://evil.example"
            try await client.execute(uri: "/v1/auth/logout", method: .post, headers: withBearer) {
                #expect($0.status == .noContent)
            }
        }
    }
}

struct APITokenRouterTests {
    /// A token is shown once, works without an idle timeout until it expires, cannot mint tokens,
    /// is listed without its secret, and stops working when revoked.
    @Test func lifecycle() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let session = try await h.token(client, "alice")
            let (created, token) = try await call(
                client, .post, "/v1/me/tokens", session, ["name": "ci", "expiresIn": "P1D"])
            #expect(created == .created)
            let secret = try #require(token["token"] as? String)
            let id = try #require(token["id"] as? String)
            h.clock.advance(by: 3 * 3600)  // far past a session's idle timeout
            #expect(try await call(client, .get, "/v1/me", secret).0 == .ok)
            #expect(
                try await call(client, .post, "/v1/me/tokens", secret, ["name": "x", "expiresIn": "P1D"]).0
                    == .forbidden)
            let fresh = try await h.token(client, "alice")
            let (_, listed) = try await call(client, .get, "/v1/me/tokens", fresh)
            let items = listed["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1 && items[0]["token"] == nil)
            #expect(try await call(client, .delete, "/v1/me/tokens/\(id)", fresh).0 == .noContent)
            #expect(try await call(client, .get, "/v1/me", secret).0 == .unauthorized)
            #expect(try await call(client, .delete, "/v1/me/tokens/\(id)", fresh).0 == .notFound)
            let (tooLong, problem) = try await call(
                client, .post, "/v1/me/tokens", fresh, ["name": "ci", "expiresIn": "P91D"])
            #expect(tooLong == .badRequest && problem["field"] as? String == "expiresIn")
        }
    }

    /// A token that ends expires on time.
    @Test func expiry() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let session = try await h.token(client, "alice")
            let (_, token) = try await call(
                client, .post, "/v1/me/tokens", session, ["name": "short", "expiresIn": "PT10M"])
            let secret = try #require(token["token"] as? String)
            h.clock.advance(by: 599)
            #expect(try await call(client, .get, "/v1/me", secret).0 == .ok)
            h.clock.advance(by: 1)
            #expect(try await call(client, .get, "/v1/me", secret).0 == .unauthorized)
        }
    }
}
