public import Foundation
public import Logging
public import RegentAudit
public import RegentConnectors
public import RegentCore
public import RegentStore
import Synchronization

/// Who is acting and in what circumstances; the server builds it from the authenticated session.
public struct ActorContext: Sendable, Hashable {
    public var principalId: Principal.ID
    public var name: String
    public var sourceAddress: IPAddress?
    public var userAgent: String?
    /// When this actor last passed an MFA check, for policies that require a fresh one.
    public var mfaVerifiedAt: Date?
    /// How that MFA was met (`totp`, the provider's `amr:…` / `acr:…`), for the audit.
    public var mfaMethod: String?

    public init(
        principalId: Principal.ID, name: String, sourceAddress: IPAddress? = nil, userAgent: String? = nil,
        mfaVerifiedAt: Date? = nil, mfaMethod: String? = nil
    ) {
        self.principalId = principalId
        self.name = name
        self.sourceAddress = sourceAddress
        self.userAgent = userAgent
        self.mfaVerifiedAt = mfaVerifiedAt
        self.mfaMethod = mfaMethod
    }

    var auditActor: AuditActor {
        AuditActor(
            principalId: principalId, name: name, sourceAddress: sourceAddress?.description, userAgent: userAgent)
    }
}

/// Engine settings chosen at start.
public struct EngineConfiguration: Sendable {
    public var safeguards: Safeguards
    /// A signed checkpoint every this many audit events…
    public var checkpointEvery: Int64
    /// …and at least this often while events keep coming.
    public var checkpointInterval: TimeInterval
    /// How long a claimed job is leased before another runner may take it.
    public var jobLease: TimeInterval
    /// A job that failed this many times is kept as dead and reported instead of retried.
    public var maximumJobAttempts: Int
    /// The scheduler wakes at least this often even with nothing due.
    public var maximumIdle: TimeInterval
    /// A session unused this long ends…
    public var sessionIdleTimeout: TimeInterval
    /// …and every session ends this long after sign-in, used or not.
    public var sessionLifetime: TimeInterval
    /// Failed sign-ins tolerated per account (and ten times that per source address) within
    /// `lockoutWindow` before the account or address is locked for `lockoutDuration`.
    public var loginFailureLimit: Int
    public var lockoutWindow: TimeInterval
    public var lockoutDuration: TimeInterval
    /// A new token signing key is made when the current one is older than this.
    public var tokenKeyRotation: TimeInterval
    /// How long an authenticated session is trusted from memory before the database is read again;
    /// bounds how late a change made by another replica is seen.
    public var sessionCacheLifetime: TimeInterval
    /// How many jobs run at once (jobs of one assignment always run one after another).
    public var jobConcurrency: Int
    /// A revocation that failed `maximumJobAttempts` times is kept as failing and retried this often.
    public var failingRevocationRetry: TimeInterval
    /// The reconciler compares every target with the assignments this often.
    public var reconcileInterval: TimeInterval
    /// The longest time between two alert evaluations when nothing changes.
    public var alertInterval: TimeInterval
    /// Where notifications go; none by default.
    public var notifications: NotificationSettings
    /// An SSH certificate lasts until its activation ends, and never longer than this.
    public var sshCertificateLifetime: TimeInterval
    /// Refused reads of one operation by one actor within this long are audited as one event
    /// with their count, after the first, which is audited at once.
    public var refusalAuditWindow: TimeInterval
    /// On a shared database, memory is reloaded from it this often, whatever was heard from the
    /// other replicas.
    public var resyncInterval: TimeInterval
    /// A replica whose oldest due job became due longer ago than this is not ready.
    public var schedulerLagBound: TimeInterval
    /// Whether a disabled principal's eligible assignments are kept (usable again once enabled)
    /// or removed.
    public var disabledEligibility: AccessWithdrawal.DisabledEligibility
    /// Who may sign in with a password: everyone, or only the break-glass accounts (the names of
    /// the `breakGlassUsed` alert rule, whose sign-ins that rule reports) when people sign in
    /// through the organisation's provider.
    public var passwordSignIn: PasswordSignIn

