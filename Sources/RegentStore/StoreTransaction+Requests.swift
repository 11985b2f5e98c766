public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

extension StoreTransaction {
    /// Inserts or replaces the request's current state (requests are never deleted).
    public func saveRequest(_ r: Request) async throws {
        try await db.raw("DELETE FROM requests WHERE id = \(bind: r.id.description)").run()
        try await db.raw(
            """
            INSERT INTO requests (id, action, requester_id, principal_id, role_id, scope, kind, justification,
                                  ticket_system, ticket_number, requested_start, duration_seconds, target_assignment_id,
                                  assignment_id, status, failed_rules, reason, approval, created_at, updated_at)
            VALUES (\(bind: r.id.description), \(bind: r.action.rawValue), \(bind: r.requesterId.description),
                    \(bind: r.principalId.description), \(bind: r.roleId.description), \(bind: r.scope.path),
                    \(bind: r.kind.rawValue), \(bind: r.justification), \(bind: r.ticket?.system), \(bind: r.ticket?.number),
                    \(bind: r.requestedStart?.milliseconds), \(bind: r.duration?.seconds),
                    \(bind: r.targetAssignmentId?.description), \(bind: r.assignmentId?.description),
                    \(bind: r.status.rawValue), \(bind: try json(r.failedRules)), \(bind: r.reason),
                    \(bind: try r.approval.map(json)), \(bind: r.createdAt.milliseconds),
                    \(bind: r.updatedAt.milliseconds))
            """
        ).run()
    }

    public func request(id: Request.ID) async throws -> Request? {
        try await db.raw("SELECT * FROM requests WHERE id = \(bind: id.description)").first().map(request(from:))
    }

    /// Requests, newest first after `position`, optionally of one status or one requester.
    public func requests(
        status: Request.Status? = nil, requester: Principal.ID? = nil, limit: Int = 1000,
        after position: ListPosition? = nil
    ) async throws -> [Request] {
        var query = SQLListQuery("SELECT * FROM requests")
        if let status { query.where("status =", status.rawValue) }
        if let requester { query.where("requester_id =", requester.description) }
        return try await db.raw(query.page(.newestFirst, after: position, limit: limit)).all()
            .map(request(from:))
    }

    /// The requests waiting for approval that are for, or were asked by, these principals.
    public func pendingRequests(involving principals: Set<Principal.ID>) async throws -> [Request] {
        var found: [Request.ID: Request] = [:]
        let columns: [StaticString] = ["principal_id", "requester_id"]
        for slice in Self.slices(principals.map(\.description).sorted()) {
            for column in columns {
                var query = SQLListQuery("SELECT * FROM requests")
                query.where("status =", Request.Status.pendingApproval.rawValue)
                query.where(column, in: Array(slice))
                for request in try await db.raw(query.ordered(by: "id")).all().map(request(from:)) {
                    found[request.id] = request
                }
            }
        }
        return found.values.sorted { $0.id.description < $1.id.description }
    }

    /// Start times of a principal's activations of a role since `since`, for `maxActivations`.
    public func activationStarts(principal: Principal.ID, role: Role.ID, since: Date) async throws -> [Date] {
        try await db.raw(
            """
            SELECT start_at FROM assignments WHERE principal_id = \(bind: principal.description)
            AND role_id = \(bind: role.description) AND activated_from IS NOT NULL
            AND start_at >= \(bind: since.milliseconds)
            """
        ).all().map { try $0.date("start_at") }
    }

    private func request(from row: any SQLRow) throws -> Request {
        let system = try row.optionalString("ticket_system")
        let number = try row.optionalString("ticket_number")
        return Request(
            id: try row.id("id"), action: try row.enumValue("action", as: Request.Action.self),
            requesterId: try row.id("requester_id"), principalId: try row.id("principal_id"),
            roleId: try row.id("role_id"),
            scope: try row.scope("scope"), kind: try row.enumValue("kind", as: Assignment.Kind.self),
            justification: try row.optionalString("justification"),
            ticket: system.map { Request.Ticket(system: $0, number: number ?? "") },
            requestedStart: try row.optionalDate("requested_start"),
            duration: try row.optionalInt64("duration_seconds").map(ISODuration.init(seconds:)),
            targetAssignmentId: try row.optionalID("target_assignment_id"),
            assignmentId: try row.optionalID("assignment_id"),
            status: try row.enumValue("status", as: Request.Status.self),
            failedRules: try decodeJSON([PolicyRule].self, try row.string("failed_rules"), "failed_rules"),
            reason: try row.optionalString("reason"),
            approval: try row.optionalString("approval").map { try decodeJSON(ApprovalProgress.self, $0, "approval") },
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
