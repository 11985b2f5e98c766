import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

struct RequestRouterTests {
    func post(_ client: any TestClientProtocol, _ uri: String, _ token: String, _ body: [String: Any] = [:])
        async throws
        -> (HTTPResponse.Status, [String: Any])
    {
        try await call(client, .post, uri, token, body)
    }

    /// Admin assigns alice eligible; alice activates; bob approves; check says active until the end;
    /// alice cannot approve herself; a bystander cannot even see the request.
    @Test func activationWithApproval() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let bob = try await h.user("bob")
            try await h.user("carol")
            _ = try await h.role("orders-db-admin") {
                $0.requireMfa = false
                $0.approval = Approval(stages: [ApprovalStage(approvers: [bob.id])])
            }
            let admin = try await h.token(client, "admin", password: "admin-password")
            let alice = try await h.token(client, "alice")
            let bobToken = try await h.token(client, "bob")
            let carol = try await h.token(client, "carol")

            let (assigned, _) = try await post(
                client, "/v1/requests", admin,
                [
                    "action": "adminAssign", "principalId": "alice", "roleId": "orders-db-admin", "scope": "/prod",
                    "kind": "eligible",
                ])
            #expect(assigned == .created)
            let (filed, request) = try await post(
                client, "/v1/requests", alice,
                [
                    "action": "selfActivate", "roleId": "orders-db-admin", "scope": "/prod/db", "duration": "PT30M",
                    "justification": "INC-42 failover", "ticket": ["system": "jira", "number": "INC-42"],
                ])
            #expect(filed == .created)
            #expect(request["status"] as? String == "pendingApproval")
            let id = try #require(request["id"] as? String)

            let (selfApproval, problem) = try await post(client, "/v1/requests/\(id)/approve", alice)
            #expect(selfApproval == .forbidden)
            #expect(problem["type"] as? String == "urn:regent:problem:access-denied")
            try await client.execute(uri: "/v1/requests/\(id)", method: .get, headers: bearer(carol)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/requests/\(id)", method: .get, headers: bearer(bobToken)) {
                #expect($0.status == .ok)
            }

