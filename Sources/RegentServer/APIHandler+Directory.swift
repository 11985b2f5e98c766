import Foundation
import HTTPTypes
import OpenAPIRuntime
import RegentAPI
import RegentCore
import RegentEngine

/// Principals, groups, roles, policies and the listings.
extension APIHandler {
    func listPrincipals(_ input: Operations.ListPrincipals.Input) async throws -> Operations.ListPrincipals.Output {
        let (_, actor) = try Caller.required()
        let (position, limit) = try Cursor.decode(input.query.cursor, limit: input.query.limit)
        let page = try await engine.directory.listPrincipals(by: actor, after: position, limit: limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map(Components.Schemas.Principal.init), cursor: Cursor.encode(page.next)
                    ))))
    }

    func createPrincipal(_ input: Operations.CreatePrincipal.Input) async throws -> Operations.CreatePrincipal.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        guard let kind = Principal.Kind(rawValue: body.kind.rawValue) else {
            throw APIProblem.invalid("kind", "unknown kind")
        }
        if body.members != nil && kind != .group { throw APIProblem.invalid("members", "only groups have members") }
        let members = try await (body.members ?? []).asyncMap {
            try await engine.directory.principal(named: $0, by: actor).id
        }
        let principal = try await engine.directory.createPrincipal(
            kind: kind, name: body.name, displayName: body.displayName, email: body.email, password: body.password,
            by: actor)
        for member in members { try await engine.directory.addMember(member, to: principal.id, by: actor) }
        return .created(.init(body: .json(.init(principal))))
    }

    /// Oneself, or anyone for those who may read everything; others are told it does not exist.
    func getPrincipal(_ input: Operations.GetPrincipal.Input) async throws -> Operations.GetPrincipal.Output {
        let (_, actor) = try Caller.required()
        let notFound = RegentError(.notFound, "no such principal", field: "principal")
        let principal: Principal
        do {
            principal = try await engine.directory.principal(named: input.path.principalId, by: actor)
        } catch let error as RegentError where error.code == .accessDenied {
            throw notFound
        }
        // Naming someone (an auditor may, to search the log) is not reading their record.
        let mayReadAll = try await engine.permits(actor, .readEverything)
        guard principal.id == actor.principalId || mayReadAll else { throw notFound }
        return .ok(.init(body: .json(.init(principal))))
    }

    func addGroupMember(_ input: Operations.AddGroupMember.Input) async throws -> Operations.AddGroupMember.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let group = try await engine.directory.principal(named: input.path.principalId, by: actor)
        let member = try await engine.directory.principal(named: body.memberId, by: actor)
        try await engine.directory.addMember(member.id, to: group.id, by: actor)
        return .noContent(.init())
    }

    func listRoles(_ input: Operations.ListRoles.Input) async throws -> Operations.ListRoles.Output {
        _ = try Caller.required()
        let (position, limit) = try Cursor.decode(input.query.cursor, limit: input.query.limit)
        let page = try await engine.directory.listRoles(after: position, limit: limit)
        return .ok(
            .init(
                body: .json(
                    .init(items: page.items.map(Components.Schemas.Role.init), cursor: Cursor.encode(page.next))))
        )
    }

    func createRole(_ input: Operations.CreateRole.Input) async throws -> Operations.CreateRole.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let entitlements = try (body.entitlements ?? []).map {
            Entitlement(targetId: try Self.id($0.targetId, "entitlements.targetId"), value: $0.value)
        }
        let role = try await engine.directory.createRole(
            name: body.name, description: body.description ?? "", entitlements: entitlements, by: actor)
        return .created(.init(body: .json(.init(role))))
    }

    func getRole(_ input: Operations.GetRole.Input) async throws -> Operations.GetRole.Output {
        _ = try Caller.required()
        return .ok(.init(body: .json(.init(try await engine.directory.role(named: input.path.roleId)))))
    }

    func getRolePolicy(_ input: Operations.GetRolePolicy.Input) async throws -> Operations.GetRolePolicy.Output {
        _ = try Caller.required()
        let role = try await engine.directory.role(named: input.path.roleId)
        let scope = try Scope(parsing: input.query.scope ?? "/")
        return .ok(.init(body: .json(try await policyView(role: role.id, scope: scope))))
    }

    func setRolePolicy(_ input: Operations.SetRolePolicy.Input) async throws -> Operations.SetRolePolicy.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let role = try await engine.directory.role(named: input.path.roleId)
        let scope = try Scope(parsing: input.query.scope ?? "/")
        _ = try await engine.directory.setPolicy(
            try await policy(from: body, by: actor), role: role.id, scope: scope, by: actor)
        return .ok(.init(body: .json(try await policyView(role: role.id, scope: scope))))
    }

    func listAssignments(_ input: Operations.ListAssignments.Input) async throws -> Operations.ListAssignments.Output {
        let (_, actor) = try Caller.required()
        let (position, limit) = try Cursor.decode(input.query.cursor, limit: input.query.limit)
        var filter = AssignmentFilter()
        if let principal = input.query.principal {
            filter.principalIds = [try await engine.directory.principal(named: principal, by: actor).id]
        }
        if let role = input.query.role { filter.roleId = try await engine.directory.role(named: role).id }
        if let kind = input.query.kind { filter.kind = kind == .eligible ? .eligible : .active }
        if let state = input.query.state { filter.states = Assignment.State(rawValue: state.rawValue).map { [$0] } }
        if let scope = input.query.scope { filter.scope = try Scope(parsing: scope) }
        let page = try await engine.requests.listAssignments(filter, by: actor, after: position, limit: limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map {
                            Components.Schemas.Assignment(
                                $0, holderDisabled: page.disabledHolders.contains($0.principalId))
                        },
                        cursor: Cursor.encode(page.next)))))
    }

    func listRequests(_ input: Operations.ListRequests.Input) async throws -> Operations.ListRequests.Output {
        let (_, actor) = try Caller.required()
        let (position, limit) = try Cursor.decode(input.query.cursor, limit: input.query.limit)
        let page = try await engine.requests.listRequests(
            status: input.query.status.flatMap { RegentCore.Request.Status(rawValue: $0.rawValue) },
            mine: input.query.mine ?? false, awaitingMe: input.query.awaitingMe ?? false, by: actor, after: position,
            limit: limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: page.items.map(Components.Schemas.Request.init), cursor: Cursor.encode(page.next)))
            ))
    }

    private func policyView(role: Role.ID, scope: Scope) async throws -> Components.Schemas.PolicyView {
        let (own, effective) = try await engine.directory.policies(role: role, scope: scope)
        return .init(
            roleId: role.description, scope: scope.path, own: .init(own ?? Policy()), effective: .init(effective),
            origins: .init(
                additionalProperties: Dictionary(
                    uniqueKeysWithValues: effective.origins.map { ($0.key.rawValue, $0.value.path) })))
    }
}

