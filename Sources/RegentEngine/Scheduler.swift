import Foundation
import Logging
public import ServiceLifecycle

/// Runs the engine's jobs as a service: sleeps until the earliest due job, woken early when a
/// use case enqueues one, and stops at graceful shutdown. Overdue work ran in ``Engine/start()``
/// before the server accepted requests.
public struct Scheduler: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await engine.runDueJobs()
                    try await engine.checkpointIfDue(force: false)
                    let wake = try await engine.nextWake()
                    await sleep(until: wake)
                } catch is CancellationError {
                    return
                } catch {
                    engine.logger.error("scheduler step failed; retrying", metadata: ["error": "\(error)"])
                    await sleep(until: engine.clock.now().addingTimeInterval(1))
                }
            }
        }
        try? await engine.checkpointIfDue(force: true)
    }

    private func sleep(until deadline: Date) async {
        let clock = engine.clock
        let wakeup = engine.wakeup
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(until: deadline) }
            group.addTask { await wakeup.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}
