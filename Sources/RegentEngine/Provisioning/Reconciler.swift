import Foundation
import Logging
import RegentStore
public import ServiceLifecycle

/// Runs ``Engine/reconcile()`` every `reconcileInterval` (the first pass at start) until graceful
/// shutdown, on the one replica that leads. A failed pass is logged and the next one comes on
/// schedule.
public struct Reconciler: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        let interval = engine.configuration.reconcileInterval
        await ServiceLoop(engine: engine, name: "reconciler", retryAfter: interval, singleton: true).run(initial: ()) {
            _ in
            let report = try await engine.provisioning.reconcile()
            if report.revoked + report.regranted > 0 || !report.failedTargets.isEmpty {
                engine.logger.notice(
                    "reconciled",
                    metadata: [
                        "revoked": "\(report.revoked)", "regranted": "\(report.regranted)",
                        "failedTargets": "\(report.failedTargets.joined(separator: ","))",
                    ])
            }
            return engine.clock.now().addingTimeInterval(interval)
        }
    }
}
