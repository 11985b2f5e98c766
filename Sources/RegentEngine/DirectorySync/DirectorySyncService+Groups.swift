import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Groups the directory provisions, with their members. Eligibility assigned to such a group
/// follows the directory: a member who leaves loses at once what the group gave.
extension DirectorySyncService {
    public func groups(named name: String? = nil, externalId: String? = nil) async throws -> [DirectoryGroup] {
        try await engine.store.transaction { tx in
            let graph = try await tx.membershipGraph()
            let names = try await Self.memberNames(in: tx)
            return try await tx.directoryPrincipals(kind: .group, named: name, externalId: externalId).map {
                DirectoryGroup(
                    principal: $0.0, entry: $0.1, members: Self.members(of: $0.0.id, graph: graph, names: names))
            }
        }
    }

    public func group(_ id: Principal.ID) async throws -> DirectoryGroup {
        try await engine.store.transaction { try await Self.group(id, in: $0) }
    }

    public func createGroup(_ draft: DirectoryGroupDraft, by client: DirectoryClient) async throws -> DirectoryGroup {
        let now = engine.clock.now()
        let (group, graph) = try await engine.audited(
            as: client.auditActor, subject: AuditSubject(), action: .directoryChangeRefused, now: now
        ) {
            let entry = DirectoryEntry(
                principalId: Principal.ID(UUID()), externalId: draft.externalId, name: draft.displayName,
                createdAt: now, updatedAt: now)
            try entry.validate()
            let principal = try Principal(
                id: entry.principalId, kind: .group,
                name: try DirectoryName.regentName(for: draft.displayName, field: "displayName"),
                displayName: draft.displayName, createdAt: now)
            return try await engine.store.transaction { tx -> (DirectoryGroup, MembershipGraph) in
                try await Self.requireUnique(
                    entry.name, regentName: principal.name, for: nil, field: "displayName", in: tx)
                try await tx.insertPrincipal(principal, passwordHash: nil)
                try await tx.saveDirectoryEntry(entry)
                try await engine.audit(
                    AuditNote(.directoryGroupCreated, details: Self.details(of: entry, principal: principal)), in: tx,
                    context: Engine.AuditContext(
                        actor: client.auditActor, subject: AuditSubject(principalId: principal.id), correlationId: nil),
                    now: now)
                let names = try await Self.memberNames(in: tx)
                let graph = try await changeMembers(
                    of: principal.id, from: [], to: draft.members, naming: [], graph: try await tx.membershipGraph(),
                    names: names, by: client, in: tx, now: now)
                let group = DirectoryGroup(
                    principal: principal, entry: entry,
                    members: Self.members(of: principal.id, graph: graph, names: names))
                return (group, graph)
            }
        }
        engine.index.updateGraph(graph)
        return group
    }

    /// Replaces a group with what `change` makes of it, in one transaction: its display name and
    /// its members in full. A member who leaves loses at once what the group gave them.
    public func updateGroup(
        _ id: Principal.ID, by client: DirectoryClient,
        _ change: @Sendable (DirectoryGroup) throws -> DirectoryGroupDraft
    ) async throws -> DirectoryGroup {
        let now = engine.clock.now()
        let subject = AuditSubject(principalId: id)
        let (group, graph, applied) = try await engine.audited(
            as: client.auditActor, subject: subject, action: .directoryChangeRefused, now: now
        ) {
            try await engine.store.transaction { tx -> (DirectoryGroup, MembershipGraph, Engine.Applied) in
                let names = try await Self.memberNames(in: tx)
                let graphBefore = try await tx.membershipGraph()
                let current = try await Self.group(id, graph: graphBefore, names: names, in: tx)
                let draft = try change(current)
                var entry = current.entry
                entry.name = draft.displayName
                entry.externalId = draft.externalId
                entry.updatedAt = now
                try entry.validate()
                try await Self.requireUnique(entry.name, regentName: nil, for: id, field: "displayName", in: tx)
                var principal = current.principal
                principal.displayName = draft.displayName
                try await tx.updatePrincipal(principal)
                try await tx.saveDirectoryEntry(entry)
                let before = current.members.map(\.id)
                let changed =
                    Self.changes(from: current.entry, to: entry)
                    + (Set(before) == Set(draft.members) ? [] : ["members"])
                try await engine.audit(
                    AuditNote(
                        .directoryGroupUpdated,
                        details: Self.details(of: entry, principal: principal).merging(
                            ["changed": changed.joined(separator: ",")]
                        ) { $1 }), in: tx,
                    context: Engine.AuditContext(actor: client.auditActor, subject: subject, correlationId: nil),
                    now: now)
                let graph = try await changeMembers(
                    of: id, from: before, to: draft.members, naming: draft.removing, graph: graphBefore, names: names,
                    by: client, in: tx, now: now)
                let leaving = Set(before).subtracting(draft.members)
                let affected = leaving.reduce(into: Set<Principal.ID>()) {
                    $0.formUnion(AccessWithdrawal.affected(by: $1, in: graph))
                }
                let applied = try await engine.withdrawAccess(
                    of: affected, graph: graph, because: "removed from \(entry.name) by the directory",
                    actor: client.auditActor, in: tx, now: now)
                let group = DirectoryGroup(
                    principal: principal, entry: entry, members: Self.members(of: id, graph: graph, names: names))
                return (group, graph, applied)
            }
        }
        engine.index.updateGraph(graph)
        engine.afterCommit(applied)
        return group
    }

