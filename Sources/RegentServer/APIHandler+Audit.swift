import Foundation
import RegentAPI
import RegentAudit
import RegentCore
import RegentEngine

extension APIHandler {
    func searchAudit(_ input: Operations.SearchAudit.Input) async throws -> Operations.SearchAudit.Output {
        let (_, actor) = try Caller.required()
        let query = input.query
        let limit = query.limit ?? Cursor.defaultLimit
        guard (1...500).contains(limit) else { throw APIProblem.invalid("limit", "a page holds 1 to 500 items") }
        // The cursor's position is the sequence number to continue below.
        let before = try Cursor.decode(query.cursor, limit: limit).position?.value
        let filter = try await auditFilter(
            from: query.from, to: query.to, actor: query.actor, action: query.action,
            outcome: query.outcome?.rawValue, principal: query.principal, role: query.role,
            correlationId: query.correlationId, by: actor)
        let events = try await engine.auditLog.searchAudit(filter, by: actor, before: before, limit: limit)
        let next =
            events.count == limit ? events.last.map { Cursor.encode(ListPosition(value: $0.seq, key: "")) } ?? nil : nil
        return .ok(.init(body: .json(.init(items: events.map(Components.Schemas.AuditEvent.init), cursor: next))))
    }

    /// The audit search the query's filters describe, with principals and roles named or by id.
    func auditFilter(
        from: Date?, to: Date?, actor: String?, action: String?, outcome: String?, principal: String?, role: String?,
        correlationId: String?, by caller: ActorContext
    ) async throws -> AuditFilter {
        var filter = AuditFilter(from: from, to: to, action: action, correlationId: correlationId)
        filter.outcome = outcome.flatMap(AuditOutcome.init)
        if let actor { filter.actorId = try await engine.directory.principal(named: actor, by: caller).id }
        if let principal {
            filter.subjectPrincipalId = try await engine.directory.principal(named: principal, by: caller).id
        }
        if let role { filter.subjectRoleId = try await engine.directory.role(named: role).id }
        return filter
    }

    func verifyAudit(_ input: Operations.VerifyAudit.Input) async throws -> Operations.VerifyAudit.Output {
        let (_, actor) = try Caller.required()
        let report = try await engine.auditLog.verifyAudit(by: actor)
        return .ok(
            .init(
                body: .json(
                    .init(
                        intact: report.isIntact, events: report.verifiedEvents, checkpoints: report.verifiedCheckpoints,
                        lastHash: report.lastHash, firstBadRecord: report.problem?.seq, problem: report.problem?.reason)
                )))
    }
}

extension Components.Schemas.AuditEvent {
    init(_ event: RegentAudit.AuditEvent) {
        self.init(
            seq: event.seq, id: event.id.uuidString.lowercased(), time: event.time,
            actor: .init(
                principalId: event.actor.principalId?.description, name: event.actor.name,
                sourceAddress: event.actor.sourceAddress, userAgent: event.actor.userAgent),
            action: event.action,
            subject: .init(
                principalId: event.subject.principalId?.description, roleId: event.subject.roleId?.description,
                scope: event.subject.scope?.path),
            outcome: .init(rawValue: event.outcome.rawValue) ?? .failed, reason: event.reason,
            correlationId: event.correlationId, details: .init(additionalProperties: event.details),
            prevHash: event.prevHash,
            hash: event.hash)
    }
}
