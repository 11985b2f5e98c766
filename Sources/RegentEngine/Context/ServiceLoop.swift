import Foundation
import Logging
import RegentStore
import ServiceLifecycle

/// The one shape of Regent's background services (scheduler, reconciler, governance monitor,
/// notifier): run a pass, sleep until the time the pass returns — woken early when `wakeup` is
/// signalled (something was queued) — and stop at graceful shutdown. A failed pass is logged and
/// the next comes after `retryAfter`; nothing a pass would have done is lost, because each pass
/// reads its work from the store.
///
/// ```swift
/// await ServiceLoop(engine: engine, name: "notifier", wakeup: engine.noticeWakeup).run(initial: State()) { state in
///     …
///     return nextDue
/// }
/// ```
struct ServiceLoop {
    let engine: Engine
    /// Names the service in the log.
    let name: String
    var wakeup: Wakeup?
    var retryAfter: TimeInterval = 1
    /// A singleton runs its passes only while this replica leads (exactly one does at a time);
    /// the others look again every second, so the work moves within seconds when the leader dies.
    var singleton = false

    func run<State: Sendable>(initial: State, pass: @escaping @Sendable (inout State) async throws -> Date) async {
        await cancelWhenGracefulShutdown {
            await engine.started.wait()
            var state = initial
            while !Task.isCancelled {
                if singleton && !engine.store.leads {
                    guard await sleep(until: engine.clock.now().addingTimeInterval(1)) else { return }
                    continue
                }
                let next: Date
                do {
                    next = try await pass(&state)
                } catch is CancellationError {
                    return
                } catch {
                    engine.logger.error("\(name) pass failed", metadata: ["error": "\(error)"])
                    next = engine.clock.now().addingTimeInterval(retryAfter)
                }
                guard await sleep(until: next) else { return }
            }
        }
    }

    /// Sleeps until `deadline` or a signal; false when cancelled.
    func sleep(until deadline: Date) async -> Bool {
        let clock = engine.clock
        guard let wakeup else {
            do {
                try await clock.sleep(until: deadline)
                return true
            } catch {
                return false
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            group.addTask { await wakeup.wait() }
            await group.next()
            group.cancelAll()
        }
        return !Task.isCancelled
    }
}
