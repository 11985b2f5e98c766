import OpenAPIRuntime
import RegentAPI
import RegentCore
import RegentEngine

/// The bearer tokens of SCIM clients (the provisioning itself is `SCIMHandler`, at /scim/v2).
extension APIHandler {
    func listScimTokens(_ input: Operations.ListScimTokens.Input) async throws -> Operations.ListScimTokens.Output {
        let (_, actor) = try Caller.required()
        let tokens = try await engine.directorySync.tokens(by: actor)
        return .ok(.init(body: .json(.init(items: tokens.map { Components.Schemas.ScimToken($0, secret: nil) }))))
    }

    func createScimToken(_ input: Operations.CreateScimToken.Input) async throws -> Operations.CreateScimToken.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let created = try await engine.directorySync.createToken(name: body.name, by: actor)
        return .created(.init(body: .json(Components.Schemas.ScimToken(created.record, secret: created.token))))
    }

    func revokeScimToken(_ input: Operations.RevokeScimToken.Input) async throws -> Operations.RevokeScimToken.Output {
        let (_, actor) = try Caller.required()
        try await engine.directorySync.revokeToken(id: input.path.tokenId.lowercased(), by: actor)
        return .noContent(.init())
    }
}

extension Components.Schemas.ScimToken {
    init(_ record: SCIMTokenRecord, secret: String?) {
        self.init(
            id: record.id, name: record.name, token: secret, createdAt: record.createdAt, revokedAt: record.revokedAt)
    }
}
