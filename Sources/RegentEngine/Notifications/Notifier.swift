import Foundation
public import ServiceLifecycle

/// Sends the notification outbox as messages fall due — woken at once when a use case queues one,
/// otherwise asleep until the next retry is due — and queues expiry reminders every minute, until
/// graceful shutdown. A failed pass is logged; messages wait in the outbox for the next one.
public struct Notifier: Service {
    let engine: Engine
    let transport: any NotificationTransport

    public init(engine: Engine, transport: any NotificationTransport) {
        self.engine = engine
        self.transport = transport
    }

    public func run() async throws {
        let reminderInterval: TimeInterval = 60
        await ServiceLoop(engine: engine, name: "notifier", wakeup: engine.noticeWakeup).run(
            initial: Date.distantPast
        ) { lastReminders in
            let now = engine.clock.now()
            if now.timeIntervalSince(lastReminders) >= reminderInterval {
                try await engine.notifications.queueExpiryReminders()
                lastReminders = now
            }
            while try await engine.notifications.deliverDueNotifications(using: transport) > 0 {}
            let due = try await engine.notifications.nextNotificationDue() ?? .distantFuture
            return min(due, lastReminders + reminderInterval, now + engine.configuration.maximumIdle)
        }
    }
}
