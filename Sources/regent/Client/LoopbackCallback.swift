import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `regent login --sso`: the browser signs in through the organisation's provider and Regent
/// sends it back to this one-route listener on 127.0.0.1 with a code, which the CLI redeems with
/// the PKCE verifier only it holds (as `gh auth login` and `kubectl oidc-login` do).
enum LoopbackCallback {
    enum Failure: Error { case timedOut, ended }

    /// A PKCE verifier (32 random bytes, base64url) and its S256 challenge.
    static func verifierAndChallenge() -> (verifier: String, challenge: String) {
        var generator = SystemRandomNumberGenerator()
        let verifier = base64URL(Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        return (verifier, base64URL(Data(SHA256.hash(data: Data(verifier.utf8)))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Listens on a port the kernel picks, calls `listening` with it, and returns the first code
    /// brought back; gives up after `timeout`.
    static func receive(timeout: Duration, listening: @escaping @Sendable (Int) async throws -> Void) async throws
        -> String
    {
        let (codes, codeSink) = AsyncStream.makeStream(of: String.self)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let router = Router()
        router.get("/") { request, _ -> Response in
            guard let code = request.uri.queryParameters["code"], !code.isEmpty else {
                return Response(status: .badRequest)
            }
            codeSink.yield(String(code))
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(string: "Regent: the command line is signed in; close this window.\n")))
        }
        var logger = Logger(label: "regent.login")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        // The listener stops by graceful shutdown, so the browser gets its answer before the
        // connection closes.
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        async let running: Void = services.run()
        let outcome: Result<String, any Error>
        do {
            let code = try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    var port = ports.makeAsyncIterator()
                    guard let listeningOn = await port.next() else { throw Failure.ended }
                    try await listening(listeningOn)
                    var code = codes.makeAsyncIterator()
                    guard let received = await code.next() else { throw Failure.ended }
                    return received
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw Failure.timedOut
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw Failure.ended }
                return first
            }
            outcome = .success(code)
        } catch {
            outcome = .failure(error)
        }
        await services.triggerGracefulShutdown()
        try await running
        return try outcome.get()
    }
}
