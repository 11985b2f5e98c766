import Foundation
import RegentCore
import RegentTestSupport
import Testing

struct RetryPolicyTests {
    let policy = RetryPolicy(attemptLimit: 4, backoffCap: 10, failingRetry: 60)

    /// A job backs off 2, 4, 8 s (capped), and is given up at the limit.
    @Test func jobsBackOffThenDie() {
        #expect(policy.afterFailure(attempt: 1, of: .job, at: t0) == .retry(at: t0 + 2))
        #expect(policy.afterFailure(attempt: 2, of: .job, at: t0) == .retry(at: t0 + 4))
        #expect(policy.afterFailure(attempt: 3, of: .job, at: t0, jitter: 1.1) == .retry(at: t0 + 8.8))
        #expect(policy.afterFailure(attempt: 4, of: .job, at: t0) == .dead)
    }

    /// A revocation is never given up: at the limit it becomes failing and is alerted once, then
    /// retried on the fixed period without another alert.
    @Test func revocationsAreNeverGivenUp() {
        #expect(policy.afterFailure(attempt: 3, of: .revocation, at: t0) == .retry(at: t0 + 8))
        #expect(policy.afterFailure(attempt: 4, of: .revocation, at: t0) == .failing(retryAt: t0 + 60, alert: true))
        #expect(policy.afterFailure(attempt: 9, of: .revocation, at: t0) == .failing(retryAt: t0 + 60, alert: false))
    }

    /// A delivery is retried for ever with a capped backoff, unless the receiver refused it for good.
    @Test func deliveriesRetryUntilRefused() {
        #expect(policy.afterFailure(attempt: 1, of: .delivery(permanent: false), at: t0) == .retry(at: t0 + 2))
        #expect(policy.afterFailure(attempt: 50, of: .delivery(permanent: false), at: t0) == .retry(at: t0 + 10))
        #expect(policy.afterFailure(attempt: 1, of: .delivery(permanent: true), at: t0) == .abandoned)
    }
}
