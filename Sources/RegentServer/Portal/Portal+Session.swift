import Foundation
import Hummingbird
import RegentCore
import RegentEngine

/// Signing in (password, then TOTP when enrolled) and out.
extension Portal {
    func registerSession(on router: Router<RegentRequestContext>) {
        router.get("/login") { _, _ in
            let pending = Caller.current.session?.mfaPending == true
            if Caller.current.session != nil && !pending { return Self.redirect("/roles") }
            return try await page("login", title: pending ? "Second factor" : "Sign in", ["totp": pending])
        }
        router.post("/login") { request, _ in try await signIn(request) }
        router.post("/login/totp") { request, _ in try await verifyCode(request) }
        router.post("/logout") { request, _ in
            if let session = Caller.current.session {
                _ = try await form(request, session: session)
                try await engine.sessions.signOut(session, by: Caller.current.actor(session))
            }
            Caller.current.cookies.clearSession()
            return Self.redirect("/login")
        }
    }

    /// No session yet, so no CSRF token: the cookie is SameSite=Strict and the request must come
    /// from Regent's own page (Origin / Fetch Metadata), as for every cookie-authenticated change.
    private func signIn(_ request: Request) async throws -> Response {
        try AuthenticationMiddleware.refuseCrossSite(request)
        let fields = try await form(request, session: nil)
        let caller = Caller.current
        do {
            let signedIn = try await engine.sessions.signIn(
                username: fields["username"] ?? "", password: fields["password"] ?? "",
                sourceAddress: caller.sourceAddress, userAgent: caller.userAgent)
            caller.cookies.setSession(
                signedIn.token, maxAge: Int(signedIn.expiresAt.timeIntervalSince(engine.clock.now())))
            guard signedIn.mfaRequired, let session = try await engine.sessions.authenticate(token: signedIn.token)
            else {
                return Self.redirect("/roles")
            }
            return try await Caller.$current.withValue(Caller(session: session, sourceAddress: nil, userAgent: nil)) {
                try await page("login", title: "Second factor", ["totp": true])
            }
        } catch let error as RegentError {
            return try await page(
                "login", title: "Sign in", ["error": error.reason, "username": fields["username"] ?? ""],
                status: error.pageStatus)
        }
    }

    private func verifyCode(_ request: Request) async throws -> Response {
        guard let session = Caller.current.session else { return Self.redirect("/login") }
        let fields = try await form(request, session: session)
        do {
            _ = try await engine.sessions.verifyTOTP(
                code: fields["code"] ?? "", session: session, by: Caller.current.actor(session))
            return Self.redirect("/roles")
        } catch let error as RegentError {
            return try await page(
                "login", title: "Second factor", ["totp": true, "error": error.reason], status: error.pageStatus)
        }
    }
}
