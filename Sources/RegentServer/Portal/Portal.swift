import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import RegentCore
import RegentEngine

/// The web portal at `/`: server-rendered pages over the same engine and the same authorization
/// as the API (every action is an engine use case). Pages work without JavaScript; the one script
/// only counts down. Every output goes through Mustache's escaping; every form carries a CSRF
/// token bound to the session; responses forbid framing, inline script and caching.
struct Portal: Sendable {
    let engine: Engine
    /// The organisation's OpenID providers, each a "Sign in with …" link.
    let providers: [ProviderSignIn]
    let library: MustacheLibrary
    let csrfKey: SymmetricKey
    let staticFiles: URL

    /// Reads the templates (`Portal/Templates/*.mustache`, each named by its file) and finds the
    /// static files among the target's resources.
    static func load(engine: Engine, providers: [ProviderSignIn] = []) throws -> Portal {
        guard let templates = Bundle.module.url(forResource: "Templates", withExtension: nil),
            let staticFiles = Bundle.module.url(forResource: "Static", withExtension: nil)
        else { throw PortalError.missingResources }
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(atPath: templates.path)
        where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        return Portal(
            engine: engine, providers: providers, library: library, csrfKey: SymmetricKey(size: .bits256),
            staticFiles: staticFiles)
    }

    enum PortalError: Error { case missingResources }

    func register(on router: Router<RegentRequestContext>) {
        router.get("/") { _, _ in Caller.current.session == nil ? Self.redirect("/login") : Self.redirect("/roles") }
        router.get("/static/{file}") { _, context in try self.staticFile(context.parameters.get("file") ?? "") }
        registerSession(on: router)
        registerProviderSignIn(on: router)
        registerSelfService(on: router)
        registerAdministration(on: router)
        registerMFA(on: router)
        registerAlerts(on: router)
        registerSettings(on: router)
        registerExports(on: router)
        registerReviews(on: router)
    }

    // MARK: Rendering

    /// A page, with the signed-in user's navigation and CSRF token merged into `values`.
    func page(
        _ template: String, title: String, _ values: [String: Any] = [:], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var values = values
        values["title"] = title
        values["providers"] = providers.map { ["name": $0.name] }
        if let session = Caller.current.session, !session.mfaPending {
            let actor = Caller.current.actor(session)
            values["user"] = true
            values["name"] = session.principal.name
            values["admin"] = try await engine.permits(actor, .manageAssignments)
            values["auditor"] = try await engine.permits(actor, .readAudit)
            values["reader"] = try await engine.permits(actor, .readEverything)
        }
        if let session = Caller.current.session { values["csrf"] = csrfToken(for: session) }
        let html = library.render(values, withTemplate: template) ?? "template \(template) is missing"
        return Response(
            status: status, headers: Self.securityHeaders(contentType: "text/html; charset=utf-8"),
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that could not be shown (not allowed, storage unavailable, …): the refusal on the
    /// requests page, with the status of the one error mapping.
    func refusalPage(_ error: RegentError, title: String) async throws -> Response {
        try await page("requests", title: title, ["error": error.reason], status: error.pageStatus)
    }

    static func securityHeaders(contentType: String) -> HTTPFields {
        var headers: HTTPFields = [.contentType: contentType]
        headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return headers
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders(contentType: "text/plain; charset=utf-8")
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    private func staticFile(_ name: String) throws -> Response {
        let types = ["portal.css": "text/css; charset=utf-8", "portal.js": "text/javascript; charset=utf-8"]
        guard let type = types[name],
            let data = FileManager.default.contents(atPath: staticFiles.appendingPathComponent(name).path)
        else { throw HTTPError(.notFound) }
        var headers = Self.securityHeaders(contentType: type)
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Sessions and forms

    /// The signed-in user, or nil: the page then sends them to sign in.
    func signedIn() -> (Authenticated, ActorContext)? {
        guard let session = Caller.current.session, !session.mfaPending, !session.isAPIToken else { return nil }
        return (session, Caller.current.actor(session))
    }

    /// HMAC of the session's token hash: the same for every form of a session, useless without it.
    func csrfToken(for session: Authenticated) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(session.tokenHash.utf8), using: csrfKey)
            .map { String(format: "%02x", $0) }.joined()
    }

    /// The posted form of a signed-in user whose CSRF token matches; refuses anything else.
    func form(_ request: Request, session: Authenticated?) async throws -> FormFields {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let fields = FormFields(String(buffer: buffer))
        if let session {
            let expected = Data(csrfToken(for: session).utf8)
            guard let sent = fields["_csrf"], expected.count == sent.utf8.count,
                zip(expected, Data(sent.utf8)).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
            else { throw HTTPError(.forbidden, message: "the form's CSRF token is missing or wrong; reload the page") }
        }
        return fields
    }

}

/// `application/x-www-form-urlencoded` fields; a name may repeat (checkboxes).
struct FormFields {
    private var values: [String: [String]] = [:]

    init(_ body: String) {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let name = parts.first, !name.isEmpty else { continue }
            values[name, default: []].append(parts.count > 1 ? parts[1] : "")
        }
    }

    subscript(name: String) -> String? { values[name]?.first }
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The field trimmed, nil when empty.
    func text(_ name: String) -> String? {
        let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return value.isEmpty ? nil : value
    }
}

extension RegentError {
    /// The status a portal page answers this error with: the API's, from the one mapping
    /// (``APIProblem``), so a refusal reads the same to a browser, a script and a load balancer.
    var pageStatus: HTTPResponse.Status { APIProblem(self).status }
}
