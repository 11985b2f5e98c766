import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Security alerts: each enabled rule is evaluated over the store on every relevant change and on
/// a schedule (``GovernanceMonitor``); an alert opens, may be dismissed with a reason, reopens when
/// something new appears and resolves when its condition is gone. Every change is audited.
extension Engine {

    /// One read of everything the rules look at; the audited events only within each rule's window.
    func alertFacts(settings: [AlertRule: AlertSettings], in tx: StoreTransaction, now: Date) async throws
        -> AlertFacts
    {
        func setting(_ rule: AlertRule) -> AlertSettings { settings[rule] ?? .defaults(for: rule) }
        func since(_ rule: AlertRule) -> Date { now - (setting(rule).window?.timeInterval ?? 0) }
        // The audited events are searched only for the rules that are on.
        let outside =
            setting(.roleAssignedOutsideRegent).enabled
            ? try await tx.searchAudit(
                AuditFilter(from: since(.roleAssignedOutsideRegent), action: AuditAction.grantOutsideRegent.rawValue),
                before: nil, limit: 500) : []
        let breakGlass = setting(.breakGlassUsed).enabled ? Set(setting(.breakGlassUsed).names) : []
        var signIns: [AuditEvent] = []
        for name in breakGlass.sorted() {
            guard let principal = try await tx.principal(named: name) else { continue }
            signIns += try await tx.searchAudit(
                AuditFilter(
                    from: since(.breakGlassUsed), actorId: principal.id,
                    action: AuditAction.authLoginSucceeded.rawValue),
                before: nil, limit: 100)
        }
        let recentActivations =
            setting(.frequentActivation).enabled ? try await tx.activations(since: since(.frequentActivation)) : []
        // Only what a rule could report is read (see `AlertFacts`), not every assignment.
        let roles = try await tx.roles(limit: 1_000_000)
        let adminRole = roles.first { $0.name == Role.BuiltIn.regentAdmin.rawValue }?.id
        let graph = try await tx.membershipGraph()
        let live = try await tx.alertCandidates(
            adminRole: adminRole,
            unusedSince: setting(.unusedEligibility).enabled ? since(.unusedEligibility) : nil)
        var named = Set(live.map(\.principalId)).union(recentActivations.map(\.principalId))
            .union(signIns.compactMap(\.actor.principalId))
        for assignment in live where assignment.roleId == adminRole {
            named.formUnion(graph.transitiveMembers(of: assignment.principalId))
        }
        return AlertFacts(
            now: now, principals: try await tx.principals(ids: named), enabledUsers: try await tx.enabledUserCount(),
            roles: roles, graph: graph, live: live,
            lastActivations: try await tx.lastActivations(of: live.filter { $0.kind == .eligible }.map(\.id)),
            policies: try await tx.allPolicies(),
            failing: try await tx.failingRevocations(attempts: configuration.maximumJobAttempts).compactMap(\.failing),
            outsideGrants: outside.map(\.alertEvent),
            recentActivations: recentActivations,
            signIns: signIns.map(\.alertEvent))
    }
}

extension AuditEvent {
    var alertEvent: AlertEvent {
        AlertEvent(seq: seq, time: time, actorId: actor.principalId, details: details)
    }
}

extension Job {
    /// The revocation this job is, as the alert and the operators' list show it.
    var failing: FailingRevocation? {
        guard case .revoke(let id) = kind else { return nil }
        return FailingRevocation(
            jobId: self.id, assignmentId: id, attempts: attempts, nextAttempt: dueAt, lastError: lastError)
    }
}

extension GovernanceService {
    public func alerts(by actor: ActorContext) async throws -> [Alert] {
        try await engine.authorize(actor, .readEverything)
        return try await engine.store.transaction { try await $0.alerts() }
    }

    public func alertSettings(by actor: ActorContext) async throws -> [AlertRule: AlertSettings] {
        try await engine.authorize(actor, .readEverything)
        return try await engine.store.transaction { try await $0.alertSettings() }
    }

