public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// Access review definitions and occurrences, and principals' managers.
extension StoreTransaction {
    public func insertReviewDefinition(_ definition: ReviewDefinition) async throws {
        try await db.raw(
            """
            INSERT INTO review_definitions (id, body, created_at)
            VALUES (\(bind: definition.id.description), \(bind: try json(definition)), \(bind: definition.createdAt.milliseconds))
            """
        ).run()
    }

    public func reviewDefinitions() async throws -> [ReviewDefinition] {
        try await db.raw("SELECT body FROM review_definitions ORDER BY created_at, id").all().map {
            try decodeJSON(ReviewDefinition.self, try $0.string("body"), "review definition")
        }
    }

    public func reviewDefinition(id: ReviewDefinition.ID) async throws -> ReviewDefinition? {
        try await db.raw("SELECT body FROM review_definitions WHERE id = \(bind: id.description)").first().map {
            try decodeJSON(ReviewDefinition.self, try $0.string("body"), "review definition")
        }
    }

    /// Inserts a new occurrence, or replaces the stored one with the same id.
    public func saveReviewInstance(_ instance: ReviewInstance) async throws {
        try await db.raw("DELETE FROM review_instances WHERE id = \(bind: instance.id.description)").run()
        try await db.raw(
            """
            INSERT INTO review_instances (id, definition_id, occurrence, start_at, end_at, state, body)
            VALUES (\(bind: instance.id.description), \(bind: instance.definitionId.description),
                    \(bind: instance.occurrence), \(bind: instance.start.milliseconds), \(bind: instance.end.milliseconds),
                    \(bind: instance.state.rawValue), \(bind: try json(instance)))
            """
        ).run()
    }

    public func reviewInstance(id: ReviewInstance.ID) async throws -> ReviewInstance? {
        try await db.raw("SELECT body FROM review_instances WHERE id = \(bind: id.description)").first().map {
            try decodeJSON(ReviewInstance.self, try $0.string("body"), "review instance")
        }
    }

    /// Occurrences, newest first: of one definition, or in one state.
    public func reviewInstances(definition: ReviewDefinition.ID? = nil, state: ReviewInstance.State? = nil)
        async throws -> [ReviewInstance]
    {
        var query = SQLListQuery("SELECT body FROM review_instances")
        if let definition { query.where("definition_id =", definition.description) }
        if let state { query.where("state =", state.rawValue) }
        return try await db.raw(query.ordered(by: "start_at DESC, id")).all().map {
            try decodeJSON(ReviewInstance.self, try $0.string("body"), "review instance")
        }
    }

    /// How many occurrences the definition has had.
    public func reviewOccurrences(of definition: ReviewDefinition.ID) async throws -> Int {
        try await db.raw(
            "SELECT COUNT(*) AS n FROM review_instances WHERE definition_id = \(bind: definition.description)"
        ).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The live assignments a review could cover: no activations, only the given kinds and, when
    /// named, roles. The review's own rule (`ReviewDefinition.covers`) decides the rest; this keeps
    /// its snapshot's read to what it covers rather than every assignment.
    public func reviewableAssignments(roles: [Role.ID], kinds: Set<Assignment.Kind>) async throws -> [Assignment] {
        var query = SQLListQuery("SELECT * FROM assignments")
        query.where("state <>", Assignment.State.ended.rawValue)
        query.where("activated_from IS NULL")
        query.where("kind", in: kinds.map(\.rawValue).sorted())
        if !roles.isEmpty { query.where("role_id", in: roles.map(\.description).sorted()) }
        return try await db.raw(query.ordered(by: "created_at DESC, id")).all().map(Self.assignment)
    }

    /// Each of `principals`' latest sign-in.
    public func lastSignIns(of principals: Set<Principal.ID>) async throws -> [Principal.ID: Date] {
        var last: [Principal.ID: Date] = [:]
        for slice in Self.slices(principals.map(\.description).sorted()) {
            var query = SQLListQuery("SELECT actor_id, MAX(time) AS last FROM audit_events")
            query.where("action =", AuditAction.authLoginSucceeded.rawValue)
            query.where("actor_id", in: slice)
            for row in try await db.raw(query.grouped(by: "actor_id")).all() {
                last[try row.id("actor_id")] = try row.date("last")
            }
        }
        return last
    }

    /// Every principal's manager, for a review's snapshot.
    public func managers() async throws -> [Principal.ID: Principal.ID] {
        var managers: [Principal.ID: Principal.ID] = [:]
        for row in try await db.raw("SELECT principal_id, manager_id FROM principal_managers").all() {
            managers[try row.id("principal_id")] = try row.id("manager_id")
        }
        return managers
    }

    public func setManager(of principal: Principal.ID, to manager: Principal.ID?) async throws {
        try await db.raw("DELETE FROM principal_managers WHERE principal_id = \(bind: principal.description)").run()
        guard let manager else { return }
        try await db.raw(
            """
            INSERT INTO principal_managers (principal_id, manager_id)
            VALUES (\(bind: principal.description), \(bind: manager.description))
            """
        ).run()
    }
}
