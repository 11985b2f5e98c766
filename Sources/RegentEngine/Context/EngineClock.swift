public import Foundation
import Synchronization

/// The one source of time for the engine. Every use case reads it once, when its decision is made,
/// and passes that instant down; tests substitute ``ManualClock``.
public protocol EngineClock: Sendable {
    func now() -> Date
    /// Suspends until `deadline` (or throws when the task is cancelled).
    func sleep(until deadline: Date) async throws
}

/// Wall-clock time.
public struct SystemClock: EngineClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(until deadline: Date) async throws {
        let seconds = max(0, deadline.timeIntervalSinceNow)
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}

/// A clock that moves only when told, for tests of expiry, timeouts and restarts.
/// `sleep` does not wait: tests drive the scheduler's steps directly.
public final class ManualClock: EngineClock {
    let current: Mutex<Date>

    public init(_ start: Date) { current = Mutex(start) }

    public func now() -> Date { current.withLock { $0 } }

    public func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }

    public func sleep(until deadline: Date) async throws {
        try Task.checkCancellation()
        await Task.yield()
    }
}
