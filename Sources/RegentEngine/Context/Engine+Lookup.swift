public import RegentCore
import RegentStore

/// Reads for the API: names or ids, and who may see a request.
extension Engine {

    func requireMayName(_ reference: String, by actor: ActorContext) async throws {
        if Principal.ID(reference) == actor.principalId || reference.lowercased() == actor.name.lowercased() { return }
        if try await permits(actor, .readEverything) { return }
        if try await permits(actor, .readAudit) { return }
        try await authorize(actor, .readEverything, operation: "principal.lookup")
    }

    func principal(named reference: String) async throws -> Principal {
        let principal = try await store.transaction { tx -> Principal in
            if let id = Principal.ID(reference), let principal = try await tx.principal(id: id) { return principal }
            if let principal = try await tx.principal(named: reference.lowercased()) { return principal }
            throw RegentError(.notFound, "no such principal", field: "principal")
        }
        names.remember(principal)
        return principal
    }

}

extension RequestService {
    /// A request as `actor` may see it: its requester, its beneficiary, anyone who may decide a stage
    /// of it, or an administrator. Anyone else is told it does not exist, so ids cannot be probed.
    public func request(_ id: Request.ID, visibleTo actor: ActorContext) async throws -> Request {
        let now = engine.clock.now()
        return try await engine.store.transaction { tx in
            guard let request = try await tx.request(id: id) else {
                throw RegentError(.notFound, "no such request", field: "requestId")
            }
            if request.requesterId == actor.principalId || request.principalId == actor.principalId { return request }
            let identities = try await tx.membershipGraph().identities(of: actor.principalId)
            let approvers = request.approval?.stages.flatMap { $0.approvers + ($0.escalation?.approvers ?? []) } ?? []
            if !identities.isDisjoint(with: approvers) { return request }
            if try await engine.permissions(of: actor.principalId, in: tx, now: now).contains(.readEverything) {
                return request
            }
            throw RegentError(.notFound, "no such request", field: "requestId")
        }
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
