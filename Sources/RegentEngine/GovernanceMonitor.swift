import Foundation
import Logging
import RegentStore
public import ServiceLifecycle

/// Keeps the security alerts and the access reviews current: every second it looks whether the
/// audit log grew (every relevant change is audited) and evaluates the alert rules when it did,
/// and at least every `alertInterval` regardless, so time-based rules (unused eligibility,
/// windows) follow the clock; on that same cadence it runs the review schedule. Each pass also
/// writes the counts of refused reads whose window closed.
public struct GovernanceMonitor: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seenSeq: Int64 = -1
            var lastFull = Date.distantPast
            while !Task.isCancelled {
                do {
                    try await engine.sweepRefusals()
                    let head = try await engine.store.transaction { try await $0.auditHead().seq }
                    let now = engine.clock.now()
                    if head != seenSeq || now.timeIntervalSince(lastFull) >= engine.configuration.alertInterval {
                        // When the evaluation audits a change, the next pass evaluates once more
                        // and finds nothing new: nothing written meanwhile is missed.
                        try await engine.evaluateAlerts()
                        seenSeq = head
                        if now.timeIntervalSince(lastFull) >= engine.configuration.alertInterval {
                            try await engine.runReviews()
                            lastFull = now
                        }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    engine.logger.error("alert evaluation failed", metadata: ["error": "\(error)"])
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