    /// Deletes a group: it is disabled and emptied, and what it gave (its eligibility, its
    /// members' activations through it) ends. Its history stays.
    public func deleteGroup(_ id: Principal.ID, by client: DirectoryClient) async throws {
        try await delete(id, kind: .group, by: client)
    }

    /// Sets a group's direct members, each addition and removal audited as through the API.
    /// Members must be principals the directory provisions; a membership that would make a cycle,
    /// or lose Regent its last enabled administrator, is refused. Returns the memberships after.
    private func changeMembers(
        of group: Principal.ID, from before: [Principal.ID], to after: [Principal.ID],
        naming removing: Set<Principal.ID>, graph: MembershipGraph, names: [Principal.ID: DirectoryMember],
        by client: DirectoryClient, in tx: StoreTransaction, now: Date
    ) async throws -> MembershipGraph {
        let added = Set(after).subtracting(before).sorted()
        let removed = Set(before).subtracting(after).sorted()
        if let missing = Set(added).union(removing).sorted().first(where: { names[$0] == nil }) {
            throw RegentError(.notFound, "no user or group \(missing) to be a member", field: "members")
        }
        var graph = graph
        if !removed.isEmpty {
            try await engine.requireAdministratorCoverage(
                in: tx, now: now,
                after: { graph in for member in removed { graph.remove(member: member, from: group) } })
        }
        let context = Engine.AuditContext(
            actor: client.auditActor, subject: AuditSubject(principalId: group), correlationId: nil)
        for member in added {
            guard !graph.wouldCreateCycle(adding: member, to: group) else {
                throw RegentError(.conflict, "the group is already inside member \(member)", field: "members")
            }
            try await tx.addMember(member, to: group)
            graph.insert(member: member, into: group)
            try await engine.audit(
                AuditNote(.groupMemberAdded, details: ["memberId": member.description]), in: tx, context: context,
                now: now)
        }
        for member in removed {
            try await tx.removeMember(member, from: group)
            graph.remove(member: member, from: group)
            try await engine.audit(
                AuditNote(.groupMemberRemoved, details: ["memberId": member.description]), in: tx, context: context,
                now: now)
        }
        return graph
    }

    static func group(_ id: Principal.ID, in tx: StoreTransaction) async throws -> DirectoryGroup {
        try await group(id, graph: try await tx.membershipGraph(), names: try await memberNames(in: tx), in: tx)
    }

    /// The group with its members, from memberships and names already read.
    static func group(
        _ id: Principal.ID, graph: MembershipGraph, names: [Principal.ID: DirectoryMember], in tx: StoreTransaction
    ) async throws -> DirectoryGroup {
        guard let principal = try await tx.principal(id: id), principal.kind == .group,
            let entry = try await tx.directoryEntry(of: id)
        else { throw RegentError(.notFound, "no such group", field: "id") }
        return DirectoryGroup(principal: principal, entry: entry, members: members(of: id, graph: graph, names: names))
    }

    /// Every provisioned principal's kind and directory name, by id.
    static func memberNames(in tx: StoreTransaction) async throws -> [Principal.ID: DirectoryMember] {
        var names: [Principal.ID: DirectoryMember] = [:]
        for kind in [Principal.Kind.user, .group] {
            for (principal, entry) in try await tx.directoryPrincipals(kind: kind) {
                names[principal.id] = DirectoryMember(
                    id: principal.id, kind: kind, display: entry.displayName ?? entry.name)
            }
        }
        return names
    }

    static func members(of id: Principal.ID, graph: MembershipGraph, names: [Principal.ID: DirectoryMember])
        -> [DirectoryMember]
    {
        (graph.members[id] ?? []).compactMap { names[$0] }.sorted { $0.id.description < $1.id.description }
    }
}
