import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RegentAPI
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

/// Every operation in openapi.yaml × every kind of actor, against the status each must get. The
/// test fails when the spec has an operation the matrix does not list, so a new endpoint cannot
/// ship without its authorization being stated here.
struct AuthorizationMatrixTests {
    enum Actor: String, CaseIterable {
        case anonymous, user, approver, auditor, securityReader, privilegedRoleAdmin, regentAdmin, limitedToken
    }

    struct Fixture: Sendable {
        var role: Role
        var bystander: Principal
        var target: Target
    }

    /// One sample call of an operation and the status each actor must get.
    struct Case {
        var operationId: String
        var method: HTTPRequest.Method
        var path: (Fixture, RegentCore.Request.ID) -> String
        var body: () -> [String: Any]? = { nil }
        var expected: (Actor) -> HTTPResponse.Status
    }

    static let readers: Set<Actor> = [.securityReader, .privilegedRoleAdmin, .regentAdmin]
    static let admins: Set<Actor> = [.privilegedRoleAdmin, .regentAdmin]
    static let directoryAdmins: Set<Actor> = [.regentAdmin]
    static let auditReaders: Set<Actor> = [.auditor, .securityReader, .regentAdmin]

    /// Any signed-in actor; a check-only API token only where `forChecks`.
    static func signedIn(_ status: HTTPResponse.Status, forChecks: Bool = false) -> (Actor) -> HTTPResponse.Status {
        { $0 == .anonymous ? .unauthorized : ($0 == .limitedToken && !forChecks) ? .forbidden : status }
    }

    static func only(_ allowed: Set<Actor>, _ ok: HTTPResponse.Status, otherwise: HTTPResponse.Status = .forbidden)
        -> (Actor) -> HTTPResponse.Status
    {
        { $0 == .anonymous ? .unauthorized : $0 == .limitedToken ? .forbidden : allowed.contains($0) ? ok : otherwise }
    }

