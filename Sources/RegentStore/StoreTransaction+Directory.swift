public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// What the organisation's directory said about the principals it provisions, and the SCIM
/// clients' bearer tokens (hashes only).
extension StoreTransaction {
    public func saveDirectoryEntry(_ entry: DirectoryEntry) async throws {
        try await db.raw("DELETE FROM directory_entries WHERE principal_id = \(bind: entry.principalId.description)")
            .run()
        try await db.raw(
            """
            INSERT INTO directory_entries (principal_id, matching_key, external_id, body)
            VALUES (\(bind: entry.principalId.description), \(bind: DirectoryName.matchingKey(entry.name)),
                    \(bind: entry.externalId), \(bind: try json(entry)))
            """
        ).run()
    }

    /// The entry of a principal the directory provisions and has not deleted.
    public func directoryEntry(of principal: Principal.ID) async throws -> DirectoryEntry? {
        try await db.raw(
            """
            SELECT body FROM directory_entries
            WHERE principal_id = \(bind: principal.description) AND deleted_at IS NULL
            """
        ).first().map { try decodeJSON(DirectoryEntry.self, try $0.string("body"), "directory entry") }
    }

    /// Who holds a directory name (compared without case), deleted entries included: a name stays
    /// taken by the history kept under it.
    public func directoryEntryHolder(named name: String) async throws -> Principal.ID? {
        try await db.raw(
            "SELECT principal_id FROM directory_entries WHERE matching_key = \(bind: DirectoryName.matchingKey(name))"
        ).first().map { try $0.id("principal_id") }
    }

    /// The principals the organisation's directory or identity provider brought (SCIM, or a first
    /// sign-in), deleted ones too: theirs, never a manifest's.
    public func providedPrincipalIDs() async throws -> Set<Principal.ID> {
        var ids: Set<Principal.ID> = []
        for row in try await db.raw(
            "SELECT principal_id FROM directory_entries UNION SELECT principal_id FROM identity_links"
        ).all() {
            if let id = Principal.ID(try row.string("principal_id")) { ids.insert(id) }
        }
        return ids
    }

    /// The provisioned principals of `kind` not deleted, by Regent name, optionally only the one
    /// with this directory name or external id (the lookups directories make before they create).
    public func directoryPrincipals(
        kind: Principal.Kind, named name: String? = nil, externalId: String? = nil
    ) async throws -> [(Principal, DirectoryEntry)] {
        var query = SQLListQuery(
            "SELECT p.*, d.body AS directory_body FROM principals p JOIN directory_entries d ON d.principal_id = p.id")
        query.where("d.deleted_at IS NULL")
        query.where("p.kind =", kind.rawValue)
        if let name { query.where("d.matching_key =", DirectoryName.matchingKey(name)) }
        if let externalId { query.where("d.external_id =", externalId) }
        return try await db.raw(query.ordered(by: "p.name")).all().map {
            (
                try Self.principal($0),
                try decodeJSON(DirectoryEntry.self, try $0.string("directory_body"), "directory entry")
            )
        }
    }

    public func markDirectoryEntryDeleted(_ principal: Principal.ID, at time: Date) async throws {
        try await db.raw(
            """
            UPDATE directory_entries SET deleted_at = \(bind: time.milliseconds)
            WHERE principal_id = \(bind: principal.description)
            """
        ).run()
    }

    /// Ends every membership the principal has, as a member and as a group.
    public func removeMemberships(of principal: Principal.ID) async throws {
        recorder.record { $0.memberships = true }
        try await db.raw(
            """
            DELETE FROM memberships
            WHERE group_id = \(bind: principal.description) OR member_id = \(bind: principal.description)
            """
        ).run()
    }

    public func insertSCIMToken(_ token: SCIMTokenRecord, hash: String) async throws {
        try await db.raw(
            """
            INSERT INTO scim_tokens (id, name, token_hash, created_by, created_at)
            VALUES (\(bind: token.id), \(bind: token.name), \(bind: hash), \(bind: token.createdBy.description),
                    \(bind: token.createdAt.milliseconds))
            """
        ).run()
    }

    /// The token with this hash, if it has not been revoked.
    public func scimToken(hash: String) async throws -> SCIMTokenRecord? {
        try await db.raw("SELECT * FROM scim_tokens WHERE token_hash = \(bind: hash) AND revoked_at IS NULL").first()
            .map(Self.scimToken)
    }

    public func scimTokens() async throws -> [SCIMTokenRecord] {
        try await db.raw("SELECT * FROM scim_tokens ORDER BY created_at, id").all().map(Self.scimToken)
    }

    /// Revokes a token not yet revoked; returns whether there was one.
    public func revokeSCIMToken(id: String, at time: Date) async throws -> Bool {
        guard
            try await db.raw("SELECT id FROM scim_tokens WHERE id = \(bind: id) AND revoked_at IS NULL").first() != nil
        else { return false }
        try await db.raw("UPDATE scim_tokens SET revoked_at = \(bind: time.milliseconds) WHERE id = \(bind: id)").run()
        return true
    }

    static func scimToken(_ row: any SQLRow) throws -> SCIMTokenRecord {
        SCIMTokenRecord(
            id: try row.string("id"), name: try row.string("name"), createdBy: try row.id("created_by"),
            createdAt: try row.date("created_at"), revokedAt: try row.optionalDate("revoked_at"))
    }
}
