import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RegentCore
import RegentEngine
import RegentTestSupport
import Testing

/// `/v1/check` answered before the generated router and through it (an extra parameter sends a
/// call there) must say exactly the same, for every caller and every outcome.
struct CheckFastPathTests {
    @Test func bothPathsAgree() async throws {
        try await ServerHarness.run { h, client in
            let alice = try await h.user("alice")
            try await h.user("carol")
            let role = try await h.role("orders-db-admin") { $0.requireMfa = false }
            _ = try await h.engine.requests.submit(
                RequestDraft(
                    action: .adminAssign, requesterId: h.admin.principalId, principalId: alice.id, roleId: role.id,
                    scope: try Scope(parsing: "/prod"), kind: .active, justification: "on call", duration: .hours(8)),
                by: h.admin)
            let tokens = [
                "alice": try await h.token(client, "alice"), "carol": try await h.token(client, "carol"),
                "admin": try await h.token(client, "admin", password: "admin-password"),
            ]
            let queries = [
                "principal=alice&role=orders-db-admin&scope=/prod/db",
                "principal=alice&role=orders-db-admin&scope=/dev",
                "principal=nobody&role=orders-db-admin&scope=/prod", "principal=alice&role=orders-db-admin&scope=..",
                "principal=alice&role=no-such-role&scope=/prod", "principal=alice&role=orders-db-admin&scope=%2Fprod",
            ]
            var outcomes: Set<String> = []
            for (name, token) in tokens {
                for query in queries {
                    var answers: [(HTTPResponse.Status, [String: AnyHashable], String?)] = []
                    for uri in ["/v1/check?\(query)", "/v1/check?\(query)&generated=1"] {
                        answers.append(
                            try await client.execute(uri: uri, method: .get, headers: bearer(token)) {
                                (response) async throws in
                                let body = (try object(response)).compactMapValues { $0 as? AnyHashable }
                                return (response.status, body, response.headers[.contentType])
                            })
                    }
                    #expect(answers[0].0 == answers[1].0, "\(name) \(query)")
                    #expect(answers[0].1 == answers[1].1, "\(name) \(query)")
                    #expect(answers[0].2?.hasPrefix("application/") == true)
                    outcomes.insert("\(answers[0].0.code) \(answers[0].1["active"].map { "\($0)" } ?? "-")")
                }
            }
            // The comparison covered answers of every kind: active, inactive, refused, unknown, invalid.
            #expect(outcomes == ["200 1", "200 0", "403 -", "404 -", "400 -"], "\(outcomes)")
        }
    }
}
