import HTTPTypes
import RegentCore
import RegentEngine
import Synchronization

/// Who is calling, resolved once per HTTP request by ``AuthenticationMiddleware`` and read by the
/// generated handlers, which do not see the router's context.
struct Caller: Sendable {
    @TaskLocal static var current = Caller(session: nil, sourceAddress: nil, userAgent: nil)

    var session: Authenticated?
    /// The bearer secret as sent, kept for this request only (the MFA step echoes it back).
    var token: String?
    /// A code sent in `X-Regent-OTP` was verified for this request.
    var steppedUp = false
    var sourceAddress: IPAddress?
    var userAgent: String?
    /// The session cookie a handler wants set or cleared. The generated code percent-encodes
    /// header values, which would mangle `Set-Cookie`, so the middleware writes it, through the
    /// one builder that adds every protection (``AuthenticationMiddleware/sessionCookie(_:maxAge:secure:)``).
    let cookies = SessionCookieJar()

    /// The signed-in actor, or 401 `unauthenticated`; a session still owing its second factor gets
    /// 401 `mfa-required` everywhere but the MFA step and logout.
    /// An API token limited to checks gets 403 everywhere but the operations that pass `forChecks`.
    static func required(allowPendingMFA: Bool = false, forChecks: Bool = false) throws(APIProblem)
        -> (Authenticated, ActorContext)
    {
        let caller = current
        guard let session = caller.session else { throw APIProblem.unauthenticated }
        if session.access == .check && !forChecks {
            throw APIProblem(
                status: .forbidden, slug: "access-denied", title: "Not allowed",
                detail: "this API token may only check roles and issue role tokens")
        }
        if session.mfaPending && !allowPendingMFA {
            throw APIProblem(
                status: .unauthorized, slug: "mfa-required", title: "A fresh MFA verification is required",
                detail: "send your TOTP code to /v1/auth/mfa")
        }
        return (session, caller.actor(session))
    }

    func actor(_ session: Authenticated) -> ActorContext {
        ActorContext(
            principalId: session.principal.id, name: session.principal.name, sourceAddress: sourceAddress,
            userAgent: userAgent, mfaVerifiedAt: session.mfaVerifiedAt, mfaMethod: session.mfaMethod)
    }
}

final class SessionCookieJar: Sendable {
    private let value = Mutex<(token: String, maxAge: Int)?>(nil)

    /// Sets the session cookie to `token` for `maxAge` seconds.
    func setSession(_ token: String, maxAge: Int) { value.withLock { $0 = (token, maxAge) } }
    /// Clears the session cookie (sign-out).
    func clearSession() { setSession("", maxAge: 0) }
    var session: (token: String, maxAge: Int)? { value.withLock { $0 } }
}
