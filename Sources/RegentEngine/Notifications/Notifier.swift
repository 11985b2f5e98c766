import Foundation
import Logging
public import ServiceLifecycle

/// Sends the notification outbox every second and queues expiry reminders every minute, until
/// graceful shutdown. A failed pass is logged; messages wait in the outbox for the next one.
public struct Notifier: Service {
    let engine: Engine
    let transport: any NotificationTransport

    public init(engine: Engine, transport: any NotificationTransport) {
        self.engine = engine
        self.transport = transport
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastReminders = Date.distantPast
            while !Task.isCancelled {
                do {
                    if engine.clock.now().timeIntervalSince(lastReminders) >= 60 {
                        try await engine.queueExpiryReminders()
                        lastReminders = engine.clock.now()
                    }
                    while try await engine.deliverDueNotifications(using: transport) > 0 {}
                } catch is CancellationError {
                    return
                } catch {
                    engine.logger.error("notification pass failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await engine.clock.sleep(until: engine.clock.now().addingTimeInterval(1))
                } catch {
                    return
                }
            }
        }
    }
}
