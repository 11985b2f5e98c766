import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RegentCore
import RegentTestSupport
import Testing

/// The portal answers a refusal with the status the API gives the same error (one mapping),
/// and the page says what was refused.
struct PortalRefusalTests {
    func csrf(_ client: any TestClientProtocol, _ cookie: HTTPFields, page: String) async throws -> String {
        try await client.execute(uri: page, method: .get, headers: cookie) { (response) async throws in
            let html = String(buffer: response.body)
            guard let range = html.range(of: #"name="_csrf" value="([^"]+)""#, options: .regularExpression) else {
                throw HarnessError("no CSRF token on \(page) (\(response.status))")
            }
            return String(html[range].dropFirst(#"name="_csrf" value=""#.count).dropLast())
        }
    }

    @Test func formRefusalsTakeTheAPIStatus() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let token = try await h.token(client, "alice")
            let cookie: HTTPFields = [.cookie: "regent_session=\(token)"]
            let csrf = try await csrf(client, cookie, page: "/approvals")
            var form = cookie
            form[.contentType] = "application/x-www-form-urlencoded"
            // Nothing selected: invalid input, 400 as over the API.
            try await client.execute(
                uri: "/approvals", method: .post, headers: form, body: .init(string: "_csrf=\(csrf)&decision=approve")
            ) { (response) async throws in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("Select at least one request."))
            }
            // A request that does not exist: 404, as over the API.
            let missing = UUID().uuidString
            try await client.execute(
                uri: "/approvals", method: .post, headers: form,
                body: .init(string: "_csrf=\(csrf)&decision=approve&request=\(missing)")
            ) { (response) async throws in
                #expect(response.status == .notFound)
            }
        }
    }

    /// A page about a role that does not exist is a 404 page, not a 422.
    @Test func readRefusalsTakeTheAPIStatus() async throws {
        try await ServerHarness.run { h, client in
            let token = try await h.token(client, "admin", password: "admin-password")
            let cookie: HTTPFields = [.cookie: "regent_session=\(token)"]
            try await client.execute(uri: "/admin/policy?role=nope&scope=/", method: .get, headers: cookie) {
                (response) async throws in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("no such role"))
            }
        }
    }
}
