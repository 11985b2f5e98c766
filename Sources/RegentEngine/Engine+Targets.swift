import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Targets (connector instances). Configuration is readable by administrators and security readers;
/// secrets are write-only: sealed at rest, never returned, never audited or logged.
extension Engine {
    public func createTarget(
        kind: Target.Kind, name: String, scope: Scope, config: [String: String], secrets secretValues: [String: String],
        by actor: ActorContext
    ) async throws -> Target {
        let now = clock.now()
        return try await audited(
            actor: actor, subject: AuditSubject(scope: scope), action: "target.create.refused", now: now
        ) {
            let target = try Target(id: Target.ID(UUID()), kind: kind, name: name, scope: scope, config: config)
            guard secretValues.count <= 20,
                secretValues.allSatisfy({ (1...128).contains($0.key.count) && $0.value.count <= 8192 })
            else {
                throw RegentError.invalid(
                    "secrets", "at most 20 secrets, names of 1–128 and values of at most 8192 characters")
            }
            let sealed = try secretValues.isEmpty ? nil : secrets.seal(try JSONEncoder().encode(secretValues))
            try await store.transaction { tx in
                try await self.requireAdministrator(actor.principalId, in: tx, now: now)
                guard try await tx.target(named: target.name) == nil else {
                    throw RegentError(.conflict, "a target named \(target.name) exists", field: "name")
                }
                try await tx.insertTarget(target, sealedSecrets: sealed, at: now)
                try await self.audit(
                    AuditNote(
                        "target.created",
                        details: [
                            "name": target.name, "kind": kind.rawValue,
                            "secrets": secretValues.keys.sorted().joined(separator: ","),
                        ]),
                    in: tx,
                    context: AuditContext(
                        actor: actor.auditActor, subject: AuditSubject(scope: scope), correlationId: nil),
                    now: now)
            }
            return target
        }
    }

    public func listTargets(by actor: ActorContext, offset: Int, limit: Int) async throws -> Page<Target> {
        guard try await mayReadAll(actor) else {
            throw RegentError(
                .accessDenied, "only administrators and security readers may list targets", field: "actor")
        }
        let items = try await store.transaction { try await $0.targets(limit: limit + 1, offset: offset) }
        return Page(items: Array(items.prefix(limit)), nextOffset: items.count > limit ? offset + limit : nil)
    }

    /// The names of the secrets a target holds (their values stay sealed).
    public func secretNames(of target: Target.ID) async throws -> [String] {
        guard let sealed = try await store.transaction({ try await $0.sealedTargetSecrets(target) }) else { return [] }
        return try JSONDecoder().decode([String: String].self, from: try secrets.open(sealed)).keys.sorted()
    }
}
