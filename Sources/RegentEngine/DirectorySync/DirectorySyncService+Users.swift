import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Users the directory provisions: made, replaced (SCIM's PUT and PATCH both arrive as the whole
/// new user), disabled, deleted.
extension DirectorySyncService {
    /// The provisioned users, by Regent name; optionally the one with this `userName` (compared
    /// without case) or external id.
    public func users(named name: String? = nil, externalId: String? = nil) async throws -> [DirectoryUser] {
        try await engine.store.transaction { tx in
            let graph = try await tx.membershipGraph()
            let groups = try await Self.memberNames(in: tx)
            return try await tx.directoryPrincipals(kind: .user, named: name, externalId: externalId).map {
                DirectoryUser(
                    principal: $0.0, entry: $0.1, groups: Self.groups(of: $0.0.id, graph: graph, names: groups))
            }
        }
    }

    public func user(_ id: Principal.ID) async throws -> DirectoryUser {
        try await engine.store.transaction { try await Self.user(id, in: $0) }
    }

    public func createUser(_ draft: DirectoryUserDraft, by client: DirectoryClient) async throws -> DirectoryUser {
        let now = engine.clock.now()
        return try await engine.audited(
            as: client.auditActor, subject: AuditSubject(), action: .directoryChangeRefused, now: now
        ) {
            let entry = DirectoryEntry(
                principalId: Principal.ID(UUID()), externalId: draft.externalId, name: draft.userName,
                displayName: draft.displayName, emails: draft.emails, active: draft.active, createdAt: now,
                updatedAt: now)
            try entry.validate()
            let principal = try Principal(
                id: entry.principalId, kind: .user, name: try DirectoryName.regentName(for: draft.userName),
                displayName: draft.displayName ?? draft.userName, email: entry.mailAddress,
                isEnabled: entry.isEnabled, createdAt: now)
            try await engine.store.transaction { tx in
                try await Self.requireUnique(
                    entry.name, regentName: principal.name, for: nil, field: "userName", in: tx)
                try await tx.insertPrincipal(principal, passwordHash: nil)
                try await tx.saveDirectoryEntry(entry)
                try await engine.audit(
                    AuditNote(.directoryUserCreated, details: Self.details(of: entry, principal: principal)), in: tx,
                    context: Engine.AuditContext(
                        actor: client.auditActor, subject: AuditSubject(principalId: principal.id), correlationId: nil),
                    now: now)
            }
            return DirectoryUser(principal: principal, entry: entry, groups: [])
        }
    }

    /// Replaces a user with what `change` makes of it, in one transaction. Setting `active` to
    /// false disables the user at once, with everything that follows (``AccessWithdrawal``);
    /// setting it back restores eligibility, never an activation. The Regent name does not follow a
    /// renamed `userName`: accounts on targets keep their name.
    public func updateUser(
        _ id: Principal.ID, by client: DirectoryClient,
        _ change: @Sendable (DirectoryUser) throws -> DirectoryUserDraft
    ) async throws -> DirectoryUser {
        let now = engine.clock.now()
        let subject = AuditSubject(principalId: id)
        let (user, disabling) = try await engine.audited(
            as: client.auditActor, subject: subject, action: .directoryChangeRefused, now: now
        ) {
            try await engine.store.transaction { tx -> (DirectoryUser, Engine.Disabling?) in
                let current = try await Self.user(id, in: tx)
                let draft = try change(current)
                var entry = current.entry
                entry.name = draft.userName
                entry.externalId = draft.externalId
                entry.displayName = draft.displayName
                entry.emails = draft.emails
                entry.active = draft.active
                entry.updatedAt = now
                try entry.validate()
                try await Self.requireUnique(entry.name, regentName: nil, for: id, field: "userName", in: tx)
                let existing = current.principal
                let updated = try Principal(
                    id: id, kind: .user, name: existing.name, displayName: draft.displayName ?? draft.userName,
                    email: entry.mailAddress, isEnabled: entry.isEnabled, createdAt: existing.createdAt)
                let disabling = existing.isEnabled && !updated.isEnabled
                if disabling {
                    try await engine.requireAdministratorCoverage(in: tx, now: now, after: { $0.setEnabled(id, false) })
                }
                try await tx.updatePrincipal(updated)
                try await tx.saveDirectoryEntry(entry)
                let note = AuditNote(
                    .directoryUserUpdated,
                    details: Self.details(of: entry, principal: updated).merging(
                        ["changed": Self.changes(from: current.entry, to: entry).joined(separator: ",")]
                    ) { $1 })
                let result = DirectoryUser(principal: updated, entry: entry, groups: current.groups)
                guard disabling else {
                    try await engine.audit(
                        note, in: tx,
                        context: Engine.AuditContext(actor: client.auditActor, subject: subject, correlationId: nil),
                        now: now)
                    return (result, existing.isEnabled == updated.isEnabled ? nil : Engine.Disabling())
                }
                return (
                    result,
                    try await engine.disabled(
                        updated, note: note, because: "\(existing.name) was deactivated by the directory",
                        actor: client.auditActor, in: tx, now: now)
                )
            }
        }
        if let disabling { engine.afterEnabledChange(of: id, enabled: user.principal.isEnabled, disabling) }
        return user
    }

    /// Deletes a user: it is disabled, leaves every group, and everything it held ends, eligible
    /// assignments included. Its history stays, and so does its name: a later user with the same
    /// `userName` is refused rather than given the history of another person.
    public func deleteUser(_ id: Principal.ID, by client: DirectoryClient) async throws {
        try await delete(id, kind: .user, by: client)
    }

    /// Deletes a provisioned user or group: disabled, out of every group (and, for a group,
    /// emptied), its directory entry marked deleted, and everything it held or gave ended
    /// (``AccessWithdrawal``, eligibility included). Its history and its name stay.
    func delete(_ id: Principal.ID, kind: Principal.Kind, by client: DirectoryClient) async throws {
        let now = engine.clock.now()
        let disabling = try await engine.audited(
            as: client.auditActor, subject: AuditSubject(principalId: id), action: .directoryChangeRefused, now: now
        ) {
            try await engine.store.transaction { tx -> Engine.Disabling in
                guard let current = try await tx.principal(id: id), current.kind == kind,
                    let entry = try await tx.directoryEntry(of: id)
                else { throw RegentError(.notFound, "no such \(kind.rawValue)", field: "id") }
                let affected = AccessWithdrawal.affected(by: id, in: try await tx.membershipGraph())
                try await engine.requireAdministratorCoverage(
                    in: tx, now: now,
                    after: { graph in
                        graph.setEnabled(id, false)
                        for member in graph.members[id] ?? [] { graph.remove(member: member, from: id) }
                        for group in graph.parents[id] ?? [] { graph.remove(member: id, from: group) }
                    })
                var disabled = current
                disabled.isEnabled = false
                try await tx.updatePrincipal(disabled)
                try await tx.removeMemberships(of: id)
                try await tx.markDirectoryEntryDeleted(id, at: now)
                return try await engine.disabled(
                    disabled,
                    note: AuditNote(
                        kind == .user ? .directoryUserDeleted : .directoryGroupDeleted,
                        details: Self.details(of: entry, principal: disabled)),
                    deleted: true, because: "\(entry.name) was deleted by the directory", actor: client.auditActor,
                    affected: affected, in: tx, now: now)
            }
        }
        engine.afterEnabledChange(of: id, enabled: false, disabling)
    }

    static func user(_ id: Principal.ID, in tx: StoreTransaction) async throws -> DirectoryUser {
        guard let principal = try await tx.principal(id: id), principal.kind == .user,
            let entry = try await tx.directoryEntry(of: id)
        else { throw RegentError(.notFound, "no such user", field: "id") }
        return DirectoryUser(
            principal: principal, entry: entry,
            groups: groups(of: id, graph: try await tx.membershipGraph(), names: try await memberNames(in: tx)))
    }

    static func groups(of id: Principal.ID, graph: MembershipGraph, names: [Principal.ID: DirectoryMember])
        -> [DirectoryMember]
    {
        (graph.parents[id] ?? []).compactMap { names[$0] }.filter { $0.kind == .group }.sorted {
            $0.display < $1.display
        }
    }

    /// Refuses a directory name another provisioned principal holds (without case, deleted ones
    /// included), and a derived Regent name any principal holds: two people are never merged.
    static func requireUnique(
        _ name: String, regentName: String?, for owner: Principal.ID?, field: String, in tx: StoreTransaction
    ) async throws {
        if let holder = try await tx.directoryEntryHolder(named: name), holder != owner {
            throw RegentError(.conflict, "\(field) \(name) is already taken", field: field)
        }
        if let regentName, try await tx.principal(named: regentName) != nil {
            throw RegentError(
                .conflict, "\(field) \(name) gives the Regent name \(regentName), which another principal has",
                field: field)
        }
    }

    static func details(of entry: DirectoryEntry, principal: Principal) -> [String: String] {
        var details = ["directoryName": entry.name, "name": principal.name, "enabled": String(principal.isEnabled)]
        if let externalId = entry.externalId { details["externalId"] = externalId }
        return details
    }

    /// The fields a change touched, for the audit event.
    static func changes(from old: DirectoryEntry, to new: DirectoryEntry) -> [String] {
        var changed: [String] = []
        if old.name != new.name { changed.append("userName") }
        if old.externalId != new.externalId { changed.append("externalId") }
        if old.displayName != new.displayName { changed.append("displayName") }
        if old.emails != new.emails { changed.append("emails") }
        if old.active != new.active { changed.append("active") }
        return changed
    }
}
