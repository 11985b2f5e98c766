import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RegentCore
import RegentEngine

/// Resolves the caller once per request (bearer token or session cookie; SCIM has its own) and makes it available to
/// the handlers. It never refuses on its own: each operation decides whether it needs a caller.
/// On the way out it writes the session cookie a handler asked for, through the one builder.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = RegentRequestContext
    static let cookieName = "regent_session"
    static let otpHeader = HTTPField.Name("X-Regent-OTP")!

    let engine: Engine
    let trustedProxies: [NetworkRange]
    /// `Secure` on the session cookie: the public URL is https.
    let secureCookies: Bool

    /// The one session cookie there is, for the API's sign-in and the portal's alike.
    static func sessionCookie(_ token: String, maxAge: Int, secure: Bool) -> String {
        "\(cookieName)=\(token); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // SCIM clients authenticate with SCIM tokens, which are not sessions (SCIMHandler).
        if request.uri.path.hasPrefix(SCIMHandler.prefix + "/") { return try await next(request, context) }
        var caller = Caller(
            session: nil, sourceAddress: nil, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) })
        caller.sourceAddress = Self.clientAddress(
            peer: context.remoteAddress?.ipAddress.flatMap(IPAddress.init),
            forwardedFor: request.headers[values: Self.forwardedFor],
            trusted: trustedProxies)
        if let token = Self.token(in: request) {
            if request.headers[.authorization] == nil { try Self.refuseCrossSite(request) }
            guard var session = try await engine.sessions.authenticate(token: token) else {
                throw APIProblem.unauthenticated
            }
            caller.token = token
            // Step-up: any call may carry a fresh TOTP code for itself.
            if let code = request.headers[Self.otpHeader] {
                let verifiedAt = try await engine.sessions.verifyTOTP(
                    code: code, session: session, by: caller.actor(session))
                session.mfaVerifiedAt = verifiedAt
                session.mfaMethod = "totp"
                session.mfaPending = false
                caller.steppedUp = true
            }
            caller.session = session
        }
        var response = try await Caller.$current.withValue(caller) { try await next(request, context) }
        if let cookie = caller.cookies.session {
            response.headers.append(
                HTTPField(
                    name: .setCookie,
                    value: Self.sessionCookie(cookie.token, maxAge: cookie.maxAge, secure: secureCookies)))
        }
        return response
    }

    /// The cookie is SameSite=Strict already; as defence in depth, a state-changing request that
    /// authenticates with the cookie must not come from another site (Origin and Fetch Metadata).
    static func refuseCrossSite(_ request: Request) throws(APIProblem) {
        guard ![.get, .head, .options].contains(request.method) else { return }
        let forbidden = APIProblem(
            status: .forbidden, slug: "csrf", title: "Cross-site request refused",
            detail: "a cookie-authenticated change must come from Regent's own pages; scripts use a bearer token")
        if let site = request.headers[Self.fetchSite], site != "same-origin", site != "none" { throw forbidden }
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            guard let originHost = origin.split(separator: "/").dropFirst().first, originHost == host else {
                throw forbidden
            }
        }
    }

    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The client's address: the peer, unless the peer is a trusted proxy; then the nearest address
    /// in `X-Forwarded-For` (read right to left) that is not itself a trusted proxy.
    static func clientAddress(peer: IPAddress?, forwardedFor: [String], trusted: [NetworkRange]) -> IPAddress? {
        func isTrusted(_ address: IPAddress) -> Bool { trusted.contains { $0.contains(address) } }
        guard let peer, isTrusted(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard let address = IPAddress(hop) else { return peer }
            if !isTrusted(address) { return address }
        }
        return peer
    }

    static func token(in request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
            return ""
        }
        return request.cookies[cookieName]?.value
    }
}