/// Opaque page cursors: the position the previous page ended at, so that the next one is found
/// by keyset through an index, never by an offset. Clients must not rely on what is inside.
enum Cursor {
    static let defaultLimit = 100
    private static let version: UInt8 = 1

    static func encode(_ position: ListPosition?) -> String? {
        guard let position, let json = try? JSONEncoder().encode(position) else { return nil }
        return (Data([version]) + json).base64EncodedString()
    }

    static func decode(_ cursor: String?, limit: Int?) throws(APIProblem) -> (position: ListPosition?, limit: Int) {
        let limit = limit ?? defaultLimit
        guard (1...500).contains(limit) else { throw APIProblem.invalid("limit", "a page holds 1 to 500 items") }
        guard let cursor else { return (nil, limit) }
        guard let data = Data(base64Encoded: cursor), data.first == version,
            let position = try? JSONDecoder().decode(ListPosition.self, from: data.dropFirst())
        else { throw APIProblem.invalid("cursor", "not a cursor from a previous page") }
        return (position, limit)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async throws -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async throws -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

extension APIHandler {
    func getMyRoles(_ input: Operations.GetMyRoles.Input) async throws -> Operations.GetMyRoles.Output {
        let (_, actor) = try Caller.required()
        let held = try await engine.requests.myRoles(actor)
        return .ok(
            .init(
                body: .json(
                    .init(
                        items: held.map {
                            .init(
                                assignment: .init($0.assignment), role: $0.roleName, secondsLeft: $0.secondsLeft,
                                viaGroup: $0.viaGroup?.description)
                        }))))
    }
}
