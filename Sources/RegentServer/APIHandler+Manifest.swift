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
        let desired = try await Self.desired(body)
        let (live, changes) = try Self.plan(desired, against: snapshot, prune: body.prune ?? false)
        return .ok(
            .init(body: .json(.init(changes: try changes.map(Self.view), stateHash: ManifestObject.stateHash(live)))))
    }

    /// The submitted documents as objects, or every problem they have (400).
    private static func desired(_ body: Components.Schemas.ManifestSubmission) async throws
        -> [(source: ManifestSource, object: ManifestObject)]
    {
        var documents: [(source: ManifestSource, document: JSONValue)] = []
        for document in body.documents {
            documents.append(
                (ManifestSource(file: document.file, document: document.document), try YAMLJSON.convert(document.body)))
        }
        do {
            return try await ManifestDocuments.objects(documents)
        } catch {
            throw error.regentError
        }
    }

    /// The live objects and the changes that make them the manifest's, once every reference the
    /// manifest makes is to something it or the live state has.
    private static func plan(
        _ desired: [(source: ManifestSource, object: ManifestObject)], against snapshot: ManifestSnapshot, prune: Bool
    ) throws -> (live: [ManifestObject], changes: [ManifestChange]) {
        let missing = ManifestDocuments.missingReferences(
            desired, known: snapshot.knownKeys, principals: snapshot.principalNames)
        guard missing.isEmpty else { throw ManifestProblems(missing).regentError }
        let live = try snapshot.objects()
        let changes = ManifestPlan.changes(
            live: live, desired: desired.map(\.object), managed: snapshot.managed, prune: prune)
        return (live, changes)
    }

    func exportManifest(_ input: Operations.ExportManifest.Input) async throws -> Operations.ExportManifest.Output {
        let (_, actor) = try Caller.required()
        let objects = try await engine.manifests.snapshot(by: actor).objects()
        return .ok(
            .init(
                body: .json(
                    .init(documents: try objects.map { try YAMLJSON.convert(ManifestDocuments.document(for: $0)) }))))
    }

    private static func view(_ change: ManifestChange) throws -> Components.Schemas.ManifestChange {
        .init(
            action: .init(rawValue: change.action.rawValue) ?? .update, kind: change.key.kind.rawValue,
            name: change.key.name,
            fields: try change.fields.map {
                .init(
                    path: $0.path, before: try $0.before.map { try YAMLJSON.convert($0) },
                    after: try $0.after.map { try YAMLJSON.convert($0) })
            })
    }

}

extension APIHandler {
    func applyManifest(_ input: Operations.ApplyManifest.Input) async throws -> Operations.ApplyManifest.Output {
        let (_, actor) = try Caller.required()
        guard case .json(let body) = input.body else { throw APIProblem.invalid("body", "send JSON") }
        guard let expected = body.stateHash else {
            throw APIProblem.invalid("stateHash", "apply the stateHash of a plan (regent plan prints it with --json)")
        }
        let desired = try await Self.desired(body)
        let manifestHash = ManifestObject.stateHash(desired.map(\.object))
        let prune = body.prune ?? false
        let now = engine.clock.now()
        let secrets = (body.secrets ?? []).reduce(into: [String: [String: String]]()) {
            $0[$1.target, default: [:]][$1.name] = $1.value
        }
        let application = try await engine.manifests.apply(
            by: actor, manifestHash: manifestHash, expectedStateHash: expected
        ) { snapshot in
            let (live, changes) = try Self.plan(desired, against: snapshot, prune: prune)
            let operations = try await ManifestOperations.make(
                changes,
                desired: Dictionary(desired.map { ($0.object.key, $0.object) }, uniquingKeysWith: { a, _ in a }),
                live: Dictionary(live.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }), snapshot: snapshot,
                secrets: secrets, createdBy: actor.principalId, now: now)
            return ManifestApplication(
                stateHash: ManifestObject.stateHash(live), changes: changes, operations: operations)
        }
        return .ok(
            .init(
                body: .json(
                    .init(changes: try application.changes.map(Self.view), stateHash: application.stateHash))))
    }
}

extension APIHandler {
    func getManifestSchema(_ input: Operations.GetManifestSchema.Input) async throws
        -> Operations.GetManifestSchema.Output
    {
        .ok(.init(body: .applicationSchemaJson(try YAMLJSON.convert(try ManifestSchema.document()))))
    }
}