    /// Whether an object a manifest owns may still be changed through the API and the portal
    /// (the next plan then shows the difference as drift) or only through the manifest.
    public var managedEdits: ManagedEdits

    public enum ManagedEdits: String, Sendable, CaseIterable {
        case refuse, allow
    }

    public enum PasswordSignIn: String, Sendable, CaseIterable {
        case everyone
        case breakGlass = "break-glass"
    }

    public init(
        safeguards: Safeguards = Safeguards(), checkpointEvery: Int64 = 1000, checkpointInterval: TimeInterval = 300,
        jobLease: TimeInterval = 15, maximumJobAttempts: Int = 12, maximumIdle: TimeInterval = 30,
        sessionIdleTimeout: TimeInterval = 1800, sessionLifetime: TimeInterval = 12 * 3600, loginFailureLimit: Int = 5,
        lockoutWindow: TimeInterval = 900, lockoutDuration: TimeInterval = 900,
        tokenKeyRotation: TimeInterval = 30 * 86_400, sessionCacheLifetime: TimeInterval = 5,
        jobConcurrency: Int = 8, failingRevocationRetry: TimeInterval = 60, reconcileInterval: TimeInterval = 30,
        alertInterval: TimeInterval = 60, notifications: NotificationSettings = NotificationSettings(),
        sshCertificateLifetime: TimeInterval = 8 * 3600, refusalAuditWindow: TimeInterval = 60,
        resyncInterval: TimeInterval = 60, schedulerLagBound: TimeInterval = 60,
        disabledEligibility: AccessWithdrawal.DisabledEligibility = .keep, passwordSignIn: PasswordSignIn = .everyone,
        managedEdits: ManagedEdits = .refuse
    ) {
        self.managedEdits = managedEdits
        self.safeguards = safeguards
        self.checkpointEvery = checkpointEvery
        self.checkpointInterval = checkpointInterval
        self.jobLease = jobLease
        self.maximumJobAttempts = maximumJobAttempts
        self.maximumIdle = maximumIdle
        self.sessionIdleTimeout = sessionIdleTimeout
        self.sessionLifetime = sessionLifetime
        self.loginFailureLimit = loginFailureLimit
        self.lockoutWindow = lockoutWindow
        self.lockoutDuration = lockoutDuration
        self.tokenKeyRotation = tokenKeyRotation
        self.sessionCacheLifetime = sessionCacheLifetime
        self.jobConcurrency = max(1, jobConcurrency)
        self.failingRevocationRetry = failingRevocationRetry
        self.reconcileInterval = reconcileInterval
        self.alertInterval = alertInterval
        self.notifications = notifications
        self.sshCertificateLifetime = sshCertificateLifetime
        self.refusalAuditWindow = refusalAuditWindow
        self.resyncInterval = resyncInterval
        self.schedulerLagBound = schedulerLagBound
        self.disabledEligibility = disabledEligibility
        self.passwordSignIn = passwordSignIn
    }
}

/// The context Regent's use cases share: the store, the audit chain, the connectors, the clock,
/// authorization and the caches. The use cases are its services, by area (``requests``,
/// ``directory``, ``sessions``, ``governance``, ``provisioning``, ``notifications``,
/// ``auditLog``): each reads the time once, decides with RegentCore, and commits the new state
/// with its audit events, notices and jobs in one transaction; the check index and the
/// background services learn of it after commit.
public final class Engine: Sendable {
    let store: any Store
    public let clock: any EngineClock
    public let configuration: EngineConfiguration
    public let index = CheckIndex()
    let signer: AuditSigner?
    let secrets: SecretBox
    let provisioners: ProvisionerRegistry
    let logger: Logger
    /// Signalled when a job is queued (the scheduler), a notification is queued (the notifier), and
    /// an event is audited (the governance monitor).
    let wakeup = Wakeup()
    let noticeWakeup = Wakeup()
    let auditWakeup = Wakeup()
    let started = StartGate()
    /// When this replica last compared every target with the assignments (readiness shows it).
    let reconciledAt = Mutex<Date?>(nil)
    let sessionCache: SessionCache
    let names = NameCache()
    let refusals: Mutex<RefusalDigest<RefusalContext>>
    /// What becomes of a failed job or delivery.
    var retryPolicy: RetryPolicy {
        RetryPolicy(
            attemptLimit: configuration.maximumJobAttempts, failingRetry: configuration.failingRevocationRetry)
    }
    /// Checks and makes password hashes; every password set goes through ``PasswordRule`` first.
    let passwords: any PasswordHashing

