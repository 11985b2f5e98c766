public import Foundation
import RegentAudit
public import RegentConnectors
public import RegentCore
import RegentStore

/// How people sign in through one OpenID provider.
public struct ProviderSignInSettings: Sendable {
    public var rules: ProviderIdentityRules
    /// Make a user on first sign-in; off: only users the directory provisioned (SCIM, linked by
    /// `externalId` = `sub`) or linked before may sign in.
    public var createUsers: Bool
    /// Regent's callback, registered at the provider.
    public var redirectURI: String

    public init(rules: ProviderIdentityRules, createUsers: Bool = true, redirectURI: String) {
        self.rules = rules
        self.createUsers = createUsers
        self.redirectURI = redirectURI
    }
}

/// Sign-in through the organisation's OpenID provider (Authorization Code with PKCE, `state`
/// and `nonce`). A person is recognised by the provider's (issuer, subject), never by a name or an
/// address someone could register there; the first sign-in links a user the directory provisioned
/// (its SCIM `externalId` is the subject) or, when allowed, makes one. The groups claim fills the
/// Regent groups the provider owns (those under its prefix), so eligibility given to such a group
/// follows the directory. Every refusal is audited with its reason.
public struct ProviderSignIn: Sendable {
    let engine: Engine
    public let provider: OpenIDProvider
    public let settings: ProviderSignInSettings

    public init(engine: Engine, provider: OpenIDProvider, settings: ProviderSignInSettings) {
        self.engine = engine
        self.provider = provider
        self.settings = settings
    }

    public var name: String { provider.configuration.name }
    static let pendingLifetime: TimeInterval = 600

    /// Where to send the person to sign in; `stepUp` asks the provider to authenticate afresh
    /// with MFA (`prompt=login`, `max_age=0`, the configured `acr_values`).
    public func begin(returnTo: String, stepUp: Bool = false) async throws -> URL {
        let now = engine.clock.now()
        let state = Engine.newToken()
        let pending = PendingProviderSignIn(
            stateHash: Engine.hash(state), provider: name, nonce: Engine.newToken(), verifier: Engine.newToken(),
            returnTo: Self.isSafeReturn(returnTo) ? returnTo : "/",
            expiresAt: now + Self.pendingLifetime)
        try await engine.store.transaction { tx in
            try await tx.deleteExpiredProviderSignIns(before: now)
            try await tx.insertProviderSignIn(pending)
        }
        var extra: [String: String] = [:]
        if stepUp {
            extra = ["prompt": "login", "max_age": "0"]
            if !settings.rules.mfaContexts.isEmpty {
                extra["acr_values"] = settings.rules.mfaContexts.sorted().joined(separator: " ")
            }
        }
        return try await provider.authorizationURL(
            state: state, nonce: pending.nonce, codeVerifier: pending.verifier, redirectURI: settings.redirectURI,
            extra: extra)
    }

    /// A page of Regent's own, or a waiting CLI (`cli:<port>:<challenge>`); never another site.
    static func isSafeReturn(_ returnTo: String) -> Bool {
        (returnTo.hasPrefix("/") && !returnTo.hasPrefix("//") && !returnTo.contains("\\"))
            || SignInHandoff.cliReturn(returnTo) != nil
    }

    /// What a finished sign-in leads to: a session for the browser, or, for `regent login --sso`,
    /// the CLI's loopback address with a code it redeems for a session of its own.
    public enum Completion: Sendable {
        case session(SignedIn, returnTo: String)
        case handoff(URL)
    }

    /// The provider sent the person back with `code` and `state` (or an `error`).
    public func complete(
        code: String?, state: String?, error: String?, sourceAddress: IPAddress?, userAgent: String?
    ) async throws -> Completion {
        let now = engine.clock.now()
        let actor = actor(sourceAddress: sourceAddress, userAgent: userAgent)
        return try await auditingRefusals(by: actor, now: now) {
            guard let state, !state.isEmpty, state.count < 256 else { throw Self.refusal("the sign-in has no state") }
            let pending = try await engine.store.transaction {
                try await $0.takeProviderSignIn(stateHash: Engine.hash(state))
            }
            guard let pending, pending.provider == name, !pending.isDevice else {
                throw Self.refusal("the sign-in's state is unknown or was used already")
            }
            guard pending.expiresAt > now else { throw Self.refusal("the sign-in took longer than 10 minutes") }
            if let error { throw Self.refusal("the provider answered \(error.prefix(64))") }
            guard let code, !code.isEmpty, code.count < 2048 else { throw Self.refusal("the provider sent no code") }
            let identity = try await asRefusal {
                let token = try await provider.exchange(
                    code: code, codeVerifier: pending.verifier, redirectURI: settings.redirectURI)
                return try await verifiedIdentity(in: token, nonce: pending.nonce, now: now)
            }
            if let cli = SignInHandoff.cliReturn(pending.returnTo) {
                let code = try await handOff(identity, to: cli.challenge, actor: actor, now: now)
                guard let url = URL(string: "http://127.0.0.1:\(cli.port)/?code=\(code)") else {
                    throw Self.refusal("the CLI's address is not a URL")
                }
                return .handoff(url)
            }
            let signedIn = try await signIn(
                identity, method: "oidc:\(name)", actor: actor, sourceAddress: sourceAddress, userAgent: userAgent,
                now: now)
            return .session(signedIn, returnTo: pending.returnTo)
        }
    }

