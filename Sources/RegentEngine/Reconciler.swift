import Foundation
import Logging
public import ServiceLifecycle

/// Runs ``Engine/reconcile()`` every `reconcileInterval` (the first pass at start) until graceful
/// shutdown. A failed pass is logged and the next one comes on schedule.
public struct Reconciler: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let report = try await engine.reconcile()
                    if report.revoked + report.regranted > 0 || !report.failedTargets.isEmpty {
                        engine.logger.notice(
                            "reconciled",
                            metadata: [
                                "revoked": "\(report.revoked)", "regranted": "\(report.regranted)",
                                "failedTargets": "\(report.failedTargets.joined(separator: ","))",
                            ])
                    }
                } catch {
                    engine.logger.error("reconcile pass failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await engine.clock.sleep(
                        until: engine.clock.now().addingTimeInterval(engine.configuration.reconcileInterval))
                } catch {
                    return
                }
            }
        }
    }
}
