import Foundation
import RegentAudit
public import RegentCore
import RegentStore

/// Security alerts: each enabled rule is evaluated over the store on every relevant change and on
/// a schedule (``GovernanceMonitor``); an alert opens, may be dismissed with a reason, reopens when
/// something new appears and resolves when its condition is gone. Every change is audited.
extension Engine {
    public func alerts(by actor: ActorContext) async throws -> [Alert] {
        try await authorize(actor, .readEverything)
        return try await store.transaction { try await $0.alerts() }
    }

    public func alertSettings(by actor: ActorContext) async throws -> [AlertRule: AlertSettings] {
        try await authorize(actor, .readEverything)
        return try await store.transaction { try await $0.alertSettings() }
    }

    /// Changes a rule's switch and thresholds (a threshold left out takes its default), then
    /// evaluates at once so the alerts follow.
    public func setAlertSettings(_ settings: AlertSettings, for rule: AlertRule, by actor: ActorContext) async throws
        -> AlertSettings
    {
        let settings = settings.filled(for: rule)
        let now = clock.now()
        try await audited(actor: actor, subject: AuditSubject(), action: "alert.settings_change.refused", now: now) {
            try await store.transaction { tx in
                try await self.authorize(actor.principalId, .manageAlerts, in: tx, now: now)
                try settings.validate(for: rule)
                try await tx.saveAlertSettings(settings, for: rule)
                try await self.audit(
                    AuditNote(
                        "alert.settings_changed",
                        details: [
                            "rule": rule.rawValue, "enabled": "\(settings.enabled)",
                            "count": settings.count.map(String.init) ?? "",
                            "percent": settings.percent.map(String.init) ?? "",
                            "window": settings.window?.description ?? "",
                            "names": settings.names.joined(separator: ","),
                        ]),
                    in: tx, context: AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
                    now: now)
            }
        }
        try await evaluateAlerts()
        return settings
    }

    /// Dismisses an open alert with a reason. Refused (and audited) for an alert about the actor.
    public func dismissAlert(_ rule: AlertRule, reason: String, by actor: ActorContext) async throws -> Alert {
        let now = clock.now()
        return try await audited(actor: actor, subject: AuditSubject(), action: "alert.dismiss.refused", now: now) {
            try await store.transaction { tx in
                try await self.authorize(actor.principalId, .manageAlerts, in: tx, now: now)
                guard var alert = try await tx.alerts().first(where: { $0.rule == rule }) else {
                    throw RegentError(.notFound, "the alert \(rule.rawValue) is not raised", field: "rule")
                }
                try alert.dismiss(
                    by: actor.principalId,
                    selfIdentities: try await tx.membershipGraph().selfIdentities(of: actor.principalId),
                    reason: reason, at: now)
                try await tx.saveAlert(alert)
                try await self.audit(
                    AuditNote(
                        "alert.dismissed", reason: reason,
                        details: ["rule": rule.rawValue, "items": "\(alert.items.count)"]),
                    in: tx, context: AuditContext(actor: actor.auditActor, subject: AuditSubject(), correlationId: nil),
                    now: now)
                return alert
            }
        }
    }

    /// Evaluates every rule in one transaction, saves the alerts and audits what changed.
    /// Raised and reopened alerts are notified to the administrators. Returns what changed.
    @discardableResult
    public func evaluateAlerts() async throws -> [(rule: AlertRule, change: Alert.Change)] {
        let now = clock.now()
        return try await store.transaction { tx in
            let settings = try await tx.alertSettings()
            let existing = Dictionary(
                try await tx.alerts().map { ($0.rule, $0) }, uniquingKeysWith: { first, _ in first })
            let facts = try await AlertFacts.read(tx, now: now, failingAfter: self.configuration.maximumJobAttempts)
            var changes: [(rule: AlertRule, change: Alert.Change)] = []
            for rule in AlertRule.allCases {
                let ruleSettings = settings[rule] ?? .defaults(for: rule)
                let items = ruleSettings.enabled ? try await facts.items(for: rule, settings: ruleSettings) : []
                let (alert, change) = Alert.evaluate(existing[rule], rule: rule, items: items, at: now)
                guard let alert, alert != existing[rule] else { continue }
                try await tx.saveAlert(alert)
                if let change {
                    changes.append((rule, change))
                    if change != .resolved { try await self.notifyAlert(alert, in: tx, now: now) }
                    try await self.audit(
                        AuditNote(
                            "alert.\(change.rawValue)",
                            details: [
                                "rule": rule.rawValue, "items": "\(items.count)",
                                "first": items.first?.summary ?? "",
                            ]),
                        in: tx, context: AuditContext(actor: .system, subject: AuditSubject(), correlationId: nil),
                        now: now)
                }
            }
            return changes
        }
    }
}
