public import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Credentials a grant made for the requester (short-lived database logins), shown once.
extension Engine {
    public struct RetrievedCredential: Sendable {
        public var targetName: String
        public var login: String
        public var secret: String
        public var validUntil: Date?
    }

}

extension ProvisioningService {
    /// The credentials of the request's activation, for the person it was made for and nobody
    /// else, exactly once: the secrets are forgotten as they are handed out. Audited with the
    /// logins, never the secrets.
    public func retrieveCredentials(of requestId: Request.ID, by actor: ActorContext) async throws
        -> [Engine.RetrievedCredential]
    {
        let now = engine.clock.now()
        return try await engine.audited(
            actor: actor, subject: AuditSubject(principalId: actor.principalId), action: .credentialRetrieveRefused,
            correlationId: requestId.description, now: now
        ) {
            try await engine.store.transaction { tx in
                guard let request = try await tx.request(id: requestId), request.principalId == actor.principalId,
                    let assignmentId = request.assignmentId
                else { throw RegentError(.notFound, "no such request of yours", field: "requestId") }
                let stored = try await tx.issuedCredentials(of: assignmentId)
                guard !stored.isEmpty else {
                    throw RegentError(
                        .invalidTransition, "no credential has been issued for this request (yet)", field: "requestId")
                }
                guard stored.allSatisfy({ $0.sealedSecret != nil }) else {
                    throw RegentError(.conflict, "the credential was shown once already", field: "requestId")
                }
                var retrieved: [Engine.RetrievedCredential] = []
                for credential in stored {
                    let target = try await tx.target(id: credential.targetId)
                    let secret = try engine.secrets.open(credential.sealedSecret ?? "")
                    retrieved.append(
                        Engine.RetrievedCredential(
                            targetName: target?.name ?? credential.targetId.description, login: credential.login,
                            secret: String(decoding: secret, as: UTF8.self), validUntil: credential.validUntil))
                }
                try await tx.markCredentialsRetrieved(of: assignmentId, at: now)
                try await engine.audit(
                    AuditNote(.credentialRetrieved, details: ["logins": stored.map(\.login).joined(separator: ",")]),
                    in: tx,
                    context: Engine.AuditContext(
                        actor: actor.auditActor, subject: request.auditSubject, correlationId: requestId.description),
                    now: now)
                return retrieved
            }
        }
    }
}
