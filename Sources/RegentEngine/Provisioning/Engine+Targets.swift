import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Targets (connector instances). Configuration is readable by administrators and security readers;
/// secrets are write-only: sealed at rest, never returned, never audited or logged.
extension Engine {

    /// Seals a target's secrets (nil when there are none) after bounding them.
    func sealedSecrets(_ values: [String: String]) throws -> String? {
        guard values.count <= 20, values.allSatisfy({ (1...128).contains($0.key.count) && $0.value.count <= 8192 })
        else {
            throw RegentError.invalid(
                "secrets", "at most 20 secrets, names of 1–128 and values of at most 8192 characters")
        }
        return try values.isEmpty ? nil : secrets.seal(try JSONEncoder().encode(values))
    }
}

extension ProvisioningService {
    public func createTarget(
        kind: Target.Kind, name: String, scope: Scope, config: [String: String], secrets secretValues: [String: String],
        by actor: ActorContext
    ) async throws -> Target {
        let now = engine.clock.now()
        return try await engine.audited(
            actor: actor, subject: AuditSubject(scope: scope), action: .targetCreateRefused, now: now
        ) {
            let target = try Target(id: Target.ID(UUID()), kind: kind, name: name, scope: scope, config: config)
            try await engine.store.transaction { tx in
                try await createTarget(target, secrets: secretValues, by: actor, in: tx, now: now)
            }
            return target
        }
    }

    /// Stores a new target, its secrets sealed, within a transaction the caller commits.
    func createTarget(
        _ target: Target, secrets secretValues: [String: String], by actor: ActorContext, in tx: StoreTransaction,
        now: Date
    ) async throws {
        let sealed = try engine.sealedSecrets(secretValues)
        let (kind, scope) = (target.kind, target.scope)
        try await engine.authorize(actor.principalId, .manageTargets, in: tx, now: now)
        guard try await tx.target(named: target.name) == nil else {
            throw RegentError(.conflict, "a target named \(target.name) exists", field: "name")
        }
        try await tx.insertTarget(target, sealedSecrets: sealed, at: now)
        try await engine.audit(
            AuditNote(
                .targetCreated,
                details: [
                    "name": target.name, "kind": kind.rawValue,
                    "secrets": secretValues.keys.sorted().joined(separator: ","),
                ]),
            in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(scope: scope), correlationId: nil),
            now: now)
    }

    /// Changes a target's scope, configuration and (when given) replaces its secrets; kind and
    /// name stay. The audit names the settings and secrets changed, never a secret's value.
    public func updateTarget(
        _ id: Target.ID, scope: Scope?, config: [String: String]?, secrets secretValues: [String: String]?,
        by actor: ActorContext
    ) async throws -> Target {
        let now = engine.clock.now()
        return try await engine.audited(actor: actor, subject: AuditSubject(), action: .targetUpdateRefused, now: now) {
            try await engine.store.transaction { tx in
                if let target = try await tx.target(id: id) {
                    try await engine.requireUnmanaged(ManifestObject.Key(.target, target.name), in: tx)
                }
                return try await updateTarget(
                    id, scope: scope, config: config, secrets: secretValues, by: actor, in: tx, now: now)
            }
        }
    }

    /// Changes the target within a transaction the caller commits.
    func updateTarget(
        _ id: Target.ID, scope: Scope?, config: [String: String]?, secrets secretValues: [String: String]?,
        by actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws -> Target {
        let sealed = try secretValues.flatMap { try engine.sealedSecrets($0) }
        try await engine.authorize(actor.principalId, .manageTargets, in: tx, now: now)
        guard let existing = try await tx.target(id: id) else {
            throw RegentError(.notFound, "no such target", field: "targetId")
        }
        let target = try Target(
            id: id, kind: existing.kind, name: existing.name, scope: scope ?? existing.scope,
            config: config ?? existing.config)
        try await tx.updateTarget(target)
        if secretValues != nil { try await tx.setTargetSecrets(id, sealed: sealed) }
        let changed = Set(target.config.keys).union(existing.config.keys)
            .filter { target.config[$0] != existing.config[$0] }
        try await engine.audit(
            AuditNote(
                .targetUpdated,
                details: [
                    "name": target.name, "config": changed.sorted().joined(separator: ","),
                    "secrets": secretValues.map { $0.keys.sorted().joined(separator: ",") } ?? "(unchanged)",
                ]),
            in: tx,
            context: Engine.AuditContext(
                actor: actor.auditActor, subject: AuditSubject(scope: target.scope), correlationId: nil),
            now: now)
        return target
    }

    public func target(_ id: Target.ID, by actor: ActorContext) async throws -> Target {
        try await engine.authorize(actor, .readEverything)
        guard let target = try await engine.store.transaction({ try await $0.target(id: id) }) else {
            throw RegentError(.notFound, "no such target", field: "targetId")
        }
        return target
    }

    public func listTargets(by actor: ActorContext, after position: ListPosition?, limit: Int) async throws
        -> Page<Target>
    {
        try await engine.authorize(actor, .readEverything)
        let items = try await engine.store.transaction { try await $0.targets(limit: limit + 1, after: position) }
        return engine.page(items, limit: limit, position: ListPosition.init)
    }

    /// The names of the secrets a target holds (their values stay sealed).
    public func secretNames(of target: Target.ID) async throws -> [String] {
        guard let sealed = try await engine.store.transaction({ try await $0.sealedTargetSecrets(target) }) else {
            return []
        }
        return try JSONDecoder().decode([String: String].self, from: try engine.secrets.open(sealed)).keys.sorted()
    }
}
