import RegentAudit
public import RegentCore
import SQLKit

extension StoreTransaction {
    public func insertPrincipal(_ principal: Principal, passwordHash: String?) async throws {
        try await db.raw(
            """
            INSERT INTO principals (id, kind, name, display_name, email, enabled, password_hash, created_at)
            VALUES (\(bind: principal.id.description), \(bind: principal.kind.rawValue), \(bind: principal.name),
                    \(bind: principal.displayName), \(bind: principal.email), \(bind: principal.isEnabled ? 1 : 0),
                    \(bind: passwordHash), \(bind: principal.createdAt.milliseconds))
            """
        ).run()
    }

    /// Writes the changeable fields (display name, email, enabled); kind and name never change.
    public func updatePrincipal(_ principal: Principal) async throws {
        recorder.record { $0.principals.insert(principal.id) }
        try await db.raw(
            """
            UPDATE principals SET display_name = \(bind: principal.displayName), email = \(bind: principal.email),
                enabled = \(bind: principal.isEnabled ? 1 : 0)
            WHERE id = \(bind: principal.id.description)
            """
        ).run()
    }

    public func setPrincipalEnabled(_ id: Principal.ID, _ enabled: Bool) async throws {
        recorder.record { $0.principals.insert(id) }
        try await db.raw("UPDATE principals SET enabled = \(bind: enabled ? 1 : 0) WHERE id = \(bind: id.description)")
            .run()
    }

    public func disabledPrincipals() async throws -> Set<Principal.ID> {
        Set(try await db.raw("SELECT id FROM principals WHERE enabled = 0").all().map { try $0.id("id") })
    }

    public func principal(id: Principal.ID) async throws -> Principal? {
        try await db.raw("SELECT * FROM principals WHERE id = \(bind: id.description)").first().map(Self.principal)
    }

    public func principal(named name: String) async throws -> Principal? {
        try await db.raw("SELECT * FROM principals WHERE name = \(bind: name)").first().map(Self.principal)
    }

    /// The stored bcrypt hash, for sign-in; nil for groups, services and users without a password.
    public func passwordHash(of id: Principal.ID) async throws -> String? {
        try await db.raw("SELECT password_hash FROM principals WHERE id = \(bind: id.description)").first()?
            .optionalString("password_hash")
    }

    /// The principals with these ids (those that exist), by id.
    public func principals(ids: Set<Principal.ID>) async throws -> [Principal.ID: Principal] {
        var found: [Principal.ID: Principal] = [:]
        for slice in Self.slices(ids.map(\.description).sorted()) {
            var query = SQLListQuery("SELECT * FROM principals")
            query.where("id", in: slice)
            for principal in try await db.raw(query.ordered(by: "name")).all().map(Self.principal) {
                found[principal.id] = principal
            }
        }
        return found
    }

    /// Principals by name, after `position`.
    public func principals(limit: Int = 1000, after position: ListPosition? = nil) async throws -> [Principal] {
        try await db.raw(SQLListQuery("SELECT * FROM principals").page(.byName, after: position, limit: limit)).all()
            .map(Self.principal)
    }

    public func addMember(_ member: Principal.ID, to group: Principal.ID) async throws {
        recorder.record { $0.memberships = true }
        try await db.raw(
            "INSERT INTO memberships (group_id, member_id) VALUES (\(bind: group.description), \(bind: member.description))"
        ).run()
    }

    public func removeMember(_ member: Principal.ID, from group: Principal.ID) async throws {
        recorder.record { $0.memberships = true }
        try await db.raw(
            "DELETE FROM memberships WHERE group_id = \(bind: group.description) AND member_id = \(bind: member.description)"
        ).run()
    }

    /// Every membership with the disabled principals: the one expansion of who is who.
    public func membershipGraph() async throws -> MembershipGraph {
        let rows = try await db.raw("SELECT group_id, member_id FROM memberships").all()
        return MembershipGraph(
            edges: try rows.map { (try $0.id("group_id"), try $0.id("member_id")) },
            disabled: try await disabledPrincipals())
    }

    /// The ids of every principal of `kind`.
    public func principalIDs(kind: Principal.Kind) async throws -> Set<Principal.ID> {
        Set(
            try await db.raw("SELECT id FROM principals WHERE kind = \(bind: kind.rawValue)").all().map {
                try $0.id("id")
            })
    }

    static func principal(_ row: any SQLRow) throws -> Principal {
        do {
            return try Principal(
                id: try row.id("id"), kind: try row.enumValue("kind", as: Principal.Kind.self),
                name: try row.string("name"),
                displayName: try row.string("display_name"), email: try row.optionalString("email"),
                isEnabled: try row.int64("enabled") != 0, createdAt: try row.date("created_at"))
        } catch let error as RegentError {
            throw StoreError.corrupt("principal: \(error)")
        }
    }
}
