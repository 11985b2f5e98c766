import Foundation
import RegentStore
public import ServiceLifecycle

/// Runs the engine's jobs as a service: sleeps until the earliest due job, woken early when a
/// use case enqueues one, and stops at graceful shutdown. Overdue work ran in ``Engine/start()``
/// before the server accepted requests.
public struct Scheduler: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        await ServiceLoop(engine: engine, name: "scheduler", wakeup: engine.wakeup).run(initial: ()) { _ in
            try await engine.provisioning.runDueJobs()
            if engine.store.leads { try await engine.auditLog.checkpointIfDue(force: false) }
            return try await engine.provisioning.nextWake()
        }
        if engine.store.leads { try? await engine.auditLog.checkpointIfDue(force: true) }
    }
}
