/// A call to a system outside Regent failed: a connector's grant or revocation, a mail or webhook
/// delivery. Transient failures (the other side is down, busy or slow) are retried with backoff;
/// permanent ones (the other side refused for good) are not retried as such: a grant fails, a
/// delivery is given up, a revocation is still retried but alerted (see ``RetryPolicy``).
public struct ExternalFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var isTransient: Bool
    public var reason: String

    public init(transient: Bool, _ reason: String) {
        self.isTransient = transient
        self.reason = reason
    }

    public var description: String { (isTransient ? "transient: " : "permanent: ") + reason }
}