    public init(
        store: any Store, clock: any EngineClock, configuration: EngineConfiguration = EngineConfiguration(),
        signer: AuditSigner?, secrets: SecretBox, passwords: any PasswordHashing,
        provisioners: ProvisionerRegistry = ProvisionerRegistry(),
        logger: Logger = Logger(label: "regent.engine")
    ) {
        self.store = store
        self.clock = clock
        self.configuration = configuration
        self.signer = signer
        self.secrets = secrets
        self.passwords = passwords
        self.provisioners = provisioners
        self.logger = logger
        self.sessionCache = SessionCache(lifetime: configuration.sessionCacheLifetime)
        self.refusals = Mutex(RefusalDigest(window: configuration.refusalAuditWindow))
    }

    /// Refuses keys other than those the database was started with, loads the check index, writes
    /// the SSH revocation list, and catches up on the timers missed while Regent was down (expiries,
    /// scheduled starts, approval timeouts) before the caller starts accepting requests. The grants
    /// and revocations they leave run in the ``Scheduler`` while the server answers; the index says
    /// "no" for every ended assignment already.
    public func start() async throws {
        try await checkKeys()
        try await store.transaction { try await $0.releaseLeasesOfEndedRunners() }
        try await reloadIndex()
        try await sshAuthority?.writeRevocationList()
        _ = try await provisioning.runDueJobs(timersOnly: true)
        try await auditLog.checkpointIfDue(force: false)
        started.open()
    }

    /// Loads the check index from the database: every live assignment, the memberships, and the
    /// built-in roles' ids.
    ///
    /// The active assignments are read page by page on one snapshot into a replacement built aside,
    /// so checks are answered from the old index until the new one is whole; changes applied
    /// meanwhile are read again afterwards, so the older snapshot undoes none of them.
    func reloadIndex() async throws {
        index.beginReplacement()
        let (replacement, builtIns) = try await store.transaction(.read) { tx in
            var builtIns: [Role] = []
            for builtIn in Role.BuiltIn.allCases {
                if let role = try await tx.role(named: builtIn.rawValue) { builtIns.append(role) }
            }
            var replacement = CheckIndex.Replacement(graph: try await tx.membershipGraph())
            var after: Assignment.ID?
            while true {
                let page = try await tx.liveActiveAssignments(after: after, limit: Self.indexPage)
                replacement.add(page)
                guard page.count == Self.indexPage, let last = page.last else { break }
                after = last.id
            }
            return (replacement, builtIns)
        }
        let touched = index.replace(with: replacement)
        // Known by name so that permissions can be answered from the index while the database is away.
        for role in builtIns { names.remember(role) }
        guard !touched.assignments.isEmpty || touched.graph else { return }
        let (assignments, graph) = try await store.transaction(.read) { tx in
            var assignments: [Assignment] = []
            for id in touched.assignments {
                if let assignment = try await tx.assignment(id: id) { assignments.append(assignment) }
            }
            return (assignments, touched.graph ? try await tx.membershipGraph() : nil)
        }
        index.update(assignments)
        if let graph { index.setGraph(graph) }
    }

    /// Active assignments read per page while the index loads.
    static let indexPage = 5000

    /// Is the role active for the principal at the scope right now?
    public func check(principal: Principal.ID, role: Role.ID, scope: Scope) -> CheckIndex.Match? {
        index.check(principal: principal, role: role, scope: scope, at: clock.now())
    }
}
