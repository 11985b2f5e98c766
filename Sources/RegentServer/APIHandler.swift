import Foundation
import HTTPTypes
import OpenAPIRuntime
import RegentAPI
import RegentConnectors
import RegentCore
import RegentEngine

/// Implements the generated `APIProtocol` over the engine. Handlers translate between the API's
/// types and the domain's; decisions and refusals belong to the engine, and errors are mapped to
/// problem+json in ``ProblemMiddleware``.
struct APIHandler: APIProtocol {
    let engine: Engine
    /// The `iss` of role tokens.
    let issuer: String
    /// The organisation's OpenID providers, in the order they were configured.
    var signInProviders: [ProviderSignIn] = []

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    /// Ready when the database answers a read of the audit head.
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let (readiness, auditSeq) = await engine.readiness()
        var checks = Dictionary(uniqueKeysWithValues: readiness.results.map { ($0.key.rawValue, $0.value.detail) })
        checks["auditSeq"] = auditSeq.map(String.init) ?? ""
        checks["checkIndex"] = String(engine.index.count)
        checks["lastReconcile"] = engine.provisioning.lastReconciled?.rfc3339 ?? ""
        guard readiness.isReady else {
            let failing = Readiness.Check.allCases.compactMap { check in
                readiness.results[check].flatMap { $0.ok ? nil : "\(check.rawValue): \($0.detail)" }
            }
            return .serviceUnavailable(
                .init(
                    body: .applicationProblemJson(
                        .init(
                            _type: "urn:regent:problem:unavailable", title: "Not ready", status: 503,
                            detail: failing.joined(separator: "; "),
                            checks: .init(additionalProperties: checks)))))
        }
        return .ok(.init(body: .json(.init(status: .ok, checks: .init(additionalProperties: checks)))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws
        -> Operations.GetOpenAPIDocument.Output
    {
        .ok(.init(body: .yaml(.init(OpenAPIDocument.yaml ?? Data()))))
    }

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let caller = Caller.current
        let signedIn = try await engine.sessions.signIn(
            username: body.username, password: body.password, sourceAddress: caller.sourceAddress,
            userAgent: caller.userAgent)
        caller.cookies.setSession(signedIn.token, maxAge: Int(signedIn.expiresAt.timeIntervalSince(engine.clock.now())))
        return .ok(
            .init(
                body: .json(
                    .init(token: signedIn.token, mfaRequired: signedIn.mfaRequired, expiresAt: signedIn.expiresAt))))
    }

    func redeemSignIn(_ input: Operations.RedeemSignIn.Input) async throws -> Operations.RedeemSignIn.Output {
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let caller = Caller.current
        let signedIn = try await engine.sessions.redeemSignIn(
            code: body.code, verifier: body.verifier, sourceAddress: caller.sourceAddress, userAgent: caller.userAgent)
        return .ok(
            .init(
                body: .json(
                    .init(token: signedIn.token, mfaRequired: signedIn.mfaRequired, expiresAt: signedIn.expiresAt))))
    }

    func verifyMfa(_ input: Operations.VerifyMfa.Input) async throws -> Operations.VerifyMfa.Output {
        let (session, actor) = try Caller.required(allowPendingMFA: true)
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        if !Caller.current.steppedUp {
            try await engine.sessions.verifyTOTP(code: body.code, session: session, by: actor)
        }
        return .ok(
            .init(
                body: .json(.init(token: Caller.current.token ?? "", mfaRequired: false, expiresAt: session.expiresAt)))
        )
    }

    func beginTotpEnrollment(_ input: Operations.BeginTotpEnrollment.Input) async throws
        -> Operations.BeginTotpEnrollment.Output
    {
        let (_, actor) = try Caller.required()
        let (secret, uri) = try await engine.sessions.beginTOTPEnrollment(by: actor)
        return .created(.init(body: .json(.init(secret: secret, otpauthUri: uri))))
    }

    func confirmTotpEnrollment(_ input: Operations.ConfirmTotpEnrollment.Input) async throws
        -> Operations.ConfirmTotpEnrollment.Output
    {
        let (session, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        try await engine.sessions.confirmTOTPEnrollment(code: body.code, session: session, by: actor)
        return .ok(.init(body: .json(.init(enrolled: true))))
    }

    func listApiTokens(_ input: Operations.ListApiTokens.Input) async throws -> Operations.ListApiTokens.Output {
        let (_, actor) = try Caller.required()
        let tokens = try await engine.sessions.apiTokens(of: actor)
        return .ok(.init(body: .json(.init(items: tokens.map { Components.Schemas.ApiToken($0, secret: nil) }))))
    }

    func createApiToken(_ input: Operations.CreateApiToken.Input) async throws -> Operations.CreateApiToken.Output {
        let (session, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let access: TokenAccess = body.access == .check ? .check : .full
        let created = try await engine.sessions.createAPIToken(
            name: body.name, lifetime: try ISODuration(parsing: body.expiresIn, field: "expiresIn"), access: access,
            session: session, by: actor)
        return .created(
            .init(
                body: .json(
                    .init(
                        id: created.id, name: body.name, access: access == .check ? .check : .full,
                        token: created.token,
                        createdAt: engine.clock.now(), expiresAt: created.expiresAt))))
    }

    func revokeApiToken(_ input: Operations.RevokeApiToken.Input) async throws -> Operations.RevokeApiToken.Output {
        let (_, actor) = try Caller.required()
        try await engine.sessions.revokeAPIToken(id: input.path.tokenId.lowercased(), by: actor)
        return .noContent(.init())
    }

    func logout(_ input: Operations.Logout.Input) async throws -> Operations.Logout.Output {
        let (session, actor) = try Caller.required(allowPendingMFA: true)
        try await engine.sessions.signOut(session, by: actor)
        return .noContent(.init())
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        let (session, _) = try Caller.required(forChecks: true)
        return .ok(.init(body: .json(.init(session.principal))))
    }

    func createRequest(_ input: Operations.CreateRequest.Input) async throws -> Operations.CreateRequest.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let action = try RegentCore.Request.Action(body.action)
        let principalId =
            if let reference = body.principalId {
                try await engine.directory.principal(named: reference, by: actor).id
            } else if action.isSelfService {
                actor.principalId
            } else { throw APIProblem.invalid("principalId", "an admin action names the principal") }
        let kind: Assignment.Kind =
            if let kind = body.kind { kind == .eligible ? .eligible : .active } else if action.isSelfService {
                .active
            } else {
                throw APIProblem.invalid("kind", "an admin action names the kind: eligible or active")
            }
        let draft = RequestDraft(
            action: action, requesterId: actor.principalId, principalId: principalId,
            roleId: try await engine.directory.role(named: body.roleId).id, scope: try Scope(parsing: body.scope),
            kind: kind,
            justification: body.justification, ticket: body.ticket.map { .init(system: $0.system, number: $0.number) },
            start: body.start, duration: try body.duration.map { try ISODuration(parsing: $0) },
            targetAssignmentId: try body.assignmentId.map { try Self.id($0, "assignmentId") })
        let validationOnly = body.isValidationOnly ?? false
        let request = try await engine.requests.submit(draft, by: actor, validationOnly: validationOnly)
        return validationOnly ? .ok(.init(body: .json(.init(request)))) : .created(.init(body: .json(.init(request))))
    }

    func getRequest(_ input: Operations.GetRequest.Input) async throws -> Operations.GetRequest.Output {
        let (_, actor) = try Caller.required()
        let request = try await engine.requests.request(
            try Self.id(input.path.requestId, "requestId"), visibleTo: actor)
        return .ok(.init(body: .json(.init(request))))
    }

    func approveRequest(_ input: Operations.ApproveRequest.Input) async throws -> Operations.ApproveRequest.Output {
        let (_, actor) = try Caller.required()
        let justification: String? = if case .json(let body) = input.body { body.justification } else { nil }
        let request = try await engine.requests.approve(
            try Self.id(input.path.requestId, "requestId"), by: actor, justification: justification)
        return .ok(.init(body: .json(.init(request))))
    }

    func denyRequest(_ input: Operations.DenyRequest.Input) async throws -> Operations.DenyRequest.Output {
        let (_, actor) = try Caller.required()
        let justification: String? = if case .json(let body) = input.body { body.justification } else { nil }
        let request = try await engine.requests.deny(
            try Self.id(input.path.requestId, "requestId"), by: actor, justification: justification)
        return .ok(.init(body: .json(.init(request))))
    }

    func cancelRequest(_ input: Operations.CancelRequest.Input) async throws -> Operations.CancelRequest.Output {
        let (_, actor) = try Caller.required()
        let request = try await engine.requests.cancel(try Self.id(input.path.requestId, "requestId"), by: actor)
        return .ok(.init(body: .json(.init(request))))
    }

    func check(_ input: Operations.Check.Input) async throws -> Operations.Check.Output {
        let answer = try await CheckAnswer.answer(
            engine: engine, principal: input.query.principal, role: input.query.role, scope: input.query.scope)
        return .ok(
            .init(
                body: .json(
                    .init(
                        active: answer.match != nil, assignmentId: answer.match.map { $0.assignmentId.description },
                        until: answer.match?.until))
            ))
    }

    func issueToken(_ input: Operations.IssueToken.Input) async throws -> Operations.IssueToken.Output {
        let (_, actor) = try Caller.required(forChecks: true)
        let issued = try await engine.provisioning.issueRoleToken(for: actor, issuer: issuer)
        return .ok(.init(body: .json(.init(token: issued.token, expiresAt: issued.expiresAt))))
    }

    func getJwks(_ input: Operations.GetJwks.Input) async throws -> Operations.GetJwks.Output {
        let keys = try await engine.provisioning.tokenPublicKeys().map {
            TokenIssuer.jwk(kid: $0.kid, publicKey: $0.publicKey)
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        keys: keys.map {
                            .init(
                                kty: $0["kty"] ?? "", crv: $0["crv"] ?? "", x: $0["x"] ?? "", kid: $0["kid"] ?? "",
                                alg: $0["alg"] ?? "", use: $0["use"] ?? "")
                        }))))
    }

    static func id<T>(_ text: String, _ field: String) throws(APIProblem) -> Identifier<T> {
        guard let id = Identifier<T>(text) else {
            throw APIProblem.invalid(field, "'\(text.prefix(64))' is not a UUID")
        }
        return id
    }
}
