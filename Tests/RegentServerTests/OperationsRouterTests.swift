import Foundation
import Hummingbird
import HummingbirdTesting
import RegentAudit
import RegentEngine
import RegentServer
import RegentStore
import RegentTestSupport
import Testing

struct OperationsRouterTests {
    func withApp(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        try await ServerHarness.run { _, client in try await body(client) }
    }

    /// Liveness answers JSON {"status":"ok"}.
    @Test func health() async throws {
        try await withApp { client in
            try await client.execute(uri: "/healthz", method: .get) { (response) async throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let body =
                    try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(body?["status"] as? String == "ok")
            }
        }
    }

    /// A path of the spec asked with a method it does not have answers 405 with `Allow`; an
    /// unknown path stays 404. Both are problem+json.
    @Test func methodNotAllowed() async throws {
        try await withApp { client in
            try await client.execute(uri: "/v1/roles", method: .delete) { (response) async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, POST")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/v1/principals/alice?x=1", method: .put) { (response) async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, PATCH")
            }
            try await client.execute(uri: "/v1/nothing-here", method: .delete) { (response) async throws in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }

    /// Readiness reports the database and the audit head after bootstrap.
    @Test func readiness() async throws {
        try await withApp { client in
            try await client.execute(uri: "/readyz", method: .get) { (response) async throws in
                #expect(response.status == .ok)
                let body =
                    try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                let checks = body?["checks"] as? [String: String]
                #expect(checks?["database"] == "ok")
                #expect(Int(checks?["auditSeq"] ?? "0") ?? 0 > 0)
                #expect(checks?["checkIndex"] == "1")
            }
        }
    }

    /// The served document is the OpenAPI spec the code was generated from.
    @Test func openAPIDocument() async throws {
        try await withApp { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { (response) async throws in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.hasPrefix("openapi: \"3.1.0\""))
                #expect(text.contains("operationId: getReadiness"))
            }
        }
    }

    /// Unknown paths are 404, not a crash.
    @Test func unknownPath() async throws {
        try await withApp { client in
            try await client.execute(uri: "/v1/nothing", method: .get) { (response) async throws in
                #expect(response.status == .notFound)
            }
        }
    }
}
