import Foundation
import RegentAPI
import RegentCore
import RegentEngine

/// Changes to principals, groups, roles and targets, and the caller's approvals inbox.
extension APIHandler {
    func updatePrincipal(_ input: Operations.UpdatePrincipal.Input) async throws -> Operations.UpdatePrincipal.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let principal = try await engine.directory.principal(named: input.path.principalId, by: actor)
        if let manager = body.manager {
            let managerId = manager.isEmpty ? nil : try await engine.directory.principal(named: manager, by: actor).id
            try await engine.directory.setManager(of: principal.id, to: managerId, by: actor)
        }
        let updated = try await engine.directory.updatePrincipal(
            principal.id, .init(displayName: body.displayName, email: body.email, isEnabled: body.enabled), by: actor)
        return .ok(.init(body: .json(.init(updated))))
    }

    func resetPrincipalTOTP(_ input: Operations.ResetPrincipalTOTP.Input) async throws
        -> Operations.ResetPrincipalTOTP.Output
    {
        let (_, actor) = try Caller.required()
        let principal = try await engine.directory.principal(named: input.path.principalId, by: actor)
        try await engine.directory.resetTOTP(of: principal.id, by: actor)
        return .noContent(.init())
    }

    func removeGroupMember(_ input: Operations.RemoveGroupMember.Input) async throws
        -> Operations.RemoveGroupMember.Output
    {
        let (_, actor) = try Caller.required()
        let group = try await engine.directory.principal(named: input.path.principalId, by: actor)
        let member = try await engine.directory.principal(named: input.path.memberId, by: actor)
        try await engine.directory.removeMember(member.id, from: group.id, by: actor)
        return .noContent(.init())
    }

    func updateRole(_ input: Operations.UpdateRole.Input) async throws -> Operations.UpdateRole.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let role = try await engine.directory.role(named: input.path.roleId)
        let entitlements = try body.entitlements?.map {
            Entitlement(targetId: try Self.id($0.targetId, "entitlements.targetId"), value: $0.value)
        }
        let updated = try await engine.directory.updateRole(
            role.id, description: body.description, entitlements: entitlements, by: actor)
        return .ok(.init(body: .json(.init(updated))))
    }

    func getTarget(_ input: Operations.GetTarget.Input) async throws -> Operations.GetTarget.Output {
        let (_, actor) = try Caller.required()
        let target = try await engine.provisioning.target(try Self.id(input.path.targetId, "targetId"), by: actor)
        return .ok(
            .init(body: .json(.init(target, secretNames: try await engine.provisioning.secretNames(of: target.id)))))
    }

    func updateTarget(_ input: Operations.UpdateTarget.Input) async throws -> Operations.UpdateTarget.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let target = try await engine.provisioning.updateTarget(
            try Self.id(input.path.targetId, "targetId"), scope: try body.scope.map { try Scope(parsing: $0) },
            config: body.config?.additionalProperties, secrets: body.secrets?.additionalProperties, by: actor)
        return .ok(
            .init(body: .json(.init(target, secretNames: try await engine.provisioning.secretNames(of: target.id)))))
    }

    func listMyApprovals(_ input: Operations.ListMyApprovals.Input) async throws -> Operations.ListMyApprovals.Output {
        let (_, actor) = try Caller.required()
        let (position, limit) = try Cursor.decode(input.query.cursor, limit: input.query.limit)
        let page = try await engine.requests.listRequests(
            status: nil, mine: false, awaitingMe: true, by: actor, after: position, limit: limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map(Components.Schemas.Request.init), cursor: Cursor.encode(page.next)))
            ))
    }
}
