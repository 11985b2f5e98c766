public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

extension StoreTransaction {
    /// Inserts or replaces the assignment's current state (assignments are never deleted).
    public func saveAssignment(_ a: Assignment) async throws {
        recorder.record { $0.assignments.insert(a.id) }
        try await db.raw("DELETE FROM assignments WHERE id = \(bind: a.id.description)").run()
        try await db.raw(
            """
            INSERT INTO assignments (id, kind, principal_id, role_id, scope, start_at, end_at, state, end_reason, ended_at,
                                     request_id, activated_from, created_at)
            VALUES (\(bind: a.id.description), \(bind: a.kind.rawValue), \(bind: a.principalId.description),
                    \(bind: a.roleId.description), \(bind: a.scope.path), \(bind: a.start.milliseconds),
                    \(bind: a.end?.milliseconds), \(bind: a.state.rawValue), \(bind: a.endReason?.rawValue),
                    \(bind: a.endedAt?.milliseconds), \(bind: a.requestId?.description),
                    \(bind: a.activatedFrom?.description), \(bind: a.createdAt.milliseconds))
            """
        ).run()
    }

    public func assignment(id: Assignment.ID) async throws -> Assignment? {
        try await db.raw("SELECT * FROM assignments WHERE id = \(bind: id.description)").first().map(Self.assignment)
    }

    /// Assignments matching the filter, newest first, after `position`. A scope filter keeps those
    /// that cover `scope` (at it or above it), decided in the query so that a page is never short.
    public func assignments(_ filter: AssignmentFilter, limit: Int = 10_000, after position: ListPosition? = nil)
        async throws -> [Assignment]
    {
        var query = SQLListQuery("SELECT * FROM assignments")
        if let ids = filter.principalIds { query.where("principal_id", in: ids.sorted().map(\.description)) }
        if let roleId = filter.roleId { query.where("role_id =", roleId.description) }
        if let kind = filter.kind { query.where("kind =", kind.rawValue) }
        if let states = filter.states { query.where("state", in: states.map(\.rawValue).sorted()) }
        if let endedSince = filter.endedSince { query.where("ended_at >=", endedSince.milliseconds) }
        if let scope = filter.scope { query.where("scope", in: scope.lineage.map(\.path)) }
        return try await db.raw(query.page(.newestFirst, after: position, limit: limit)).all().map(Self.assignment)
    }

    /// The assignments not ended of these principals, and the eligible assignments their
    /// activations came from (in any state): what a directory change can take away.
    public func liveAssignments(of principals: Set<Principal.ID>) async throws -> [Assignment] {
        var found: [Assignment] = []
        for slice in Self.slices(principals.map(\.description).sorted()) {
            var query = SQLListQuery("SELECT * FROM assignments")
            query.where("principal_id", in: Array(slice))
            query.where("state <>", Assignment.State.ended.rawValue)
            found += try await db.raw(query.ordered(by: "id")).all().map(Self.assignment)
        }
        let known = Set(found.map(\.id))
        let origins = Set(found.compactMap(\.activatedFrom)).subtracting(known)
        for slice in Self.slices(origins.map(\.description).sorted()) {
            var query = SQLListQuery("SELECT * FROM assignments")
            query.where("id", in: Array(slice))
            found += try await db.raw(query.ordered(by: "id")).all().map(Self.assignment)
        }
        return found
    }

    /// Every assignment in force or scheduled, for building the check index at start.
    public func liveAssignments() async throws -> [Assignment] {
        try await db.raw("SELECT * FROM assignments WHERE state <> 'ended'").all().map(Self.assignment)
    }

    /// One page of the active assignments not ended, in id order after `after`: what the check
    /// index holds, read without holding every row at once.
    public func liveActiveAssignments(after: Assignment.ID?, limit: Int) async throws -> [Assignment] {
        try await db.raw(
            """
            SELECT * FROM assignments WHERE state <> 'ended' AND kind = 'active' AND id > \(bind: after?.description ?? "")
            ORDER BY id LIMIT \(bind: limit)
            """
        ).all().map(Self.assignment)
    }

    static func assignment(_ row: any SQLRow) throws -> Assignment {
        let endReason = try row.optionalString("end_reason")
        return Assignment(
            id: try row.id("id"), kind: try row.enumValue("kind", as: Assignment.Kind.self),
            principalId: try row.id("principal_id"),
            roleId: try row.id("role_id"), scope: try row.scope("scope"), start: try row.date("start_at"),
            end: try row.optionalDate("end_at"), state: try row.enumValue("state", as: Assignment.State.self),
            endReason: try endReason.map {
                guard let reason = Assignment.EndReason(rawValue: $0) else {
                    throw StoreError.corrupt("end_reason \($0)")
                }
                return reason
            },
            endedAt: try row.optionalDate("ended_at"), requestId: try row.optionalID("request_id"),
            activatedFrom: try row.optionalID("activated_from"), createdAt: try row.date("created_at"))
    }
}
