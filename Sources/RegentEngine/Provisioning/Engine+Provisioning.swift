import Foundation
import RegentAudit
import RegentConnectors
public import RegentCore
import RegentStore

/// Putting access in place on targets and taking it away: the grant and revoke jobs. Grants of
/// one entitlement are counted: an end revokes only what no other assignment in force still covers.
extension Engine {
    /// Grants or revokes every entitlement of the assignment's role through its target's connector.
    /// A role whose entitlements have no connector here fails loudly rather than pretending.
    func provision(_ id: Assignment.ID, job: Job, granting: Bool) async throws {
        let now = clock.now()
        let loaded = try await store.transaction { tx -> (Assignment, [GrantSpec])? in
            guard let assignment = try await tx.assignment(id: id) else { return nil }
            var specs = try await self.grantSpecs(for: assignment, in: tx)
            if !granting {
                let covered = try await self.stillCovered(by: assignment, in: tx, now: now)
                specs.removeAll {
                    covered.contains(EntitlementKey($0))
                        && self.provisioners.provisioner(for: $0.target.kind)?.sharesGrants(on: $0.target) != false
                }
            }
            return (assignment, specs)
        }
        guard let (assignment, specs) = loaded else {
            try await store.transaction { try await $0.completeJob(job.id) }
            return
        }
        // A grant for an assignment that is no longer in force is skipped; its revoke job follows.
        let stale = granting && !(assignment.state == .active && assignment.isInForce(at: now))
        var failure: ExternalFailure?
        var credentials: [(Target.ID, IssuedCredential)] = []
        if !stale {
            for spec in specs {
                do {
                    let connector = try provisioner(for: spec.target)
                    if granting {
                        if let credential = try await connector.grant(spec) {
                            credentials.append((spec.target.id, credential))
                        }
                    } else {
                        try await connector.revoke(spec)
                    }
                } catch {
                    failure = error
                    break
                }
            }
        }
        if let failure, failure.isTransient || !granting { throw failure }
        let outcome = failure
        let sealed = try credentials.map { ($0.0, $0.1, try secrets.seal(Data($0.1.secret.utf8))) }
        let applied = try await store.transaction { tx -> Applied in
            var applied = Applied()
            let context = self.systemContext(assignment)
            for (target, credential, secret) in sealed {
                try await tx.saveIssuedCredential(
                    StoredCredential(
                        assignmentId: assignment.id, targetId: target, login: credential.login, sealedSecret: secret,
                        validUntil: credential.validUntil, createdAt: now, retrievedAt: nil))
            }
            let request: Request? =
                if let requestId = assignment.requestId { try await tx.request(id: requestId) } else { nil }
            if !stale {
                // A grant after the first (the reconciler found it missing) restores; a revocation
                // past the attempt limit that finally went through recovers.
                let success: AuditAction =
                    granting
                    ? (request.map { $0.status == .provisioning } ?? true ? .grantApplied : .grantRestored)
                    : (job.attempts > self.configuration.maximumJobAttempts ? .revocationRecovered : .grantRevoked)
                let note =
                    outcome.map {
                        AuditNote(granting ? .grantGrantFailed : .grantRevokeFailed, .failed, reason: $0.reason)
                    }
                    ?? AuditNote(success, details: ["entitlements": String(specs.count)])
                try await self.audit(note, in: tx, context: context, now: clock.now())
            }
            if granting, !stale, var request {
                let effects =
                    outcome.map { request.provisioningFailed(reason: $0.reason, now: now) }
                    ?? request.provisioned(now: now)
                if !effects.isEmpty {
                    try await tx.saveRequest(request)
                    applied = try await self.apply(effects, in: tx, context: context, now: now)
                }
            }
            try await tx.completeJob(job.id)
            return applied
        }
        afterCommit(applied)
    }

    /// The connector for a target's kind; a missing one is a permanent failure, never a silent success.
    func provisioner(for target: Target) throws(ExternalFailure) -> any Provisioner {
        guard let provisioner = provisioners.provisioner(for: target.kind) else {
            throw ExternalFailure(transient: false, "no \(target.kind.rawValue) connector is configured")
        }
        return provisioner
    }

    /// One spec per entitlement of the assignment's role, with the target's secrets opened unless
    /// only what is granted to whom matters (counting grants, reconciling).
    func grantSpecs(for assignment: Assignment, in tx: StoreTransaction, openingSecrets: Bool = true) async throws
        -> [GrantSpec]
    {
        guard let role = try await tx.role(id: assignment.roleId),
            let principal = try await tx.principal(id: assignment.principalId)
        else { return [] }
        var specs: [GrantSpec] = []
        for entitlement in role.entitlements {
            guard let target = try await tx.target(id: entitlement.targetId) else { continue }
            specs.append(
                GrantSpec(
                    target: target, value: entitlement.value,
                    account: GrantSpec.account(for: principal.name, on: target), assignmentId: assignment.id,
                    requestId: assignment.requestId, until: assignment.end,
                    secrets: openingSecrets ? try await targetSecrets(target.id, in: tx) : TargetSecrets([:])))
        }
        return specs
    }

    func targetSecrets(_ id: Target.ID, in tx: StoreTransaction) async throws -> TargetSecrets {
        guard let sealed = try await tx.sealedTargetSecrets(id) else { return TargetSecrets([:]) }
        return TargetSecrets(try JSONDecoder().decode([String: String].self, from: try secrets.open(sealed)))
    }

    /// What other active assignments of the same principal, in force now, still give on targets.
    func stillCovered(by ending: Assignment, in tx: StoreTransaction, now: Date) async throws
        -> Set<EntitlementKey>
    {
        var covered: Set<EntitlementKey> = []
        let others = try await tx.assignments(
            AssignmentFilter(principalIds: [ending.principalId], kind: .active, states: [.active]))
        for other in others where other.id != ending.id && other.isInForce(at: now) {
            for spec in try await grantSpecs(for: other, in: tx, openingSecrets: false) {
                covered.insert(EntitlementKey(spec))
            }
        }
        return covered
    }
}

/// One entitlement of one account on one target: what grants are counted by.
struct EntitlementKey: Hashable {
    var target: Target.ID
    var value: String
    var account: String

    init(_ spec: GrantSpec) {
        target = spec.target.id
        value = spec.value
        account = spec.account
    }

    init(target: Target.ID, _ observed: ObservedGrant) {
        self.target = target
        value = observed.value
        account = observed.account
    }
}

extension ProvisioningService {
    /// Revocations past the attempt limit, still retried: each one is access that should be gone.
    public func failingRevocations(after position: ListPosition? = nil, limit: Int = 1000) async throws
        -> Page<FailingRevocation>
    {
        let jobs = try await engine.store.transaction {
            try await $0.failingRevocations(
                attempts: engine.configuration.maximumJobAttempts, limit: limit + 1, after: position)
        }
        let page = engine.page(jobs, limit: limit, position: ListPosition.init)
        return Page(items: page.items.compactMap(\.failing), next: page.next)
    }
}