    static var cases: [Case] {
        [
            Case(operationId: "getHealth", method: .get, path: { _, _ in "/healthz" }, expected: { _ in .ok }),
            Case(operationId: "getReadiness", method: .get, path: { _, _ in "/readyz" }, expected: { _ in .ok }),
            Case(
                operationId: "getOpenAPIDocument", method: .get, path: { _, _ in "/openapi.yaml" },
                expected: { _ in .ok }),
            Case(
                operationId: "login", method: .post, path: { _, _ in "/v1/auth/login" },
                body: { ["username": "zed", "password": "correct horse"] }, expected: { _ in .ok }),
            Case(
                operationId: "redeemSignIn", method: .post, path: { _, _ in "/v1/auth/sso" },
                body: { ["code": "unknown", "verifier": String(repeating: "v", count: 43)] },
                expected: { _ in .unauthorized }),
            Case(
                operationId: "listSignInProviders", method: .get, path: { _, _ in "/v1/auth/providers" },
                expected: { _ in .ok }),
            // The matrix's server has no provider: a device sign-in names one it does not know.
            Case(
                operationId: "beginDeviceSignIn", method: .post, path: { _, _ in "/v1/auth/providers/SSO/device" },
                expected: { _ in .notFound }),
            Case(
                operationId: "pollDeviceSignIn", method: .post, path: { _, _ in "/v1/auth/providers/SSO/device/poll" },
                body: { ["handle": "unknown"] }, expected: { _ in .notFound }),
            Case(
                operationId: "verifyMfa", method: .post, path: { _, _ in "/v1/auth/mfa" }, body: { ["code": "123456"] },
                expected: signedIn(.conflict)),
            Case(
                operationId: "logout", method: .post, path: { _, _ in "/v1/auth/logout" },
                expected: signedIn(.noContent)),
            Case(
                operationId: "getMe", method: .get, path: { _, _ in "/v1/me" }, expected: signedIn(.ok, forChecks: true)
            ),
            Case(operationId: "getMyRoles", method: .get, path: { _, _ in "/v1/me/roles" }, expected: signedIn(.ok)),
            Case(
                operationId: "listApiTokens", method: .get, path: { _, _ in "/v1/me/tokens" }, expected: signedIn(.ok)),
            Case(
                operationId: "createApiToken", method: .post, path: { _, _ in "/v1/me/tokens" },
                body: { ["name": "matrix", "expiresIn": "PT1H"] }, expected: signedIn(.created)),
            Case(
                operationId: "revokeApiToken", method: .delete, path: { _, _ in "/v1/me/tokens/\(UUID())" },
                expected: signedIn(.notFound)),
            Case(
                operationId: "beginTotpEnrollment", method: .post, path: { _, _ in "/v1/me/mfa/totp" },
                expected: signedIn(.created)),
            Case(
                // The enrollment begun just before waits for a code; a wrong one is refused as mfa-required.
                operationId: "confirmTotpEnrollment", method: .post, path: { _, _ in "/v1/me/mfa/totp/confirm" },
                body: { ["code": "123456"] }, expected: signedIn(.unauthorized)),
            Case(
                operationId: "listPrincipals", method: .get, path: { _, _ in "/v1/principals" },
                expected: only(readers, .ok)),
            Case(
                operationId: "createPrincipal", method: .post, path: { _, _ in "/v1/principals" },
                body: { ["kind": "service", "name": "svc-\(UUID().uuidString.prefix(8).lowercased())"] },
                expected: only(directoryAdmins, .created)),
            Case(
                operationId: "getPrincipal", method: .get, path: { f, _ in "/v1/principals/\(f.bystander.name)" },
                expected: only(readers, .ok, otherwise: .notFound)),
            Case(
                operationId: "addGroupMember", method: .post, path: { _, _ in "/v1/groups/crew/members" },
                body: { ["memberId": "zed"] }, expected: only(directoryAdmins, .noContent)),
            Case(
                // zed joined crew in the case above; only the regent-admin's call removes him.
                operationId: "removeGroupMember", method: .delete, path: { _, _ in "/v1/groups/crew/members/zed" },
                expected: only(directoryAdmins, .noContent)),
            Case(
                operationId: "planManifest", method: .post, path: { _, _ in "/v1/manifest/plan" },
                body: { ["documents": [] as [Any]] }, expected: only(readers, .ok)),
            Case(
                // Authorized, an empty manifest's apply meets a state hash that is not the live one.
                operationId: "applyManifest", method: .post, path: { _, _ in "/v1/manifest/apply" },
                body: { ["documents": [] as [Any], "stateHash": "stale"] }, expected: only(admins, .conflict)),
            Case(
                operationId: "getManifestSchema", method: .get, path: { _, _ in "/v1/manifest/schema.json" },
                expected: { _ in .ok }),
            Case(
                operationId: "exportManifest", method: .get, path: { _, _ in "/v1/manifest/export" },
                expected: only(readers, .ok)),
            Case(
                operationId: "listScimTokens", method: .get, path: { _, _ in "/v1/scim/tokens" },
                expected: only(directoryAdmins, .ok)),
            Case(
                operationId: "createScimToken", method: .post, path: { _, _ in "/v1/scim/tokens" },
                body: { ["name": "okta"] }, expected: only(directoryAdmins, .created)),
            Case(
                operationId: "revokeScimToken", method: .delete, path: { _, _ in "/v1/scim/tokens/\(UUID())" },
                expected: only(directoryAdmins, .notFound)),
            Case(
                operationId: "updatePrincipal", method: .patch, path: { f, _ in "/v1/principals/\(f.bystander.name)" },
                body: { ["displayName": "Zed Z."] }, expected: only(directoryAdmins, .ok)),
            Case(
                // zed never enrolled: the regent-admin is let through and told so.
                operationId: "resetPrincipalTOTP", method: .delete,
                path: { f, _ in "/v1/principals/\(f.bystander.name)/mfa/totp" },
                expected: only(directoryAdmins, .notFound)),
            Case(
                operationId: "listMyApprovals", method: .get, path: { _, _ in "/v1/me/approvals" },
                expected: signedIn(.ok)),
            Case(operationId: "listRoles", method: .get, path: { _, _ in "/v1/roles" }, expected: signedIn(.ok)),
            Case(
                operationId: "createRole", method: .post, path: { _, _ in "/v1/roles" },
                body: { ["name": "role-\(UUID().uuidString.prefix(8).lowercased())"] }, expected: only(admins, .created)
            ),
            Case(
                operationId: "getRole", method: .get, path: { f, _ in "/v1/roles/\(f.role.name)" },
                expected: signedIn(.ok)),
            Case(
                operationId: "updateRole", method: .patch, path: { f, _ in "/v1/roles/\(f.role.name)" },
                body: { ["description": "database administrators"] }, expected: only(admins, .ok)),
            Case(
                operationId: "getRolePolicy", method: .get,
                path: { f, _ in "/v1/roles/\(f.role.name)/policy?scope=/prod" },
                expected: signedIn(.ok)),
            Case(
                operationId: "setRolePolicy", method: .put,
                path: { f, _ in "/v1/roles/\(f.role.name)/policy?scope=/matrix" },
                body: { ["activation": ["requireTicket": true]] }, expected: only(admins, .ok)),
            Case(
                operationId: "listTargets", method: .get, path: { _, _ in "/v1/targets" }, expected: only(readers, .ok)),
            Case(
                operationId: "getTarget", method: .get, path: { f, _ in "/v1/targets/\(f.target.id)" },
                expected: only(readers, .ok)),
            Case(
                operationId: "updateTarget", method: .patch, path: { f, _ in "/v1/targets/\(f.target.id)" },
                body: { ["config": ["url": "http://127.0.0.1:9/hook"]] }, expected: only(admins, .ok)),
            Case(
                operationId: "createTarget", method: .post, path: { _, _ in "/v1/targets" },
                body: {
                    [
                        "kind": "webhook", "name": "hook-\(UUID().uuidString.prefix(8).lowercased())", "scope": "/",
                        "secrets": ["hmacKey": "s3cret"],
                    ]
                },
                expected: only(admins, .created)),
            Case(
                operationId: "listAssignments", method: .get, path: { _, _ in "/v1/assignments" },
                expected: signedIn(.ok)),
            Case(
                operationId: "listRequests", method: .get, path: { _, _ in "/v1/requests?status=pendingApproval" },
                expected: only(readers, .ok)),
            Case(
                operationId: "createRequest", method: .post, path: { _, _ in "/v1/requests" },
                body: {
                    [
                        "action": "adminAssign", "principalId": "zed", "roleId": "dba", "scope": "/matrix",
                        "kind": "eligible",
                        "isValidationOnly": true,
                    ]
                },
                expected: only(admins, .ok)),
            Case(
                operationId: "getRequest", method: .get, path: { _, r in "/v1/requests/\(r)" },
                expected: only(readers.union([.approver]), .ok, otherwise: .notFound)),
            Case(
                operationId: "approveRequest", method: .post, path: { _, r in "/v1/requests/\(r)/approve" },
                expected: only([.approver], .ok)),
            Case(
                operationId: "denyRequest", method: .post, path: { _, r in "/v1/requests/\(r)/deny" },
                expected: only([.approver], .ok)),
            Case(
                // The request is zed's: nobody else may see its credentials, or learn that it exists.
                operationId: "retrieveCredentials", method: .post, path: { _, r in "/v1/requests/\(r)/credentials" },
                expected: signedIn(.notFound)),
            Case(
                operationId: "cancelRequest", method: .post, path: { _, r in "/v1/requests/\(r)/cancel" },
                expected: only([], .ok)),
            Case(
                operationId: "searchAudit", method: .get, path: { _, _ in "/v1/audit?action=request.&limit=5" },
                expected: only(auditReaders, .ok)),
            Case(
                operationId: "verifyAudit", method: .get, path: { _, _ in "/v1/audit/verify" },
                expected: only(auditReaders, .ok)),
            Case(
                operationId: "issueToken", method: .post, path: { _, _ in "/v1/tokens" },
                expected: signedIn(.ok, forChecks: true)),
            Case(
                // The harness has no SSH CA: signed-in callers are let through and told so.
                operationId: "issueSshCertificates", method: .post, path: { _, _ in "/v1/ssh/certificates" },
                body: { ["publicKey": "ssh-ed25519 AAAA"] }, expected: signedIn(.serviceUnavailable)),
            Case(
                operationId: "getSshCaKey", method: .get, path: { _, _ in "/v1/ssh/ca.pub" },
                expected: { _ in .notFound }),
            Case(
                operationId: "getSshRevocationList", method: .get, path: { _, _ in "/v1/ssh/revoked.krl" },
                expected: { _ in .notFound }),
            Case(
                operationId: "listFailingRevocations", method: .get, path: { _, _ in "/v1/revocations/failing" },
                expected: only(readers, .ok)),
            Case(
                operationId: "getMyNotificationSettings", method: .get, path: { _, _ in "/v1/me/notifications" },
                expected: signedIn(.ok)),
            Case(
                operationId: "setMyNotificationSettings", method: .put, path: { _, _ in "/v1/me/notifications" },
                body: { ["nonCriticalEmail": false] }, expected: signedIn(.ok)),
            Case(
                operationId: "exportAudit", method: .get, path: { _, _ in "/v1/audit/export?format=csv" },
                expected: only(auditReaders, .ok)),
            Case(
                operationId: "reportAssignments", method: .get,
                path: { _, _ in "/v1/reports/assignments?format=jsonl" },
                expected: only(readers, .ok)),
            Case(
                operationId: "createReview", method: .post, path: { _, _ in "/v1/reviews" },
                body: {
                    ["name": "dba review", "reviewers": ["type": "self"], "recurrence": "once", "duration": "P7D"]
                },
                expected: only(admins, .created)),
            Case(
                operationId: "listReviews", method: .get, path: { _, _ in "/v1/reviews" }, expected: only(readers, .ok)),
            Case(
                operationId: "listReviewInstances", method: .get,
                path: { _, _ in "/v1/reviews/00000000-0000-0000-0000-000000000000/instances" },
                expected: only(readers, .ok)),
            Case(
                // No such occurrence: those allowed to apply are told so.
                operationId: "applyReview", method: .post,
                path: { _, _ in "/v1/review-instances/00000000-0000-0000-0000-000000000000/apply" },
                expected: only(admins, .notFound)),
            Case(
                operationId: "decideReviewItem", method: .post,
                path: { _, _ in
                    "/v1/review-instances/00000000-0000-0000-0000-000000000000/items/00000000-0000-0000-0000-000000000000/decision"
                },
                body: { ["decision": "approve"] }, expected: signedIn(.notFound)),
            Case(
                operationId: "listMyReviewItems", method: .get, path: { _, _ in "/v1/me/reviews" },
                expected: signedIn(.ok)),
            Case(operationId: "listAlerts", method: .get, path: { _, _ in "/v1/alerts" }, expected: only(readers, .ok)),
            Case(
                // No alert is raised in the fixture: those allowed to dismiss are told so.
                operationId: "dismissAlert", method: .post, path: { _, _ in "/v1/alerts/breakGlassUsed/dismiss" },
                body: { ["reason": "expected"] }, expected: only(admins, .notFound)),
            Case(
                operationId: "listAlertRules", method: .get, path: { _, _ in "/v1/alerts/rules" },
                expected: only(readers, .ok)),
            Case(
                operationId: "setAlertRule", method: .put, path: { _, _ in "/v1/alerts/rules/activationWithoutMfa" },
                body: { ["enabled": true] }, expected: only(admins, .ok)),
            Case(
                operationId: "getJwks", method: .get, path: { _, _ in "/.well-known/jwks.json" }, expected: { _ in .ok }
            ),
            Case(
                operationId: "check", method: .get,
                path: { f, _ in "/v1/check?principal=\(f.bystander.name)&role=dba&scope=/prod" },
                expected: only(readers, .ok)),
        ]
    }

