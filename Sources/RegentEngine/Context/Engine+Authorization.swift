import Foundation
public import RegentCore
import RegentStore

/// Regent's own authorization: the one place that decides administrative rights, from the table
/// in `Role.BuiltIn.permissions` and the actor's active built-in assignments in force now (held
/// directly or through a group).
extension Engine {
    /// Whether `actor` holds `permission` now. `readEverything` answers are reused for as long as
    /// a cached session is, because `/v1/check` about others asks on every call.
    public func permits(_ actor: ActorContext, _ permission: Permission) async throws -> Bool {
        let now = clock.now()
        if permission == .readEverything,
            let known = names.mayReadAll(actor.principalId, now: now, lifetime: configuration.sessionCacheLifetime)
        {
            return known
        }
        let held: Set<Permission>
        do {
            held = try await store.transaction(.read) { tx in
                try await self.permissions(of: actor.principalId, in: tx, now: now)
            }
        } catch let error as RegentError where error.code == .unavailable {
            // While the database does not answer, the check index decides, as it does for
            // /v1/check: only what is in force now, at the root scope; nothing can change meanwhile.
            guard let fromIndex = permissionsFromIndex(of: actor.principalId, now: now) else { throw error }
            return fromIndex.contains(permission)
        }
        names.rememberMayReadAll(actor.principalId, held.contains(.readEverything), now: now)
        return held.contains(permission)
    }

    /// The permissions the check index shows `principal` holding at the root scope now; nil when
    /// the built-in roles' ids are not known here.
    func permissionsFromIndex(of principal: Principal.ID, now: Date) -> Set<Permission>? {
        var held: Set<Permission> = []
        for builtIn in Role.BuiltIn.allCases {
            guard let role = names.role(builtIn.rawValue) else { return nil }
            if index.check(principal: principal, role: role, scope: .root, at: now) != nil {
                held.formUnion(builtIn.permissions)
            }
        }
        return held
    }

    /// Throws `accessDenied` unless `actor` holds `permission` now; the refusal is audited, per
    /// `operation` (the calling use case unless named), through ``recordRefusal(_:operation:_:)``.
    public func authorize(_ actor: ActorContext, _ permission: Permission, operation: String = #function)
        async throws
    {
        guard try await permits(actor, permission) else {
            let error = Self.denied(permission)
            try await recordRefusal(actor, operation: operation, error)
            throw error
        }
    }

    /// The same check inside a transaction that goes on to change state, so the right is judged
    /// on what that transaction sees.
    func authorize(_ principal: Principal.ID, _ permission: Permission, in tx: StoreTransaction, now: Date)
        async throws
    {
        guard try await permissions(of: principal, in: tx, now: now).contains(permission) else {
            throw Self.denied(permission)
        }
    }

    func permissions(of principal: Principal.ID, in tx: StoreTransaction, now: Date) async throws -> Set<Permission> {
        guard let actor = try await tx.principal(id: principal), actor.isEnabled else { return [] }
        let identities = try await tx.membershipGraph().identities(of: principal)
        var held: Set<Permission> = []
        for builtIn in Role.BuiltIn.allCases where !builtIn.permissions.isSubset(of: held) {
            guard let role = try await tx.role(named: builtIn.rawValue) else { continue }
            let inForce = try await tx.assignments(
                AssignmentFilter(principalIds: identities, roleId: role.id, kind: .active, states: [.active])
            ).contains { $0.isInForce(at: now) }
            if inForce { held.formUnion(builtIn.permissions) }
        }
        return held
    }

    /// Everyone who holds `permission` now, directly or through a group: the administrators whose
    /// approval the second-administrator safeguard asks for, and who may see any request.
    /// - Parameter graph: the memberships, when the caller has read them already.
    func holders(of permission: Permission, in tx: StoreTransaction, now: Date, graph: MembershipGraph? = nil)
        async throws -> Set<Principal.ID>
    {
        let graph = if let graph { graph } else { try await tx.membershipGraph() }
        var result: Set<Principal.ID> = []
        for builtIn in Role.BuiltIn.allCases where builtIn.permissions.contains(permission) {
            guard let role = try await tx.role(named: builtIn.rawValue) else { continue }
            for assignment in try await tx.assignments(
                AssignmentFilter(roleId: role.id, kind: .active, states: [.active]))
            where assignment.isInForce(at: now) {
                result.insert(assignment.principalId)
                result.formUnion(graph.transitiveMembers(of: assignment.principalId))
            }
        }
        return result
    }

    func requireEnabled(_ id: Principal.ID, in tx: StoreTransaction) async throws {
        guard let principal = try await tx.principal(id: id), principal.isEnabled else {
            throw RegentError(.accessDenied, "the acting principal does not exist or is disabled", field: "actor")
        }
    }

    static func denied(_ permission: Permission) -> RegentError {
        let who =
            Role.BuiltIn.allCases.filter { $0.permissions.contains(permission) }.map(\.rawValue)
            .joined(separator: ", ")
        return RegentError(
            .accessDenied, "this needs the \(permission.rawValue) right (held by \(who))", field: "actor")
    }
}
