import Foundation
import OpenAPIRuntime
import RegentAPI
import RegentConnectors
import RegentCore
import RegentEngine

/// What provisioning hands to people: SSH certificates, credentials shown once, and the
/// revocations that keep failing.
extension APIHandler {
    func issueSshCertificates(_ input: Operations.IssueSshCertificates.Input) async throws
        -> Operations.IssueSshCertificates.Output
    {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let role = try await body.role.asyncMap { try await engine.directory.roleID(named: $0) }
        let issued = try await engine.provisioning.issueSSHCertificates(
            publicKey: body.publicKey, role: role, by: actor)
        return .created(
            .init(
                body: .json(
                    .init(
                        items: issued.map {
                            .init(
                                certificate: $0.certificate.line, serial: String($0.certificate.serial),
                                principals: $0.certificate.principals, validBefore: $0.certificate.validBefore,
                                role: $0.roleName)
                        }))))
    }

    func getSshCaKey(_ input: Operations.GetSshCaKey.Input) async throws -> Operations.GetSshCaKey.Output {
        guard let authority = engine.sshAuthority else {
            throw RegentError(.notFound, "this server has no SSH certificate authority", field: "ssh")
        }
        return .ok(.init(body: .plainText(HTTPBody(authority.publicKeyLine + "\n"))))
    }

    func getSshRevocationList(_ input: Operations.GetSshRevocationList.Input) async throws
        -> Operations.GetSshRevocationList.Output
    {
        guard let authority = engine.sshAuthority else {
            throw RegentError(.notFound, "this server has no SSH certificate authority", field: "ssh")
        }
        return .ok(.init(body: .binary(HTTPBody(try await authority.revocationList()))))
    }

    func listFailingRevocations(_ input: Operations.ListFailingRevocations.Input) async throws
        -> Operations.ListFailingRevocations.Output
    {
        let (_, actor) = try Caller.required()
        let (position, limit) = try Cursor.decode(input.query.cursor, limit: input.query.limit)
        try await engine.authorize(actor, .readEverything)
        let page = try await engine.provisioning.failingRevocations(after: position, limit: limit)
        let items = page.items.map { failing -> Components.Schemas.FailingRevocation in
            .init(
                assignmentId: failing.assignmentId.description, attempts: failing.attempts,
                nextAttempt: failing.nextAttempt, lastError: failing.lastError.map { String($0.prefix(1000)) })
        }
        return .ok(.init(body: .json(.init(items: items, cursor: Cursor.encode(page.next)))))
    }
}

extension APIHandler {
    func retrieveCredentials(_ input: Operations.RetrieveCredentials.Input) async throws
        -> Operations.RetrieveCredentials.Output
    {
        let (_, actor) = try Caller.required()
        let credentials = try await engine.provisioning.retrieveCredentials(
            of: try Self.id(input.path.requestId, "requestId"), by: actor)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: credentials.map {
                            .init(
                                target: $0.targetName, login: $0.login, password: $0.secret, validUntil: $0.validUntil)
                        }))))
    }
}
