/// Notifications: delivering the outbox through a transport, expiry reminders, and each user's
/// choice about non-critical mail. What is queued is decided with each event (``Notice``).
public struct NotificationService: Sendable {
    let engine: Engine
}

extension Engine {
    public var notifications: NotificationService { NotificationService(engine: self) }
}