            let (approved, after) = try await post(
                client, "/v1/requests/\(id)/approve", bobToken, ["justification": "ok"])
            #expect(approved == .ok)
            #expect(after["status"] as? String == "provisioning")
            try await client.execute(
                uri: "/v1/check?principal=alice&role=orders-db-admin&scope=/prod/db/orders", method: .get,
                headers: bearer(alice)
            ) { (response) async throws in
                let body = try object(response)
                #expect(body["active"] as? Bool == true)
                #expect(body["until"] as? String == "2027-01-15T08:30:00.000Z")
            }
            try await client.execute(
                uri: "/v1/check?principal=alice&role=orders-db-admin&scope=/prod", method: .get, headers: bearer(carol)
            ) { #expect($0.status == .forbidden) }
        }
    }

    /// Policy refusals are 422 naming every rule; a missing fresh MFA alone is 401 mfa-required;
    /// bad scopes, durations and ids are 400 naming the field.
    @Test func refusals() async throws {
        try await ServerHarness.run { h, client in
            let alice = try await h.user("alice")
            let role = try await h.role("dba") { $0.maximumDuration = .hours(1) }
            try await h.makeEligible(alice.id, for: role)
            let token = try await h.token(client, "alice")
            let (tooLong, violation) = try await post(
                client, "/v1/requests", token,
                [
                    "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT2H",
                ])
            #expect(tooLong == .unprocessableContent)
            #expect(violation["type"] as? String == "urn:regent:problem:policy-violation")
            #expect(violation["failedRules"] as? [String] == ["maximumDuration", "requireJustification", "requireMfa"])

            let (mfa, mfaProblem) = try await post(
                client, "/v1/requests", token,
                [
                    "action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "PT1H", "justification": "x",
                ])
            #expect(mfa == .unauthorized)
            #expect(mfaProblem["type"] as? String == "urn:regent:problem:mfa-required")

            let bad: [([String: Any], String)] = [
                (["action": "selfActivate", "roleId": "dba", "scope": "/prod/../x"], "scope"),
                (["action": "selfActivate", "roleId": "dba", "scope": "/", "duration": "1 hour"], "duration"),
                (["action": "selfDeactivate", "roleId": "dba", "scope": "/", "assignmentId": "not-a-uuid"], ""),
                (["action": "adminAssign", "roleId": "dba", "scope": "/"], "principalId"),
            ]
            for (body, field) in bad {
                let (status, problem) = try await post(client, "/v1/requests", token, body)
                #expect(status == .badRequest, "\(body)")
                if !field.isEmpty { #expect(problem["field"] as? String == field) }
            }
            let (unknownAction, _) = try await post(
                client, "/v1/requests", token, ["action": "selfPromote", "roleId": "dba", "scope": "/"])
            #expect(unknownAction == .badRequest)
            let (unknownRole, _) = try await post(
                client, "/v1/requests", token, ["action": "selfActivate", "roleId": "nope", "scope": "/"])
            #expect(unknownRole == .notFound)
            let (notAdmin, _) = try await post(
                client, "/v1/requests", token,
                [
                    "action": "adminAssign", "principalId": "alice", "roleId": "dba", "scope": "/", "kind": "active",
                    "duration": "PT1H", "justification": "me",
                ])
            #expect(notAdmin == .forbidden)
        }
    }

    /// Filters and ids built from injection strings are answered as data, never as SQL.
    @Test func injectionStrings() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            let token = try await h.token(client, "alice")
            let adminToken = try await h.token(client, "admin", password: "admin-password")
            for hostile in ["alice' OR '1'='1", "x\"; DROP TABLE principals; --", "%27%20OR%201=1"] {
                let query = hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                // Not alice herself, so refused before any name is looked up.
                try await client.execute(
                    uri: "/v1/check?principal=\(query)&role=\(query)&scope=/", method: .get, headers: bearer(token)
                ) { #expect($0.status == .forbidden) }
                try await client.execute(
                    uri: "/v1/check?principal=\(query)&role=\(query)&scope=/", method: .get,
                    headers: bearer(adminToken)
                ) { #expect($0.status == .notFound) }
            }
            try await client.execute(uri: "/v1/me", method: .get, headers: bearer(token)) { #expect($0.status == .ok) }
        }
    }

    /// A plain user naming anyone but themselves is refused alike whether the name exists or not, so
    /// the answer says nothing about who exists.
    @Test func namesAreResolvedOnlyAfterAuthorization() async throws {
        try await ServerHarness.run { h, client in
            let alice = try await h.user("alice")
            try await h.user("bob")
            let token = try await h.token(client, "alice")
            for uri in [
                "/v1/check?principal=bob&role=regent-admin&scope=/",
                "/v1/check?principal=nobody-at-all&role=regent-admin&scope=/",
                "/v1/check?principal=bob&role=regent-admin&scope=/&x=1",
                "/v1/assignments?principal=bob", "/v1/assignments?principal=nobody-at-all",
                "/v1/audit?actor=bob", "/v1/audit?actor=nobody-at-all",
            ] {
                try await client.execute(uri: uri, method: .get, headers: bearer(token)) {
                    #expect($0.status == .forbidden, "\(uri)")
                }
            }
            for uri in ["/v1/principals/bob", "/v1/principals/nobody-at-all"] {
                try await client.execute(uri: uri, method: .get, headers: bearer(token)) {
                    #expect($0.status == .notFound, "\(uri)")
                }
            }
            for me in ["alice", "ALICE", alice.id.description.uppercased()] {
                try await client.execute(
                    uri: "/v1/check?principal=\(me)&role=regent-admin&scope=/", method: .get, headers: bearer(token)
                ) { #expect($0.status == .ok, "\(me)") }
            }
        }
    }
}
