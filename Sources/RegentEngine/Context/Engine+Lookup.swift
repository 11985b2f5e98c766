import RegentCore
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
