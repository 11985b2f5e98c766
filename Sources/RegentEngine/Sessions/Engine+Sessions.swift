import Crypto
public import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Checks a password against a stored hash (bcrypt in the server); kept behind a protocol so the
/// engine knows nothing of the hashing library.
public protocol PasswordVerifier: Sendable {
    func verify(_ password: String, against hash: String) async throws -> Bool
    /// A valid hash of no one's password, checked when the user does not exist so that a wrong
    /// name and a wrong password take the same time.
    var decoyHash: String { get }
}

/// Makes the stored hash of a new password (bcrypt in the server), so that the engine can hold
/// every password to ``PasswordRule`` before anything is stored.
public protocol PasswordHashing: PasswordVerifier {
    func hash(_ password: String) async throws -> String
}

/// A new session: the bearer secret is returned once and stored only as its hash.
public struct SignedIn: Sendable {
    public var token: String
    public var principal: Principal
    public var expiresAt: Date
    /// The user has TOTP: the session can do nothing but the MFA step until a code is verified.
    public var mfaRequired: Bool
}

/// Who a bearer secret belongs to, after every check passed.
public struct Authenticated: Sendable, Hashable {
    public var principal: Principal
    public var tokenHash: String
    public var mfaVerifiedAt: Date?
    /// How that MFA was met (`totp`, `amr:…`, `acr:…`).
    public var mfaMethod: String?
    public var expiresAt: Date
    /// Signed in with a password but the enrolled second factor is not verified yet.
    public var mfaPending: Bool
    /// An API token rather than a sign-in, and what it may do.
    public var isAPIToken = false
    public var access: TokenAccess = .full
}

extension Engine {

    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "rgt_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }
}

extension SessionService {
    /// Signs a user in with a password. Every attempt is audited; a failure says only that the
    /// name or password is wrong.
    public func signIn(username: String, password: String, sourceAddress: IPAddress?, userAgent: String?)
        async throws -> SignedIn
    {
        let now = engine.clock.now()
        let actorName = String(username.prefix(128))
        let actor = AuditActor(
            principalId: nil, name: actorName, sourceAddress: sourceAddress?.description, userAgent: userAgent)
        let throttle = AttemptThrottle(.password, account: actorName.lowercased(), sourceAddress: sourceAddress)
        try await engine.refuseIfLocked(throttle, actor: actor, subject: nil, now: now)
        try await refuseUnlessPasswordsAllowed(for: actorName.lowercased(), actor: actor, now: now)
        let (principal, hash) = try await engine.store.transaction { tx -> (Principal?, String?) in
            guard let principal = try await tx.principal(named: username.lowercased()), principal.kind == .user else {
                return (nil, nil)
            }
            return (principal, try await tx.passwordHash(of: principal.id))
        }
        let matches =
            try await engine.passwords.verify(password, against: hash ?? engine.passwords.decoyHash) && hash != nil
        guard let principal, matches, principal.isEnabled else {
            let reason =
                principal?.isEnabled == false && matches ? "the account is disabled" : "invalid username or password"
            try await engine.recordFailure(throttle, actor: actor, subject: principal?.id, reason: reason, now: now)
            throw RegentError(.unauthenticated, "invalid username or password", field: "credentials")
        }
        return try await engine.store.transaction { tx in
            try await tx.clearLoginFailures(throttle.accountKey)
            return try await openSession(
                for: principal, mfaVerifiedAt: nil, mfaMethod: nil, details: [:], sourceAddress: sourceAddress,
                userAgent: userAgent, in: tx, now: now)
        }
    }

    /// A new sign-in session for `principal`, audited as `auth.login.succeeded` with `details`
    /// and how MFA was met; it asks for Regent's TOTP when the user has one and no MFA was met.
    func openSession(
        for principal: Principal, mfaVerifiedAt: Date?, mfaMethod: String?, details: [String: String],
        sourceAddress: IPAddress?, userAgent: String?, in tx: StoreTransaction, now: Date
    ) async throws -> SignedIn {
        let token = Engine.newToken()
        var session = StoredSession(
            tokenHash: Engine.hash(token), principalId: principal.id, createdAt: now, lastSeenAt: now,
            expiresAt: now + engine.configuration.sessionLifetime, sourceAddress: sourceAddress?.description)
        session.mfaVerifiedAt = mfaVerifiedAt
        session.mfaMethod = mfaMethod
        try await tx.insertSession(session)
        var details = details
        if mfaVerifiedAt != nil { details["mfa"] = mfaMethod ?? "totp" }
        try await engine.audit(
            AuditNote(.authLoginSucceeded, details: details), in: tx,
            context: Engine.AuditContext(
                actor: AuditActor(
                    principalId: principal.id, name: principal.name, sourceAddress: sourceAddress?.description,
                    userAgent: userAgent),
                subject: AuditSubject(principalId: principal.id), correlationId: nil),
            now: now)
        let enrolled = try await tx.totpEnrollment(of: principal.id)?.confirmedAt != nil
        return SignedIn(
            token: token, principal: principal, expiresAt: session.expiresAt,
            mfaRequired: enrolled && mfaVerifiedAt == nil)
    }