    /// Changes a rule's switch and thresholds (a threshold left out takes its default), then
    /// evaluates at once so the alerts follow.
    public func setAlertSettings(_ settings: AlertSettings, for rule: AlertRule, by actor: ActorContext) async throws
        -> AlertSettings
    {
        let settings = settings.filled(for: rule)
        let now = engine.clock.now()
        try await engine.audited(actor: actor, subject: AuditSubject(), action: .alertSettingsChangeRefused, now: now) {
            try await engine.store.transaction { tx in
                try await setAlertSettings(settings, for: rule, by: actor, in: tx, now: now)
            }
        }
        try await evaluateAlerts()
        return settings
    }

    /// Stores the rule's settings (filled with its defaults) within a transaction the caller
    /// commits; the caller evaluates the rules after it.
    func setAlertSettings(
        _ settings: AlertSettings, for rule: AlertRule, by actor: ActorContext, in tx: StoreTransaction, now: Date
    ) async throws {
        let settings = settings.filled(for: rule)
        try await engine.authorize(actor.principalId, .manageAlerts, in: tx, now: now)
        try settings.validate(for: rule)
        try await tx.saveAlertSettings(settings, for: rule)
        try await engine.audit(
            AuditNote(
                .alertSettingsChanged,
                details: [
                    "rule": rule.rawValue, "enabled": "\(settings.enabled)",
                    "count": settings.count.map(String.init) ?? "",
                    "percent": settings.percent.map(String.init) ?? "",
                    "window": settings.window?.description ?? "",
                    "names": settings.names.joined(separator: ","),
                ]),
            in: tx,
            context: Engine.AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
            now: now)
    }

    /// Dismisses an open alert with a reason. Refused (and audited) for an alert about the actor.
    public func dismissAlert(_ rule: AlertRule, reason: String, by actor: ActorContext) async throws -> Alert {
        let now = engine.clock.now()
        return try await engine.audited(actor: actor, subject: AuditSubject(), action: .alertDismissRefused, now: now) {
            try await engine.store.transaction { tx in
                try await engine.authorize(actor.principalId, .manageAlerts, in: tx, now: now)
                guard var alert = try await tx.alerts().first(where: { $0.rule == rule }) else {
                    throw RegentError(.notFound, "the alert \(rule.rawValue) is not raised", field: "rule")
                }
                try alert.dismiss(
                    by: actor.principalId,
                    selfIdentities: try await tx.membershipGraph().selfIdentities(of: actor.principalId),
                    reason: reason, at: now)
                try await tx.saveAlert(alert)
                try await engine.audit(
                    AuditNote(
                        .alertDismissed, reason: reason,
                        details: ["rule": rule.rawValue, "items": "\(alert.items.count)"]),
                    in: tx,
                    context: Engine.AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
                    now: now)
                return alert
            }
        }
    }

    /// Reads the facts every rule looks at on a snapshot (no change waits for that read, however
    /// large), lets RegentCore evaluate them against the alerts as they stood, and commits what
    /// changed (saved, audited, notified) in a short change of its own — unless the alerts or their
    /// settings changed in between (a dismissal, say), when nothing is applied and the next pass
    /// evaluates again. Whatever else changed meanwhile was audited and wakes that next pass.
    public func evaluateAlerts() async throws {
        let now = engine.clock.now()
        let (settings, existing, facts) = try await engine.store.transaction(.read) { tx in
            let settings = try await tx.alertSettings()
            let existing = Dictionary(
                try await tx.alerts().map { ($0.rule, $0) }, uniquingKeysWith: { first, _ in first })
            return (settings, existing, try await engine.alertFacts(settings: settings, in: tx, now: now))
        }
        let effects = facts.evaluate(settings: settings, existing: existing)
        guard !effects.isEmpty else { return }
        let applied = try await engine.store.transaction { tx -> Engine.Applied? in
            let current = Dictionary(
                try await tx.alerts().map { ($0.rule, $0) }, uniquingKeysWith: { first, _ in first })
            guard current == existing, try await tx.alertSettings() == settings else { return nil }
            return try await engine.apply(
                effects, in: tx,
                context: Engine.AuditContext(actor: .system, subject: AuditSubject(), correlationId: nil), now: now)
        }
        guard let applied else {
            engine.auditWakeup.signal()
            return
        }
        engine.afterCommit(applied)
    }
}
