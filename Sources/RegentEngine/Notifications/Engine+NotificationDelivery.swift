public import Foundation
import Logging
import RegentAudit
public import RegentCore
public import RegentStore

/// Sends what is in the outbox through a transport, and keeps retrying: a message is given up
/// only when the receiver refuses it for good (a 5xx reply to the recipient, a 4xx webhook
/// answer other than 408/429); a server that is down only delays it.
public protocol NotificationTransport: Sendable {
    func deliver(_ message: OutboxMessage) async throws(ExternalFailure)
}

extension Engine {

    static func attempt(_ message: OutboxMessage, _ transport: any NotificationTransport) async -> (
        OutboxMessage, ExternalFailure?
    ) {
        do {
            try await transport.deliver(message)
            return (message, nil)
        } catch {
            return (message, error)
        }
    }

}

extension NotificationService {
    /// When the next unsent message falls due (or its lease ends); nil when none waits.
    public func nextNotificationDue() async throws -> Date? {
        try await engine.store.transaction { try await $0.nextNotificationDue() }
    }

    /// Claims the due messages and sends them, a few at a time; returns how many went out.
    @discardableResult
    public func deliverDueNotifications(using transport: any NotificationTransport, limit: Int = 50) async throws
        -> Int
    {
        let now = engine.clock.now()
        let due = try await engine.store.transaction(.claim) {
            try await $0.claimDueNotifications(now: now, lease: engine.configuration.jobLease, limit: limit)
        }
        guard !due.isEmpty else { return 0 }
        let outcomes = await withTaskGroup(of: (OutboxMessage, ExternalFailure?).self) { group in
            var outcomes: [(OutboxMessage, ExternalFailure?)] = []
            var next = due.makeIterator()
            for _ in 0..<min(4, due.count) {
                guard let message = next.next() else { break }
                group.addTask { await Engine.attempt(message, transport) }
            }
            while let outcome = await group.next() {
                outcomes.append(outcome)
                if let message = next.next() { group.addTask { await Engine.attempt(message, transport) } }
            }
            return outcomes
        }
        let finished = engine.clock.now()
        try await engine.store.transaction { tx in
            for (message, failure) in outcomes {
                guard let failure else {
                    try await tx.markNotificationSent(message.id, at: finished)
                    continue
                }
                let outcome = engine.retryPolicy.afterFailure(
                    attempt: message.attempts + 1, of: .delivery(permanent: !failure.isTransient), at: finished)
                if case .retry(let at) = outcome {
                    engine.logger.warning(
                        "notification delivery failed; retrying",
                        metadata: [
                            "channel": "\(message.channel.rawValue)", "topic": "\(message.topic.rawValue)",
                            "attempt": "\(message.attempts + 1)", "retryAt": "\(at.rfc3339)",
                            "error": "\(failure.reason)",
                        ])
                    try await tx.retryNotification(message.id, error: failure.reason, at: at)
                } else {
                    try await tx.abandonNotification(message.id, error: failure.reason, at: finished)
                    try await engine.audit(
                        AuditNote(
                            .notificationFailed, .failed, reason: failure.reason,
                            details: ["topic": message.topic.rawValue, "channel": message.channel.rawValue]),
                        in: tx,
                        context: Engine.AuditContext(actor: .system, subject: AuditSubject(), correlationId: nil),
                        now: finished)
                }
            }
        }
        return outcomes.filter { $0.1 == nil }.count
    }

    /// Queues the "expires in 14 days" and "expires tomorrow" reminders of admin-made assignments
    /// that are due now; run every minute, and each reminder is queued once (deduplicated).
    public func queueExpiryReminders() async throws {
        guard engine.configuration.notifications.hasChannel else { return }
        let now = engine.clock.now()
        try await engine.store.transaction { tx in
            for assignment in try await tx.liveAssignments() where !assignment.isActivation {
                guard let end = assignment.end, end > now else { continue }
                let left = end.timeIntervalSince(now)
                guard let days = [1, 14].first(where: { left <= Double($0) * 86_400 }) else { continue }
                // Queued by an earlier scan: nothing to address again.
                let key = "assignmentExpiring:\(assignment.id):\(days)d:\(end.rfc3339)"
                guard try await !tx.hasNotifications(key: key) else { continue }
                let who = try await tx.principal(id: assignment.principalId)?.name ?? "?"
                let role = try await tx.role(id: assignment.roleId)?.name ?? "?"
                try await engine.enqueue(
                    Engine.NotificationPlan(
                        topic: .assignmentExpiring,
                        key: key,
                        principalId: assignment.principalId, roleId: assignment.roleId, scope: assignment.scope,
                        kind: assignment.kind, isActivation: false,
                        subject:
                            "Expires \(days == 1 ? "within a day" : "within 14 days"): \(who) → \(role) at \(assignment.scope.path)",
                        lines: [
                            "Principal: \(who)", "Role: \(role)", "Scope: \(assignment.scope.path)",
                            "Kind: \(assignment.kind.rawValue)", "Ends: \(end.rfc3339)",
                        ], link: "/roles"),
                    in: tx, now: now)
            }
        }
    }

    /// Whether the actor receives non-critical mail.
    public func wantsNonCriticalEmail(_ actor: ActorContext) async throws -> Bool {
        try await engine.store.transaction { try await $0.wantsNonCriticalEmail(actor.principalId) }
    }

    /// Opts the actor in or out of non-critical mail; critical mail (approvals waiting on them,
    /// denials, removals, alerts) is always sent.
    public func setWantsNonCriticalEmail(_ wants: Bool, by actor: ActorContext) async throws {
        let now = engine.clock.now()
        try await engine.store.transaction { tx in
            try await tx.setWantsNonCriticalEmail(actor.principalId, wants)
            try await engine.audit(
                AuditNote(.notificationPreferenceChanged, details: ["nonCriticalEmail": "\(wants)"]), in: tx,
                context: Engine.AuditContext(
                    actor: actor.auditActor, subject: AuditSubject(principalId: actor.principalId), correlationId: nil),
                now: now)
        }
    }
}
