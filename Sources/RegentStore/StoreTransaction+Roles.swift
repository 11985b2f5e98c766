public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

extension StoreTransaction {
    public func insertRole(_ role: Role) async throws {
        try await db.raw(
            """
            INSERT INTO roles (id, name, description, builtin, created_at)
            VALUES (\(bind: role.id.description), \(bind: role.name), \(bind: role.description),
                    \(bind: role.isBuiltIn ? 1 : 0), \(bind: role.createdAt.milliseconds))
            """
        ).run()
        try await insertEntitlements(of: role)
    }

    private func insertEntitlements(of role: Role) async throws {
        for entitlement in role.entitlements {
            try await db.raw(
                """
                INSERT INTO entitlements (role_id, target_id, value)
                VALUES (\(bind: role.id.description), \(bind: entitlement.targetId.description), \(bind: entitlement.value))
                """
            ).run()
        }
    }

    /// Writes the description and replaces the entitlements; the name never changes.
    public func updateRole(_ role: Role) async throws {
        try await db.raw(
            "UPDATE roles SET description = \(bind: role.description) WHERE id = \(bind: role.id.description)"
        ).run()
        try await db.raw("DELETE FROM entitlements WHERE role_id = \(bind: role.id.description)").run()
        try await insertEntitlements(of: role)
    }

    public func role(id: Role.ID) async throws -> Role? {
        guard let row = try await db.raw("SELECT * FROM roles WHERE id = \(bind: id.description)").first() else {
            return nil
        }
        return try await role(from: row)
    }

    public func role(named name: String) async throws -> Role? {
        guard let row = try await db.raw("SELECT * FROM roles WHERE name = \(bind: name)").first() else { return nil }
        return try await role(from: row)
    }

    /// Roles by name, after `position`, with their entitlements read in one statement per slice
    /// of roles rather than one per role.
    public func roles(limit: Int = 1000, after position: ListPosition? = nil) async throws -> [Role] {
        let rows = try await db.raw(SQLListQuery("SELECT * FROM roles").page(.byName, after: position, limit: limit))
            .all()
        var entitlements: [Role.ID: [Entitlement]] = [:]
        for slice in Self.slices(try rows.map { try $0.string("id") }) {
            var query = SQLListQuery("SELECT role_id, target_id, value FROM entitlements")
            query.where("role_id", in: slice)
            for row in try await db.raw(query.ordered(by: "role_id, target_id, value")).all() {
                entitlements[try row.id("role_id"), default: []].append(
                    Entitlement(targetId: try row.id("target_id"), value: try row.string("value")))
            }
        }
        return try rows.map { try role(from: $0, entitlements: entitlements[try $0.id("id")] ?? []) }
    }

    private func role(from row: any SQLRow) async throws -> Role {
        var query = SQLListQuery("SELECT role_id, target_id, value FROM entitlements")
        query.where("role_id =", try row.string("id"))
        let entitlements = try await db.raw(query.ordered(by: "role_id, target_id, value")).all().map {
            Entitlement(targetId: try $0.id("target_id"), value: try $0.string("value"))
        }
        return try role(from: row, entitlements: entitlements)
    }

    private func role(from row: any SQLRow, entitlements: [Entitlement]) throws -> Role {
        let id: Role.ID = try row.id("id")
        do {
            return try Role(
                id: id, name: try row.string("name"), description: try row.string("description"),
                entitlements: entitlements,
                isBuiltIn: try row.int64("builtin") != 0, createdAt: try row.date("created_at"))
        } catch let error as RegentError {
            throw StoreError.corrupt("role: \(error)")
        }
    }

    /// Replaces the role's own policy at `scope`.
    public func setPolicy(_ policy: Policy, role: Role.ID, scope: Scope, at time: Date) async throws {
        try await db.raw(
            "DELETE FROM policies WHERE role_id = \(bind: role.description) AND scope = \(bind: scope.path)"
        ).run()
        try await db.raw(
            """
            INSERT INTO policies (role_id, scope, body, updated_at)
            VALUES (\(bind: role.description), \(bind: scope.path), \(bind: try json(policy)), \(bind: time.milliseconds))
            """
        ).run()
    }

    /// Removes the role's own policy at `scope`: the scope then inherits its parent's rules.
    public func removePolicy(role: Role.ID, scope: Scope) async throws {
        try await db.raw(
            "DELETE FROM policies WHERE role_id = \(bind: role.description) AND scope = \(bind: scope.path)"
        ).run()
    }

    /// Every policy the role has, at every scope, for resolving the effective one.
    public func policies(role: Role.ID) async throws -> [(scope: Scope, policy: Policy)] {
        try await db.raw("SELECT scope, body FROM policies WHERE role_id = \(bind: role.description)").all().map {
            (try $0.scope("scope"), try decodeJSON(Policy.self, try $0.string("body"), "policy"))
        }
    }
}

extension StoreTransaction {
    /// - Parameter sealedSecrets: the target's secrets, already sealed by the caller.
    public func insertTarget(_ target: Target, sealedSecrets: String? = nil, at time: Date) async throws {
        try await db.raw(
            """
            INSERT INTO targets (id, kind, name, scope, config, created_at, sealed_secrets)
            VALUES (\(bind: target.id.description), \(bind: target.kind.rawValue), \(bind: target.name),
                    \(bind: target.scope.path), \(bind: try json(target.config)), \(bind: time.milliseconds),
                    \(bind: sealedSecrets))
            """
        ).run()
    }

    /// Writes the scope and configuration; kind and name never change.
    public func updateTarget(_ target: Target) async throws {
        try await db.raw(
            """
            UPDATE targets SET scope = \(bind: target.scope.path), config = \(bind: try json(target.config))
            WHERE id = \(bind: target.id.description)
            """
        ).run()
    }

    /// Replaces the target's sealed secrets (nil: none).
    public func setTargetSecrets(_ id: Target.ID, sealed: String?) async throws {
        try await db.raw("UPDATE targets SET sealed_secrets = \(bind: sealed) WHERE id = \(bind: id.description)").run()
    }

    public func target(named name: String) async throws -> Target? {
        guard let row = try await db.raw("SELECT id FROM targets WHERE name = \(bind: name)").first() else {
            return nil
        }
        return try await target(id: try row.id("id"))
    }

    /// Targets by name, after `position`.
    public func targets(limit: Int, after position: ListPosition? = nil) async throws -> [Target] {
        var targets: [Target] = []
        for row in try await db.raw(SQLListQuery("SELECT id FROM targets").page(.byName, after: position, limit: limit))
            .all()
        {
            if let target = try await target(id: try row.id("id")) { targets.append(target) }
        }
        return targets
    }

    /// The sealed secrets, for the connector that needs them; never for the API.
    public func sealedTargetSecrets(_ id: Target.ID) async throws -> String? {
        try await db.raw("SELECT sealed_secrets FROM targets WHERE id = \(bind: id.description)").first()?
            .optionalString("sealed_secrets")
    }

    public func target(id: Target.ID) async throws -> Target? {
        guard let row = try await db.raw("SELECT * FROM targets WHERE id = \(bind: id.description)").first() else {
            return nil
        }
        do {
            return try Target(
                id: try row.id("id"), kind: try row.enumValue("kind", as: Target.Kind.self),
                name: try row.string("name"),
                scope: try row.scope("scope"),
                config: try decodeJSON([String: String].self, try row.string("config"), "target config"))
        } catch let error as RegentError {
            throw StoreError.corrupt("target: \(error)")
        }
    }
}