    /// The provider as the actor of what a sign-in through it does.
    func actor(sourceAddress: IPAddress?, userAgent: String?) -> AuditActor {
        AuditActor(
            principalId: nil, name: "oidc:\(name)", sourceAddress: sourceAddress?.description, userAgent: userAgent)
    }

    /// Runs a step of a sign-in; every refusal is audited: a bad token, a name Regent cannot use,
    /// a lost administrator.
    func auditingRefusals<Result: Sendable>(
        by actor: AuditActor, now: Date, _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch let refusal as RegentError where refusal.code != .unavailable {
            try await engine.store.transaction { tx in
                try await engine.audit(
                    AuditNote(.authProviderLoginRefused, .denied, reason: refusal.reason, details: ["provider": name]),
                    in: tx, context: Engine.AuditContext(actor: actor, subject: AuditSubject(), correlationId: nil),
                    now: now)
            }
            throw refusal
        }
    }

    /// What the provider said went wrong, as a refusal of the sign-in.
    func asRefusal<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let failure as ExternalFailure {
            throw Self.refusal(failure.reason)
        }
    }

    /// Who a token from the provider's token endpoint says signed in, once its signature and
    /// every claim hold.
    func verifiedIdentity(in token: String, nonce: String?, now: Date) async throws -> ProviderIdentity {
        let claims = try await provider.verifiedClaims(of: token)
        return try ProviderIdentity.verify(claims, rules: settings.rules, nonce: nonce, now: now)
    }

    static func refusal(_ reason: String) -> RegentError { RegentError(.unauthenticated, reason, field: "signIn") }

    func signIn(
        _ identity: ProviderIdentity, method: String, actor: AuditActor, sourceAddress: IPAddress?,
        userAgent: String?, now: Date
    ) async throws -> SignedIn {
        let (signedIn, graph, applied) = try await engine.store.transaction {
            tx -> (SignedIn, MembershipGraph?, Engine.Applied) in
            let principal = try await resolve(identity, actor: actor, in: tx, now: now)
            guard principal.kind == .user, principal.isEnabled else { throw Self.refusal("the account is disabled") }
            let signedIn = try await engine.sessions.openSession(
                for: principal, mfaVerifiedAt: identity.mfaVerifiedAt, mfaMethod: identity.mfaMethod,
                details: ["method": method, "subject": identity.subject], sourceAddress: sourceAddress,
                userAgent: userAgent, in: tx, now: now)
            let (graph, applied) = try await syncGroups(of: principal, identity, actor: actor, in: tx, now: now)
            return (signedIn, graph, applied)
        }
        if let graph { engine.index.updateGraph(graph) }
        engine.afterCommit(applied)
        return signedIn
    }

    /// For `regent login --sso`: the person is resolved and their groups synced now; the session
    /// is made when the CLI redeems the returned code (``SessionService/redeemSignIn(code:verifier:sourceAddress:userAgent:)``).
    private func handOff(_ identity: ProviderIdentity, to challenge: String, actor: AuditActor, now: Date) async throws
        -> String
    {
        let code = Engine.newToken()
        let (graph, applied) = try await engine.store.transaction { tx -> (MembershipGraph?, Engine.Applied) in
            let principal = try await resolve(identity, actor: actor, in: tx, now: now)
            guard principal.kind == .user, principal.isEnabled else { throw Self.refusal("the account is disabled") }
            try await tx.insertSignInHandoff(
                SignInHandoff(
                    codeHash: Engine.hash(code), challenge: challenge, principalId: principal.id,
                    method: "oidc:\(name)",
                    mfaVerifiedAt: identity.mfaVerifiedAt, mfaMethod: identity.mfaMethod, expiresAt: now + 60))
            return try await syncGroups(of: principal, identity, actor: actor, in: tx, now: now)
        }
        if let graph { engine.index.updateGraph(graph) }
        engine.afterCommit(applied)
        return code
    }

    /// The principal the identity is: linked before, provisioned by the directory with this
    /// subject as its external id, or made now. A name already held by another principal is a
    /// refusal: taking it would hand a stranger that principal's access.
    private func resolve(_ identity: ProviderIdentity, actor: AuditActor, in tx: StoreTransaction, now: Date)
        async throws -> Principal
    {
        if let linked = try await tx.linkedPrincipal(issuer: identity.issuer, subject: identity.subject),
            let principal = try await tx.principal(id: linked)
        {
            return principal
        }
        let context = { (principal: Principal) in
            Engine.AuditContext(actor: actor, subject: AuditSubject(principalId: principal.id), correlationId: nil)
        }
        if let (principal, _) = try await tx.directoryPrincipals(kind: .user, externalId: identity.subject).first {
            try await tx.linkIdentity(issuer: identity.issuer, subject: identity.subject, to: principal.id, at: now)
            try await engine.audit(
                AuditNote(.principalIdentityLinked, details: ["issuer": identity.issuer, "subject": identity.subject]),
                in: tx, context: context(principal), now: now)
            return principal
        }
        guard settings.createUsers else { throw Self.refusal("no Regent account is linked to this person") }
        let name = try DirectoryName.regentName(for: identity.name, field: settings.rules.nameClaim.rawValue)
        guard try await tx.principal(named: name) == nil else {
            throw Self.refusal("the name \(name) belongs to another account; an administrator must link it")
        }
        let principal = try Principal(
            id: Principal.ID(UUID()), kind: .user, name: name, displayName: identity.displayName ?? identity.name,
            email: identity.email, createdAt: now)
        try await tx.insertPrincipal(principal, passwordHash: nil)
        try await tx.linkIdentity(issuer: identity.issuer, subject: identity.subject, to: principal.id, at: now)
        try await engine.audit(
            AuditNote(
                .principalCreated,
                details: ["kind": "user", "name": name, "issuer": identity.issuer, "subject": identity.subject]),
            in: tx, context: context(principal), now: now)
        return principal
    }

    /// Makes the person's memberships of the provider's groups (those under its prefix) what the
    /// groups claim says; leaving one withdraws what it gave at once.
    private func syncGroups(
        of principal: Principal, _ identity: ProviderIdentity, actor: AuditActor, in tx: StoreTransaction, now: Date
    ) async throws -> (MembershipGraph?, Engine.Applied) {
        let rules = settings.rules
        guard rules.groupsClaim != nil else { return (nil, Engine.Applied()) }
        var graph = try await tx.membershipGraph()
        let wanted = identity.regentGroups(rules: rules)
        let current = graph.parents[principal.id] ?? []
        var changed = false
        for groupName in wanted.sorted() {
            guard let group = try await tx.principal(named: groupName), group.kind == .group,
                !current.contains(group.id)
            else { continue }
            try await tx.addMember(principal.id, to: group.id)
            graph.insert(member: principal.id, into: group.id)
            changed = true
            try await engine.audit(
                AuditNote(.groupMemberAdded, details: ["memberId": principal.id.description]), in: tx,
                context: Engine.AuditContext(
                    actor: actor, subject: AuditSubject(principalId: group.id), correlationId: nil),
                now: now)
        }
        for groupId in current.sorted() {
            guard let group = try await tx.principal(id: groupId), rules.ownsGroup(named: group.name),
                !wanted.contains(group.name)
            else { continue }
            try await engine.requireAdministratorCoverage(
                in: tx, now: now, after: { $0.remove(member: principal.id, from: groupId) })
            try await tx.removeMember(principal.id, from: groupId)
            graph.remove(member: principal.id, from: groupId)
            changed = true
            try await engine.audit(
                AuditNote(.groupMemberRemoved, details: ["memberId": principal.id.description]), in: tx,
                context: Engine.AuditContext(
                    actor: actor, subject: AuditSubject(principalId: groupId), correlationId: nil),
                now: now)
        }
        guard changed else { return (nil, Engine.Applied()) }
        let applied = try await engine.withdrawAccess(
            of: [principal.id], graph: graph, because: "no longer in the provider's group", actor: actor, in: tx,
            now: now)
        return (graph, applied)
    }
}

extension SessionService {
    /// `regent login --sso`: the CLI redeems the code its browser brought back, with the PKCE
    /// verifier only it holds, for a session of its own; once, within a minute.
    public func redeemSignIn(code: String, verifier: String, sourceAddress: IPAddress?, userAgent: String?)
        async throws -> SignedIn
    {
        let now = engine.clock.now()
        let refusal = RegentError(.unauthenticated, "the sign-in code is unknown, used or expired", field: "code")
        guard !code.isEmpty, code.count < 256, (43...128).contains(verifier.count) else { throw refusal }
        return try await engine.store.transaction { tx in
            guard let handoff = try await tx.takeSignInHandoff(codeHash: Engine.hash(code)), handoff.expiresAt > now,
                OpenIDProvider.challenge(for: verifier) == handoff.challenge,
                let principal = try await tx.principal(id: handoff.principalId), principal.isEnabled
            else { throw refusal }
            return try await openSession(
                for: principal, mfaVerifiedAt: handoff.mfaVerifiedAt, mfaMethod: handoff.mfaMethod,
                details: ["method": handoff.method + " (cli)"], sourceAddress: sourceAddress, userAgent: userAgent,
                in: tx, now: now)
        }
    }
}
