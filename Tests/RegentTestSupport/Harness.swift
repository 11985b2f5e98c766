public import Crypto
public import Foundation
public import RegentAudit
public import RegentConnectors
public import RegentCore
public import RegentEngine
public import RegentStore

/// The one instant every test of Regent starts from, so every test reads the same calendar.
public let t0 = Date(timeIntervalSince1970: 1_800_000_000)

/// Passwords compared as they are: the engine's tests are about rules, not about bcrypt.
public struct PlainPasswords: PasswordHashing {
    public let decoyHash = "decoy"
    public init() {}
    public func verify(_ password: String, against hash: String) async throws -> Bool { password == hash }
    public func hash(_ password: String) async throws -> String { password }
}

/// A user CA for the harness: its ledger is the harness's store, its list written to `revocationList`.
public struct SSHAuthoritySetup: Sendable {
    public var key: Curve25519.Signing.PrivateKey
    public var revocationList: URL

    public init(key: Curve25519.Signing.PrivateKey = .init(), revocationList: URL) {
        self.key = key
        self.revocationList = revocationList
    }
}

/// An engine over a real SQLite store with a manual clock, bootstrapped with `admin`: what the
/// engine's tests drive directly and the server's tests build the application over.
public struct Harness: Sendable {
    public let clock: ManualClock
    public let store: SQLStore
    public let engine: Engine
    public let admin: ActorContext
    public let path: String?
    public let signer: AuditSigner
    public let secrets: SecretBox

    /// - Parameter starts: false when the application builder starts the engine (server tests).
    public static func make(
        path: String? = nil, at start: Date = t0, signer: AuditSigner = .generate(), secrets: SecretBox = .ephemeral(),
        passwords: any PasswordHashing = PlainPasswords(), administratorPassword: String = "harness-admin-password",
        provisioners: ProvisionerRegistry = ProvisionerRegistry(),
        configuration: EngineConfiguration = EngineConfiguration(checkpointEvery: 10), starts: Bool = true,
        runJobs: Bool = true, ssh: SSHAuthoritySetup? = nil
    ) async throws -> Harness {
        let clock = ManualClock(start)
        let store = try await SQLStore.openSQLite(path: path)
        var provisioners = provisioners
        if let ssh {
            provisioners.register(
                SSHCertificateAuthority(
                    key: ssh.key, ledger: StoreSSHCertificateLedger(store: store, clock: clock),
                    revocationListURL: ssh.revocationList))
        }
        let engine = Engine(
            store: store, clock: clock, configuration: configuration, signer: signer, secrets: secrets,
            passwords: passwords, provisioners: provisioners)
        do {
            _ = try await engine.bootstrap(administratorPassword: administratorPassword)
            if starts { try await engine.start() }
            // What the scheduler does first once the server runs: the grants and revocations left.
            if starts && runJobs { try await engine.provisioning.runDueJobs() }
        } catch {
            try? await store.close()
            throw error
        }
        let adminPrincipal = try await store.transaction { try await $0.principal(named: "admin") }!
        return Harness(
            clock: clock, store: store, engine: engine,
            admin: ActorContext(principalId: adminPrincipal.id, name: "admin", mfaVerifiedAt: start), path: path,
            signer: signer, secrets: secrets)
    }

    /// Closes this store and opens the same file again at `time`, as a restarted server would.
    public func restart(at time: Date) async throws -> Harness {
        try await store.close()
        return try await Harness.make(path: path, at: time, signer: signer, secrets: secrets)
    }

    public func close() async { try? await store.close() }

    public func user(_ name: String) async throws -> ActorContext {
        let principal = try await engine.directory.createPrincipal(
            kind: .user, name: name, displayName: nil, email: nil, password: nil, by: admin)
        return ActorContext(principalId: principal.id, name: name, mfaVerifiedAt: clock.now())
    }

    public func group(_ name: String, members: [ActorContext]) async throws -> Principal.ID {
        let group = try await engine.directory.createPrincipal(
            kind: .group, name: name, displayName: nil, email: nil, password: nil, by: admin)
        for member in members { try await engine.directory.addMember(member.principalId, to: group.id, by: admin) }
        return group.id
    }

    public func role(_ name: String, _ configure: (inout Policy) -> Void = { _ in }) async throws -> Role {
        let role = try await engine.directory.createRole(name: name, description: "", entitlements: [], by: admin)
        var policy = Policy()
        configure(&policy)
        _ = try await engine.directory.setPolicy(policy, role: role.id, scope: .root, by: admin)
        return role
    }

    @discardableResult
    public func assign(
        _ principal: Principal.ID, _ role: Role, kind: Assignment.Kind = .eligible, scope: Scope = .root,
        duration: ISODuration? = nil
    ) async throws -> Request {
        try await engine.requests.submit(
            RequestDraft(
                action: .adminAssign, requesterId: admin.principalId, principalId: principal, roleId: role.id,
                scope: scope,
                kind: kind, justification: "needed", duration: duration),
            by: admin)
    }

    public func activate(
        _ actor: ActorContext, _ role: Role, duration: ISODuration = .minutes(30), scope: Scope = .root
    )
        async throws -> Request
    {
        var fresh = actor
        fresh.mfaVerifiedAt = clock.now()
        return try await engine.requests.submit(
            RequestDraft(
                action: .selfActivate, requesterId: actor.principalId, principalId: actor.principalId, roleId: role.id,
                scope: scope, kind: .active, justification: "INC-42", duration: duration),
            by: fresh)
    }

    public func auditEvents() async throws -> [AuditEvent] {
        try await store.transaction { try await $0.auditEvents(after: 0, limit: 100_000) }
    }

    public func verifyChain() async throws -> ChainVerifier.Report {
        try await store.verifyAuditChain(trustedKey: signer.publicKeyBase64, batchSize: 7)
    }
}

/// Runs `body` with a fresh in-memory harness and always closes its store.
public func withHarness(
    provisioners: ProvisionerRegistry = ProvisionerRegistry(),
    configuration: EngineConfiguration = EngineConfiguration(checkpointEvery: 10),
    _ body: (Harness) async throws -> Void
) async throws {
    let harness = try await Harness.make(provisioners: provisioners, configuration: configuration)
    do {
        try await body(harness)
        await harness.close()
    } catch {
        await harness.close()
        throw error
    }
}
