import Foundation
import OpenAPIRuntime
import RegentAPI
import RegentEngine
import RegentStore

/// Implements the generated `APIProtocol` over the engine. Handlers translate between the API's
/// types and the domain's; decisions belong to the engine.
struct APIHandler: APIProtocol {
    let engine: Engine

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    /// Ready when the database answers a read of the audit head.
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        do {
            let head = try await engine.store.transaction { try await $0.auditHead() }
            return .ok(
                .init(
                    body: .json(
                        .init(
                            status: .ok,
                            checks: .init(additionalProperties: [
                                "database": "ok", "auditSeq": String(head.seq),
                                "checkIndex": String(engine.index.count),
                            ])))))
        } catch {
            return .serviceUnavailable(
                .init(
                    body: .applicationProblemJson(
                        .init(
                            _type: "urn:regent:problem:unavailable", title: "Not ready", status: 503,
                            detail: "the database does not answer"))))
        }
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws
        -> Operations.GetOpenAPIDocument.Output
    {
        .ok(.init(body: .yaml(.init(OpenAPIDocument.yaml ?? Data()))))
    }
}