    /// With `passwordSignIn` set to break-glass, a name that is not a break-glass account is
    /// refused before its password is looked at, so the answer says nothing about the password.
    private func refuseUnlessPasswordsAllowed(for name: String, actor: AuditActor, now: Date) async throws {
        guard engine.configuration.passwordSignIn == .breakGlass else { return }
        let allowed = try await engine.store.transaction(.read) { tx in
            (try await tx.alertSettings()[.breakGlassUsed] ?? .defaults(for: .breakGlassUsed)).names.contains(name)
        }
        guard !allowed else { return }
        let reason = "password sign-in is for break-glass accounts only; sign in with your organisation's provider"
        try await engine.store.transaction { tx in
            try await engine.audit(
                AuditNote(.authLoginFailed, .denied, reason: reason), in: tx,
                context: Engine.AuditContext(actor: actor, subject: AuditSubject(), correlationId: nil), now: now)
        }
        throw RegentError(.unauthenticated, reason, field: "credentials")
    }

    /// Resolves a bearer secret to its principal, or nil when it is unknown, revoked, expired, idle
    /// too long, or its principal is disabled.
    public func authenticate(token: String) async throws -> Authenticated? {
        guard !token.isEmpty, token.count <= 256 else { return nil }
        let now = engine.clock.now()
        let tokenHash = Engine.hash(token)
        let idle = engine.configuration.sessionIdleTimeout
        // Served from memory while the idle timeout holds and last-seen needs no write (once a minute).
        if let cached = engine.sessionCache.lookup(tokenHash, now: now),
            cached.session.isAPIToken || now.timeIntervalSince(cached.lastSeenWritten) < 60
        {
            return cached.session
        }
        let read: (session: Authenticated, lastSeen: Date)?
        do {
            read = try await engine.store.transaction(.read) { tx -> (Authenticated, Date)? in
                guard let session = try await tx.session(tokenHash: tokenHash), session.revokedAt == nil,
                    now < session.expiresAt,
                    session.kind == .token || now.timeIntervalSince(session.lastSeenAt) < idle,
                    let principal = try await tx.principal(id: session.principalId), principal.isEnabled
                else { return nil }
                let enrolled = try await tx.totpEnrollment(of: principal.id)?.confirmedAt != nil
                let authenticated = Authenticated(
                    principal: principal, tokenHash: tokenHash, mfaVerifiedAt: session.mfaVerifiedAt,
                    mfaMethod: session.mfaMethod,
                    expiresAt: session.expiresAt,
                    mfaPending: session.kind == .session && enrolled && session.mfaVerifiedAt == nil,
                    isAPIToken: session.kind == .token, access: session.access)
                return (authenticated, session.lastSeenAt)
            }
        } catch let error as RegentError where error.code == .unavailable {
            // While the database does not answer, a session this replica knew stays usable until
            // its own end or idle timeout (nothing can revoke it meanwhile): checks keep being
            // answered from the index.
            if let known = engine.sessionCache.lookupKnown(tokenHash, now: now, idle: idle) { return known }
            throw error
        }
        // Last-seen is written at most once a minute, in a change of its own; reading never waits.
        var lastSeenWritten = read?.lastSeen ?? now
        if let read, !read.session.isAPIToken, now.timeIntervalSince(read.lastSeen) >= 60 {
            try await engine.store.transaction { try await $0.touchSession(tokenHash: tokenHash, at: now) }
            lastSeenWritten = now
        }
        let found = read?.session
        if let found {
            engine.sessionCache.store(found, lastSeenWritten: lastSeenWritten, now: now)
        } else {
            engine.sessionCache.invalidate(tokenHash)
        }
        return found
    }

    /// Ends the session; audited.
    public func signOut(_ session: Authenticated, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        engine.sessionCache.invalidate(session.tokenHash)
        try await engine.store.transaction { tx in
            try await tx.revokeSession(tokenHash: session.tokenHash, at: now)
            try await engine.audit(
                AuditNote(.authLogout), in: tx,
                context: Engine.AuditContext(
                    actor: actor.auditActor, subject: AuditSubject(principalId: actor.principalId), correlationId: nil),
                now: now)
        }
    }
}
