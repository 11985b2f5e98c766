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

struct DirectoryRouterTests {
    /// Everything an administrator needs is reachable through the API alone: users, a group, a role,
    /// a policy naming the group as approver, an eligible assignment; the policy reads back with
    /// the scope each rule comes from.
    @Test func administrationThroughTheAPI() async throws {
        try await ServerHarness.run { h, client in
            let admin = try await h.token(client, "admin", password: "admin-password")
            for name in ["alice", "bob"] {
                let (created, principal) = try await call(
                    client, .post, "/v1/principals", admin,
                    [
                        "kind": "user", "name": name, "displayName": name.capitalized,
                        "password": "a long enough password",
                    ])
                #expect(created == .created)
                #expect(principal["name"] as? String == name)
            }
            let (group, _) = try await call(
                client, .post, "/v1/principals", admin, ["kind": "group", "name": "leads", "members": ["bob"]])
            #expect(group == .created)
            let (role, _) = try await call(
                client, .post, "/v1/roles", admin, ["name": "orders-db-admin", "description": "Orders DB"])
            #expect(role == .created)
            let (stored, view) = try await call(
                client, .put, "/v1/roles/orders-db-admin/policy?scope=/prod", admin,
                [
                    "activation": [
                        "maximumDuration": "PT1H", "requireMfa": false,
                        "approval": ["stages": [["approvers": ["leads"], "requiredApprovals": 1, "timeout": "PT4H"]]],
                        "conditions": ["networks": ["10.0.0.0/8"], "maxActivations": ["count": 3, "window": "P1D"]],
                    ],
                    "activeAssignment": ["allowPermanent": false, "maximumDuration": "P30D"],
                ])
            #expect(stored == .ok)
            let origins = view["origins"] as? [String: String]
            #expect(origins?["maximumDuration"] == "/prod")
            #expect(origins?["requireTicket"] == nil)
            let effective = view["effective"] as? [String: Any]
            let activation = effective?["activation"] as? [String: Any]
            #expect(activation?["maximumDuration"] as? String == "PT1H")
            #expect(activation?["requireJustification"] as? Bool == true)

            let (below, inherited) = try await call(
                client, .get, "/v1/roles/orders-db-admin/policy?scope=/prod/db", admin)
            #expect(below == .ok)
            #expect((inherited["origins"] as? [String: String])?["approval"] == "/prod")
            #expect((inherited["own"] as? [String: Any])?["eligibleAssignment"] == nil)

            let (assigned, _) = try await call(
                client, .post, "/v1/requests", admin,
                [
                    "action": "adminAssign", "principalId": "alice", "roleId": "orders-db-admin", "scope": "/prod",
                    "kind": "eligible",
                ])
            #expect(assigned == .created)
            let alice = try await h.token(client, "alice", password: "a long enough password")
            let (mine, assignments) = try await call(client, .get, "/v1/assignments?kind=eligible", alice)
            #expect(mine == .ok)
            #expect((assignments["items"] as? [Any])?.count == 1)
        }
    }

    /// Bad policies are refused naming the field; nothing is stored.
    @Test func invalidPolicies() async throws {
        try await ServerHarness.run { h, client in
            _ = try await h.role("dba")
            let admin = try await h.token(client, "admin", password: "admin-password")
            let cases: [([String: Any], String)] = [
                (["activation": ["maximumDuration": "PT25H"]], "activation.maximumDuration"),
                (["activation": ["maximumDuration": "1h"]], "activation.maximumDuration"),
                (["activation": ["conditions": ["networks": ["10.0.0.0/33"]]]], "activation.conditions.networks"),
                (["activation": ["approval": ["stages": [["approvers": ["nobody"]]]]]], "principal"),
                (["eligibleAssignment": ["allowPermanent": false]], "eligibleAssignment.maximumDuration"),
            ]
            for (body, field) in cases {
                let (status, problem) = try await call(client, .put, "/v1/roles/dba/policy", admin, body)
                #expect([.badRequest, .notFound].contains(status), "\(body)")
                #expect(problem["field"] as? String == field, "\(body)")
            }
            let (_, view) = try await call(client, .get, "/v1/roles/dba/policy", admin)
            #expect((view["origins"] as? [String: String])?.isEmpty == true)
        }
    }

