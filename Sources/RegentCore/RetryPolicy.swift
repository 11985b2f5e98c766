public import Foundation

/// What becomes of work that failed (DESIGN.md §5), decided in one place for the job queue and the
/// notification outbox: retried after an exponential backoff (2^attempt seconds, capped); a
/// revocation is never given up — past the attempt limit it becomes a failing revocation, retried
/// on a fixed period and alerted once; other jobs are given up past the limit; a delivery the
/// receiver refused for good is abandoned, any other delivery retried for ever.
///
/// ```swift
/// policy.afterFailure(attempt: 3, of: .job, at: now)          // → .retry(at: now + 8 s)
/// policy.afterFailure(attempt: 12, of: .revocation, at: now)  // → .failing(retryAt: now + 60 s, alert: true)
/// ```
public struct RetryPolicy: Sendable, Hashable {
    public enum Work: Sendable, Hashable {
        case job, revocation
        /// A notification; `permanent` when the receiver refused it for good.
        case delivery(permanent: Bool)
    }

    public enum Outcome: Sendable, Hashable {
        case retry(at: Date)
        /// A revocation past its attempt limit: kept, retried, and alerted on the first time.
        case failing(retryAt: Date, alert: Bool)
        /// A job given up: kept as dead and reported.
        case dead
        /// A delivery refused for good.
        case abandoned
    }

    /// Attempts after which a job is given up and a revocation becomes failing.
    public var attemptLimit: Int
    /// The longest backoff.
    public var backoffCap: TimeInterval
    /// How often a failing revocation is retried.
    public var failingRetry: TimeInterval

    public init(attemptLimit: Int, backoffCap: TimeInterval = 300, failingRetry: TimeInterval) {
        self.attemptLimit = attemptLimit
        self.backoffCap = backoffCap
        self.failingRetry = failingRetry
    }

    /// - Parameters:
    ///   - attempt: the number of the attempt that failed, from 1.
    ///   - jitter: a factor on the backoff (the caller draws it, e.g. 0.8…1.2, so many failures at
    ///     once do not retry in step); 1 for none.
    public func afterFailure(attempt: Int, of work: Work, at now: Date, jitter: Double = 1) -> Outcome {
        let backoff = min(backoffCap, pow(2, Double(min(attempt, 16)))) * jitter
        switch work {
        case .delivery(permanent: true):
            return .abandoned
        case .delivery(permanent: false):
            return .retry(at: now + backoff)
        case .job:
            return attempt >= attemptLimit ? .dead : .retry(at: now + backoff)
        case .revocation:
            guard attempt >= attemptLimit else { return .retry(at: now + backoff) }
            return .failing(retryAt: now + failingRetry, alert: attempt == attemptLimit)
        }
    }
}
