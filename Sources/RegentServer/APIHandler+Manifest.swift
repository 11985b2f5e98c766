import Foundation
import OpenAPIRuntime
import RegentAPI
import RegentCore
import RegentEngine

/// Policy as code over HTTP: a manifest planned against the live configuration, and the live
/// configuration exported as one.
extension APIHandler {
    func planManifest(_ input: Operations.PlanManifest.Input) async throws -> Operations.PlanManifest.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        let snapshot = try await engine.manifests.snapshot(by: actor)
        var documents: [(source: ManifestSource, document: JSONValue)] = []
        for document in body.documents {
            documents.append(
                (
                    ManifestSource(file: document.file, document: document.document),
                    try Self.convert(document.body, to: JSONValue.self)
                ))
        }
        do {
            let desired = try await ManifestDocuments.objects(documents)
            let missing = ManifestDocuments.missingReferences(
                desired, known: snapshot.knownKeys, principals: snapshot.principalNames)
            guard missing.isEmpty else { throw ManifestProblems(missing) }
            let live = try snapshot.objects()
            let changes = ManifestPlan.changes(live: live, desired: desired.map(\.object), managed: [], prune: false)
            return .ok(
                .init(
                    body: .json(
                        .init(changes: try changes.map(Self.view), stateHash: ManifestObject.stateHash(live)))))
        } catch let problems as ManifestProblems {
            throw problems.regentError
        }
    }

    func exportManifest(_ input: Operations.ExportManifest.Input) async throws -> Operations.ExportManifest.Output {
        let (_, actor) = try Caller.required()
        let objects = try await engine.manifests.snapshot(by: actor).objects()
        return .ok(
            .init(
                body: .json(
                    .init(documents: try objects.map { try Self.convert(ManifestDocuments.document(for: $0)) }))))
    }

    private static func view(_ change: ManifestChange) throws -> Components.Schemas.ManifestChange {
        .init(
            action: .init(rawValue: change.action.rawValue) ?? .update, kind: change.key.kind.rawValue,
            name: change.key.name,
            fields: try change.fields.map {
                .init(
                    path: $0.path, before: try $0.before.map { try convert($0) },
                    after: try $0.after.map { try convert($0) })
            })
    }

    /// The generated containers and ``JSONValue`` hold the same JSON; they meet through it.
    private static func convert<To: Decodable>(_ value: some Encodable, to type: To.Type = To.self) throws -> To {
        try JSONDecoder().decode(To.self, from: JSONEncoder().encode(value))
    }
}
