import Foundation
import RegentAudit
public import RegentConnectors
public import RegentCore
import RegentStore

/// SSH certificates for the caller's active ssh entitlements, one per activation.
extension Engine {
    public struct IssuedSSHCertificate: Sendable {
        public var certificate: SSHCertificateAuthority.Certificate
        public var roleName: String
    }

    /// The user CA, when this deployment has one.
    public var sshAuthority: SSHCertificateAuthority? {
        provisioners.provisioner(for: .ssh) as? SSHCertificateAuthority
    }

}

extension ProvisioningService {
    /// Signs `publicKey` once for each of the actor's activations in force (own or a group's) whose
    /// role has ssh entitlements: principals and extensions from the role, valid until the
    /// activation ends (at most `sshCertificateLifetime` for a permanent one), key id = the request.
    public func issueSSHCertificates(publicKey: String, role: Role.ID?, by actor: ActorContext) async throws
        -> [Engine.IssuedSSHCertificate]
    {
        let now = engine.clock.now()
        let subject = AuditSubject(principalId: actor.principalId, roleId: role)
        return try await engine.audited(actor: actor, subject: subject, action: .sshCertificateRefused, now: now) {
            guard let authority = engine.sshAuthority else {
                throw RegentError(.unavailable, "this server has no SSH certificate authority", field: "publicKey")
            }
            let candidates = try await engine.store.transaction { tx -> [(Assignment, Role, [Entitlement])] in
                try await engine.requireEnabled(actor.principalId, in: tx)
                let identities = try await tx.membershipGraph().identities(of: actor.principalId)
                var found: [(Assignment, Role, [Entitlement])] = []
                for assignment in try await tx.assignments(
                    AssignmentFilter(principalIds: identities, kind: .active, states: [.active]))
                where assignment.isInForce(at: now) && (role == nil || assignment.roleId == role) {
                    guard let held = try await tx.role(id: assignment.roleId) else { continue }
                    var ssh: [Entitlement] = []
                    for entitlement in held.entitlements
                    where try await tx.target(id: entitlement.targetId)?.kind == .ssh {
                        ssh.append(entitlement)
                    }
                    if !ssh.isEmpty { found.append((assignment, held, ssh)) }
                }
                return found
            }
            guard !candidates.isEmpty else {
                throw RegentError(
                    .invalidTransition, "no activation in force gives you SSH access; activate a role first",
                    field: "role")
            }
            var issued: [Engine.IssuedSSHCertificate] = []
            for (assignment, held, entitlements) in candidates {
                let parsed = entitlements.map { SSHCertificateAuthority.entitlement($0.value) }
                let validBefore = min(
                    assignment.end ?? .distantFuture,
                    now.addingTimeInterval(engine.configuration.sshCertificateLifetime))
                let certificate: SSHCertificateAuthority.Certificate
                do {
                    certificate = try authority.issue(
                        publicKey: publicKey, principals: Array(Set(parsed.flatMap(\.principals))).sorted(),
                        extensions: Array(Set(parsed.flatMap(\.extensions))).sorted(),
                        keyId: (assignment.requestId ?? Request.ID(UUID())).description,
                        validAfter: now.addingTimeInterval(-60),
                        validBefore: validBefore)
                } catch let error as SSHCertificateAuthority.CertificateError {
                    throw RegentError.invalid("publicKey", error.description)
                }
                // Recorded with its audit event, before it is handed out: a certificate the
                // ledger does not know could not be revoked.
                try await engine.store.transaction { tx in
                    try await tx.recordSSHCertificate(
                        serial: certificate.serial, assignment: assignment.id, validBefore: certificate.validBefore)
                    try await engine.audit(
                        AuditNote(
                            .sshCertificateIssued,
                            details: [
                                "serial": String(certificate.serial),
                                "principals": certificate.principals.joined(separator: ","),
                                "validBefore": certificate.validBefore.rfc3339,
                            ]),
                        in: tx,
                        context: Engine.AuditContext(
                            actor: actor.auditActor, subject: assignment.auditSubject,
                            correlationId: assignment.requestId?.description),
                        now: now)
                }
                issued.append(Engine.IssuedSSHCertificate(certificate: certificate, roleName: held.name))
            }
            return issued
        }
    }
}
