import Foundation
import RegentAPI
import RegentCore
import RegentEngine

extension APIHandler {
    func listTargets(_ input: Operations.ListTargets.Input) async throws -> Operations.ListTargets.Output {
        let (_, actor) = try Caller.required()
        let (position, limit) = try Cursor.decode(input.query.cursor, limit: input.query.limit)
        let page = try await engine.provisioning.listTargets(by: actor, after: position, limit: limit)
        var items: [Components.Schemas.Target] = []
        for target in page.items {
            items.append(.init(target, secretNames: try await engine.provisioning.secretNames(of: target.id)))
        }
        return .ok(.init(body: .json(.init(items: items, cursor: Cursor.encode(page.next)))))
    }

    func createTarget(_ input: Operations.CreateTarget.Input) async throws -> Operations.CreateTarget.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        guard let kind = Target.Kind(rawValue: body.kind.rawValue) else {
            throw APIProblem.invalid("kind", "unknown kind")
        }
        let secrets = body.secrets?.additionalProperties ?? [:]
        let target = try await engine.provisioning.createTarget(
            kind: kind, name: body.name, scope: try Scope(parsing: body.scope),
            config: body.config?.additionalProperties ?? [:],
            secrets: secrets, by: actor)
        return .created(.init(body: .json(.init(target, secretNames: secrets.keys.sorted()))))
    }
}

extension Components.Schemas.Target {
    init(_ target: RegentCore.Target, secretNames: [String]) {
        self.init(
            id: target.id.description, kind: .init(rawValue: target.kind.rawValue) ?? .webhook, name: target.name,
            scope: target.scope.path, config: .init(additionalProperties: target.config), secretNames: secretNames)
    }
}