    /// Ordinary users cannot list principals, read other people's assignments or create anything.
    @Test func readsAndWritesAreLimited() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            try await h.user("bob")
            let alice = try await h.token(client, "alice")
            #expect(try await call(client, .get, "/v1/principals", alice).0 == .forbidden)
            #expect(try await call(client, .get, "/v1/principals/bob", alice).0 == .notFound)
            #expect(try await call(client, .get, "/v1/principals/alice", alice).0 == .ok)
            #expect(try await call(client, .get, "/v1/assignments?principal=bob", alice).0 == .forbidden)
            #expect(try await call(client, .get, "/v1/requests", alice).0 == .forbidden)
            #expect(try await call(client, .get, "/v1/requests?mine=true", alice).0 == .ok)
            #expect(try await call(client, .post, "/v1/roles", alice, ["name": "mine"]).0 == .forbidden)
            #expect(
                try await call(client, .post, "/v1/principals", alice, ["kind": "user", "name": "eve"]).0 == .forbidden)
            #expect(try await call(client, .put, "/v1/roles/regent-admin/policy", alice, [:]).0 == .forbidden)
        }
    }

    /// Pages follow their cursors to the end; a forged cursor is a 400.
    @Test func paging() async throws {
        try await ServerHarness.run { h, client in
            for n in 0..<7 {
                _ = try await h.engine.directory.createRole(
                    name: "role\(n)", description: "", entitlements: [], by: h.admin)
            }
            let admin = try await h.token(client, "admin", password: "admin-password")
            var names: [String] = []
            var cursor: String?
            repeat {
                let uri =
                    "/v1/roles?limit=3"
                    + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
                        ?? "")
                let (status, page) = try await call(client, .get, uri, admin)
                #expect(status == .ok)
                names += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                cursor = page["cursor"] as? String
            } while cursor != nil
            #expect(names.count == 11)  // 7 + the four built-in roles
            #expect(Set(names).count == 11)
            #expect(try await call(client, .get, "/v1/roles?cursor=bm9wZQ==", admin).0 == .badRequest)
            #expect(try await call(client, .get, "/v1/roles?limit=0", admin).0 == .badRequest)
        }
    }
}

struct AuditRouterTests {
    /// Search filters by action prefix and outcome, pages through its cursor, and the chain verifies.
    @Test func searchAndVerify() async throws {
        try await ServerHarness.run { h, client in
            try await h.user("alice")
            for _ in 0..<3 {
                try await client.execute(
                    uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                    body: json(["username": "alice", "password": "wrong"])
                ) { #expect($0.status == .unauthorized) }
            }
            let admin = try await h.token(client, "admin", password: "admin-password")
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let uri =
                    "/v1/audit?action=auth.login.&outcome=denied&limit=2"
                    + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
                        ?? "")
                let page = try await client.execute(uri: uri, method: .get, headers: bearer(admin)) {
                    (response) async throws in
                    #expect(response.status == .ok)
                    return try object(response)
                }
                let items = page["items"] as? [[String: Any]] ?? []
                #expect(
                    items.allSatisfy {
                        $0["action"] as? String == "auth.login.failed" && $0["outcome"] as? String == "denied"
                    })
                seen += items.compactMap { $0["seq"] as? Int }
                cursor = page["cursor"] as? String
            } while cursor != nil
            #expect(seen.count == 3)
            #expect(seen == seen.sorted(by: >))
            try await client.execute(uri: "/v1/audit/verify", method: .get, headers: bearer(admin)) {
                (response) async throws in
                let report = try object(response)
                #expect(report["intact"] as? Bool == true)
                #expect((report["events"] as? Int ?? 0) > 5)
            }
        }
    }
}

struct TargetRouterTests {
    /// Secrets are accepted, reported by name only, stored sealed and kept out of the audit log; a
    /// role can then name the target in an entitlement.
    @Test func secretsAreWriteOnly() async throws {
        try await ServerHarness.run { h, client in
            let admin = try await h.token(client, "admin", password: "admin-password")
            let secret = "correct-horse-battery-staple-42"
            let (created, target) = try await call(
                client, .post, "/v1/targets", admin,
                [
                    "kind": "postgres", "name": "orders-db", "scope": "/prod/db",
                    "config": ["dsn": "postgres://regent@127.0.0.1:5432/orders"], "secrets": ["password": secret],
                ])
            #expect(created == .created)
            #expect(target["secretNames"] as? [String] == ["password"])
            let (listed, page) = try await call(client, .get, "/v1/targets", admin)
            #expect(listed == .ok)
            let text = String(
                decoding: try JSONSerialization.data(withJSONObject: page, options: .withoutEscapingSlashes),
                as: UTF8.self)
            #expect(!text.contains(secret) && text.contains("postgres://regent@127.0.0.1:5432/orders"))
            let sealed = try await h.store.transaction { tx in
                try await tx.sealedTargetSecrets(try #require(tx.target(named: "orders-db")).id)
            }
            #expect(sealed != nil && sealed?.contains(secret) == false)
            let events = try await h.store.transaction { try await $0.auditEvents(after: 0, limit: 1000) }
            #expect(
                !events.contains {
                    $0.details.values.contains { $0.contains(secret) } || ($0.reason ?? "").contains(secret)
                })
            let targetId = try #require(target["id"] as? String)
            let (role, _) = try await call(
                client, .post, "/v1/roles", admin,
                [
                    "name": "orders-db-admin", "entitlements": [["targetId": targetId, "value": "orders_admin"]],
                ])
            #expect(role == .created)
            #expect(
                try await call(client, .post, "/v1/targets", admin, ["kind": "ssh", "name": "orders-db", "scope": "/"])
                    .0 == .conflict)
        }
    }
}
