import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import NIOCore
import RegentAudit
import RegentCore
import RegentEngine
import RegentServer
import RegentStore
import RegentTestSupport

/// The engine harness with the real application built over it (background services off: tests
/// move the manual clock and run each pass themselves), and helpers to sign in.
struct ServerHarness {
    let base: Harness
    var engine: Engine { base.engine }
    var clock: ManualClock { base.clock }
    var store: SQLStore { base.store }
    var admin: ActorContext { base.admin }

    /// Real bcrypt at cost 4, which keeps tests fast; the verifier reads the cost from the hash.
    struct FastBcrypt: PasswordHashing {
        let decoyHash = Bcrypt.hash("nobody's password", cost: 4)
        func verify(_ password: String, against hash: String) async throws -> Bool {
            Bcrypt.verify(password, hash: hash)
        }
        func hash(_ password: String) async throws -> String { Bcrypt.hash(password, cost: 4) }
    }

    static func run(
        publicURL: String? = nil, _ body: @Sendable (ServerHarness, any TestClientProtocol) async throws -> Void
    ) async throws {
        let base = try await Harness.make(
            passwords: FastBcrypt(), administratorPassword: "admin-password", starts: false)
        do {
            let app = try buildApplication(
                engine: base.engine,
                configuration: ServerConfiguration(host: "127.0.0.1", port: 0, publicURL: publicURL),
                background: .none)
            try await app.test(.router) { client in try await body(ServerHarness(base: base), client) }
            await base.close()
        } catch {
            await base.close()
            throw error
        }
    }

    @discardableResult
    func user(_ name: String, password: String = "correct horse") async throws -> Principal {
        try await engine.directory.createPrincipal(
            kind: .user, name: name, displayName: nil, email: nil, password: password, by: admin)
    }

    func role(_ name: String, _ configure: (inout Policy) -> Void = { _ in }) async throws -> Role {
        let role = try await engine.directory.createRole(name: name, description: "", entitlements: [], by: admin)
        var policy = Policy()
        configure(&policy)
        _ = try await engine.directory.setPolicy(policy, role: role.id, scope: .root, by: admin)
        return role
    }

    /// An administrator makes the principal eligible for the role at `/`.
    func makeEligible(_ principal: Principal.ID, for role: Role) async throws {
        _ = try await engine.requests.submit(
            RequestDraft(
                action: .adminAssign, requesterId: admin.principalId, principalId: principal, roleId: role.id,
                scope: .root,
                kind: .eligible),
            by: admin)
    }

    func token(_ client: any TestClientProtocol, _ name: String, password: String = "correct horse") async throws
        -> String
    {
        try await client.execute(
            uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
            body: json(["username": name, "password": password])
        ) { (response) async throws in
            guard response.status == .ok, let token = try object(response)["token"] as? String else {
                throw HarnessError("login of \(name) failed with \(response.status)")
            }
            return token
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func json(_ value: Any) -> ByteBuffer {
    ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: value)) ?? Data())
}

func object(_ response: TestResponse) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any] ?? [:]
}

func bearer(_ token: String) -> HTTPFields {
    [.authorization: "Bearer \(token)", .contentType: "application/json"]
}

/// One call through the router: status and, when there is one, the JSON body.
func call(
    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields,
    _ body: Any? = nil
) async throws -> (HTTPResponse.Status, [String: Any]) {
    try await client.execute(uri: uri, method: method, headers: headers, body: body.map(json)) {
        (response) async throws in
        (response.status, response.body.readableBytes > 0 ? try object(response) : [:])
    }
}

func call(
    _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String, _ body: Any? = nil
) async throws -> (HTTPResponse.Status, [String: Any]) {
    try await call(client, method, uri, headers: bearer(token), body)
}
