import Foundation
public import RegentCore
import RegentStore

// Reading the directory: listings, policies, memberships, and names resolved only for callers
// who may see them.

extension DirectoryService {
    public func listPrincipals(by actor: ActorContext, after position: ListPosition?, limit: Int) async throws
        -> Page<Principal>
    {
        try await engine.authorize(actor, .readEverything)
        let items = try await engine.store.transaction { try await $0.principals(limit: limit + 1, after: position) }
        return engine.page(items, limit: limit, position: ListPosition.init)
    }

    /// Role names and entitlements are visible to every signed-in user: they need them to activate.
    public func listRoles(after position: ListPosition?, limit: Int) async throws -> Page<Role> {
        let items = try await engine.store.transaction { try await $0.roles(limit: limit + 1, after: position) }
        return engine.page(items, limit: limit, position: ListPosition.init)
    }

    /// The role's own policy at `scope` (nil when it has none) and the effective one there.
    public func policies(role: Role.ID, scope: Scope) async throws -> (own: Policy?, effective: EffectivePolicy) {
        let all = try await engine.store.transaction { try await $0.policies(role: role) }
        return (all.first { $0.scope == scope }?.policy, EffectivePolicy.resolve(all, at: scope))
    }

    /// Who is in which group, for administrators and security readers.
    public func membership(by actor: ActorContext) async throws -> MembershipGraph {
        try await engine.authorize(actor, .readEverything)
        return try await engine.store.transaction { try await $0.membershipGraph() }
    }
}

extension DirectoryService {
    /// A principal by id or unique name, resolved only once `actor` may see it: those who may read
    /// everything or the audit log may name anyone; anyone else only themselves, and is refused for
    /// any other reference, whether it exists or not, so a name's existence never leaks.
    public func principal(named reference: String, by actor: ActorContext) async throws -> Principal {
        try await engine.requireMayName(reference, by: actor)
        return try await engine.principal(named: reference)
    }

    /// The id of a principal by id or name, under the same rule, from memory once seen: the hot
    /// path of `/v1/check`.
    public func principalID(named reference: String, by actor: ActorContext) async throws -> Principal.ID {
        try await engine.requireMayName(reference, by: actor)
        if let id = engine.names.principal(reference) ?? engine.names.principal(reference.lowercased()) { return id }
        return try await engine.principal(named: reference).id
    }

    /// A principal by the id the caller already holds from something it may see (a request, a
    /// review, an alert), to show its name: an id discloses nothing a name lookup would.
    public func principal(id: Principal.ID) async throws -> Principal? {
        try await engine.store.transaction { try await $0.principal(id: id) }
    }

    /// A role by id or unique name.
    public func role(named reference: String) async throws -> Role {
        let role = try await engine.store.transaction { tx -> Role in
            if let id = Role.ID(reference), let role = try await tx.role(id: id) { return role }
            if let role = try await tx.role(named: reference.lowercased()) { return role }
            throw RegentError(.notFound, "no such role", field: "role")
        }
        engine.names.remember(role)
        return role
    }

    /// The id of a role by id or name, from memory once seen.
    public func roleID(named reference: String) async throws -> Role.ID {
        if let id = engine.names.role(reference) ?? engine.names.role(reference.lowercased()) { return id }
        return try await role(named: reference).id
    }
}
