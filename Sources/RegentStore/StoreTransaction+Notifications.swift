public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// A message in the notification outbox: written in the transaction of the event it reports, sent
/// later by the notifier, retried until it goes through. `dedupeKey` is unique, so the same
/// message is never queued twice (a timer that fires again, a scan that runs again).
public struct OutboxMessage: Sendable, Hashable, Identifiable {
    public enum Channel: String, Sendable, Codable { case email, webhook }

    public let id: UUID
    public let dedupeKey: String
    public let channel: Channel
    /// An email address, or the name of a configured webhook.
    public let recipient: String
    public let topic: NotificationTopic
    public let subject: String
    public let body: String
    /// The JSON document a webhook receives.
    public let payload: String
    public let dueAt: Date
    public let attempts: Int
    public let lastError: String?
    public let sentAt: Date?

    public init(
        id: UUID = UUID(), dedupeKey: String, channel: Channel, recipient: String, topic: NotificationTopic,
        subject: String, body: String, payload: String, dueAt: Date, attempts: Int = 0, lastError: String? = nil,
        sentAt: Date? = nil
    ) {
        self.id = id
        self.dedupeKey = dedupeKey
        self.channel = channel
        self.recipient = recipient
        self.topic = topic
        self.subject = subject
        self.body = body
        self.payload = payload
        self.dueAt = dueAt
        self.attempts = attempts
        self.lastError = lastError
        self.sentAt = sentAt
    }
}

extension StoreTransaction {
    /// Queues the message unless one with the same key was queued before.
    public func enqueueNotification(_ message: OutboxMessage, now: Date) async throws {
        try await db.raw(
            """
            INSERT INTO notifications (id, dedupe_key, channel, recipient, topic, subject, body, payload, due_at,
                                       attempts, created_at)
            VALUES (\(bind: message.id.uuidString), \(bind: message.dedupeKey), \(bind: message.channel.rawValue),
                    \(bind: message.recipient), \(bind: message.topic.rawValue), \(bind: message.subject),
                    \(bind: message.body), \(bind: message.payload), \(bind: message.dueAt.milliseconds), 0,
                    \(bind: now.milliseconds))
            ON CONFLICT (dedupe_key) DO NOTHING
            """
        ).run()
    }

    /// Whether any message of the notification `key` (its keys are `key:` and a channel) is queued;
    /// a range on the unique key's index.
    public func hasNotifications(key: String) async throws -> Bool {
        try await db.raw(
            """
            SELECT 1 AS found FROM notifications
            WHERE dedupe_key >= \(bind: key + ":") AND dedupe_key < \(bind: key + ";") LIMIT 1
            """
        ).first() != nil
    }

    /// When the earliest unsent message may next be claimed: its due time, or its lease's end.
    public func nextNotificationDue() async throws -> Date? { try await LeasedQueue.notifications.nextDue(in: db) }

    /// Hands out unsent messages that are due and not leased, leasing them for `lease` seconds.
    public func claimDueNotifications(now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxMessage] {
        try await LeasedQueue.notifications.claim(in: self, now: now, lease: lease, limit: limit).map { row, _ in
            try Self.outboxMessage(row)
        }
    }

    public func markNotificationSent(_ id: UUID, at time: Date) async throws {
        try await db.raw(
            "UPDATE notifications SET sent_at = \(bind: time.milliseconds), lease_until = NULL WHERE id = \(bind: id.uuidString)"
        ).run()
    }

    public func retryNotification(_ id: UUID, error: String, at time: Date) async throws {
        try await LeasedQueue.notifications.retry(id.uuidString, error: error, at: time, in: db)
    }

    /// Gives a message up after a permanent refusal; it stays in the outbox with the error.
    public func abandonNotification(_ id: UUID, error: String, at time: Date) async throws {
        try await db.raw(
            """
            UPDATE notifications SET abandoned_at = \(bind: time.milliseconds), lease_until = NULL,
                   last_error = \(bind: String(error.prefix(1000))) WHERE id = \(bind: id.uuidString)
            """
        ).run()
    }

    /// The newest messages, for tests and the operators' view of the outbox.
    public func notifications(limit: Int = 1000) async throws -> [OutboxMessage] {
        try await db.raw("SELECT * FROM notifications ORDER BY created_at DESC, id LIMIT \(bind: limit)").all()
            .map(Self.outboxMessage)
    }

    /// Whether the principal receives non-critical mail (yes unless they opted out).
    public func wantsNonCriticalEmail(_ principal: Principal.ID) async throws -> Bool {
        try await db.raw(
            "SELECT non_critical_email FROM notification_preferences WHERE principal_id = \(bind: principal.description)"
        ).first()?.decode(column: "non_critical_email", as: Int.self) != 0
    }

    public func setWantsNonCriticalEmail(_ principal: Principal.ID, _ wants: Bool) async throws {
        try await db.raw("DELETE FROM notification_preferences WHERE principal_id = \(bind: principal.description)")
            .run()
        try await db.raw(
            """
            INSERT INTO notification_preferences (principal_id, non_critical_email)
            VALUES (\(bind: principal.description), \(bind: wants ? 1 : 0))
            """
        ).run()
    }

    static func outboxMessage(_ row: any SQLRow) throws -> OutboxMessage {
        let idText = try row.string("id")
        guard let id = UUID(uuidString: idText) else { throw StoreError.corrupt("notification id \(idText)") }
        return OutboxMessage(
            id: id, dedupeKey: try row.string("dedupe_key"),
            channel: try row.enumValue("channel", as: OutboxMessage.Channel.self),
            recipient: try row.string("recipient"),
            topic: try row.enumValue("topic", as: NotificationTopic.self), subject: try row.string("subject"),
            body: try row.string("body"), payload: try row.string("payload"), dueAt: try row.date("due_at"),
            attempts: try row.decode(column: "attempts", as: Int.self), lastError: try row.optionalString("last_error"),
            sentAt: try row.optionalDate("sent_at"))
    }
}