    /// The matrix lists exactly the operations of the served spec.
    @Test func matrixCoversTheSpec() throws {
        let spec = String(decoding: try #require(OpenAPIDocument.yaml), as: UTF8.self)
        let regex = try Regex("operationId: ([A-Za-z]+)")
        let inSpec = Set(spec.matches(of: regex).compactMap { $0.output[1].substring.map(String.init) })
        #expect(inSpec == Set(Self.cases.map(\.operationId)))
    }

    /// Every actor gets exactly the expected status from every operation.
    @Test func everyOperationForEveryActor() async throws {
        try await ServerHarness.run { h, client in
            let role = try await h.role("dba")
            let zed = try await h.user("zed")
            _ = try await h.engine.directory.createPrincipal(
                kind: .group, name: "crew", displayName: nil, email: nil, password: nil, by: h.admin)
            var names: [Actor: String] = [:]
            for actor in Actor.allCases where actor != .anonymous {
                names[actor] = actor == .regentAdmin ? "admin" : actor.rawValue.lowercased()
                guard actor != .regentAdmin else { continue }
                let principal = try await h.user(actor.rawValue.lowercased())
                let builtIn: Role.BuiltIn? =
                    switch actor {
                    case .auditor: .auditor
                    case .securityReader: .securityReader
                    case .privilegedRoleAdmin: .privilegedRoleAdmin
                    default: nil
                    }
                if let builtIn {
                    let builtInRole = try await h.engine.directory.role(named: builtIn.rawValue)
                    _ = try await h.engine.requests.submit(
                        RequestDraft(
                            action: .adminAssign, requesterId: h.admin.principalId, principalId: principal.id,
                            roleId: builtInRole.id, scope: .root, kind: .active, justification: "matrix",
                            duration: .days(30)),
                        by: h.admin)
                }
            }
            let approver = try await h.engine.directory.principal(named: "approver", by: h.admin)
            _ = try await h.engine.directory.setPolicy(
                {
                    var p = Policy(); p.requireMfa = false;
                    p.approval = Approval(stages: [ApprovalStage(approvers: [approver.id])]); return p
                }(),
                role: role.id, scope: .root, by: h.admin)
            try await h.makeEligible(zed.id, for: role)
            let zedActor = ActorContext(principalId: zed.id, name: "zed", mfaVerifiedAt: h.clock.now())
            let limitedSession = try #require(
                try await h.engine.sessions.authenticate(token: try await h.token(client, "limitedtoken")))
            let limitedToken = try await h.engine.sessions.createAPIToken(
                name: "checks", lifetime: .days(1), access: .check, session: limitedSession,
                by: ActorContext(principalId: limitedSession.principal.id, name: "limitedtoken")
            ).token
            let target = try await h.engine.provisioning.createTarget(
                kind: .webhook, name: "matrix-hook", scope: .root, config: [:], secrets: [:], by: h.admin)
            let fixture = Fixture(role: role, bystander: zed, target: target)

            for testCase in Self.cases {
                for actor in Actor.allCases {
                    // A fresh pending request of zed's for every call, so decisions never collide.
                    let pending = try await h.engine.requests.submit(
                        RequestDraft(
                            action: .selfActivate, requesterId: zed.id, principalId: zed.id, roleId: role.id,
                            scope: .root, kind: .active, justification: "matrix", duration: .hours(1)),
                        by: zedActor)
                    let body = testCase.body()
                    var headers: HTTPFields = body == nil ? [:] : [.contentType: "application/json"]
                    if actor == .limitedToken {
                        headers[.authorization] = "Bearer \(limitedToken)"
                    } else if let name = names[actor] {
                        let password = actor == .regentAdmin ? "admin-password" : "correct horse"
                        headers[.authorization] = "Bearer \(try await h.token(client, name, password: password))"
                    }
                    let (status, type) = try await client.execute(
                        uri: testCase.path(fixture, pending.id), method: testCase.method, headers: headers,
                        body: body.map(json)
                    ) { (response) async throws in
                        (response.status, response.status.code >= 400 ? try object(response)["type"] as? String : nil)
                    }
                    #expect(status == testCase.expected(actor), "\(testCase.operationId) as \(actor)")
                    if actor != .anonymous {
                        #expect(type != "urn:regent:problem:unauthenticated", "\(testCase.operationId) as \(actor)")
                    }
                    _ = try? await h.engine.requests.cancel(pending.id, by: zedActor)
                    // An approval granted the activation: take it away so the next call can file again.
                    if let granted = try await h.engine.requests.request(pending.id), let id = granted.assignmentId,
                        [.provisioning, .provisioned].contains(granted.status)
                    {
                        _ = try await h.engine.requests.submit(
                            RequestDraft(
                                action: .adminRemove, requesterId: h.admin.principalId, principalId: zed.id,
                                roleId: role.id, scope: .root, kind: .active, targetAssignmentId: id),
                            by: h.admin)
                    }
                }
            }
        }
    }
}
