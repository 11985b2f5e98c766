import Foundation
import Logging
import RegentStore
public import ServiceLifecycle

/// Keeps the security alerts and the access reviews current. It sleeps until something is
/// audited (every relevant change is) and then evaluates the alert rules — at most once a second,
/// and never more than a tenth of the time (an evaluation that took 0.5 s waits 5 s before the
/// next), so a large directory bounds the work instead of re-reading it on every change — and at
/// least every `alertInterval` regardless, so time-based rules (unused eligibility,
/// windows) follow the clock; on that same cadence it runs the review schedule. It also writes the
/// counts of refused reads as their windows close. On several replicas, alerts and reviews are
/// evaluated by the one that leads.
public struct GovernanceMonitor: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    struct State {
        var seenSeq: Int64 = -1
        var lastEvaluation = Date.distantPast
        var lastFull = Date.distantPast
        /// How long the last evaluation took (real time: what it cost, not when it ran).
        var lastCost: TimeInterval = 0
    }

    /// The shortest pause between evaluations after one that took `cost` seconds.
    static func pause(after cost: TimeInterval) -> TimeInterval { max(1, cost * 10) }

    public func run() async throws {
        let interval = engine.configuration.alertInterval
        await ServiceLoop(engine: engine, name: "governance monitor", wakeup: engine.auditWakeup).run(
            initial: State()
        ) { state in
            // Each replica counts the refusals it saw; the rest is one replica's work.
            try await engine.governance.sweepRefusals()
            guard engine.store.leads else {
                return min(engine.clock.now().addingTimeInterval(1), engine.nextRefusalSweep ?? .distantFuture)
            }
            let earliest = state.lastEvaluation + Self.pause(after: state.lastCost)
            if engine.clock.now() < earliest { try await engine.clock.sleep(until: earliest) }
            let now = engine.clock.now()
            let head = try await engine.auditLog.auditHead().seq
            let full = now.timeIntervalSince(state.lastFull) >= interval
            if head != state.seenSeq || full {
                // When the evaluation audits a change, that wakes the next pass, which evaluates once
                // more and finds nothing new: nothing written meanwhile is missed.
                let cost = try await ContinuousClock().measure { try await engine.governance.evaluateAlerts() }
                state.lastCost = Double(cost.components.seconds) + Double(cost.components.attoseconds) / 1e18
                engine.logger.debug(
                    "alert rules evaluated", metadata: ["seconds": "\(String(format: "%.3f", state.lastCost))"])
                state.seenSeq = head
                state.lastEvaluation = now
                if full {
                    try await engine.governance.runReviews()
                    state.lastFull = now
                }
            }
            return min(state.lastFull + interval, engine.nextRefusalSweep ?? .distantFuture)
        }
    }
}
