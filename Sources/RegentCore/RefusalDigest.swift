public import Foundation

/// How refused attempts are audited without letting a loop of them flood the log (DESIGN.md §6:
/// every authorization denial is an event). Per actor and operation, the first refusal in a window
/// is recorded at once; the others in that window are only counted, and recorded as one event with
/// their count when the window closes — at the next refusal after it, or when the owner sweeps.
///
/// ```swift
/// var digest = RefusalDigest<String>(window: 60)
/// digest.refused(key, context: "alice", at: t0)       // → [.first(key, "alice", at: t0)]
/// digest.refused(key, context: "alice", at: t0 + 1)   // → []
/// digest.sweep(at: t0 + 61)                            // → [.repeated(key, "alice", count: 1, …)]
/// ```
public struct RefusalDigest<Context: Sendable & Equatable>: Sendable, Equatable {
    public struct Key: Hashable, Sendable {
        public var actor: Principal.ID
        public var operation: String

        public init(actor: Principal.ID, operation: String) {
            self.actor = actor
            self.operation = operation
        }
    }

    public enum Record: Equatable, Sendable {
        /// The first refusal of a window: record it now.
        case first(Key, Context, at: Date)
        /// `count` further refusals between `from` and `to`, recorded as one event.
        case repeated(Key, Context, count: Int, from: Date, to: Date)
    }

    struct Window: Equatable, Sendable {
        var start: Date
        var context: Context
        var repeats = 0
        var firstRepeat: Date?
        var lastRepeat: Date?
    }

    public let window: TimeInterval
    private var open: [Key: Window] = [:]

    public init(window: TimeInterval) { self.window = window }

    /// Windows still open, for tests and metrics.
    public var openCount: Int { open.count }

    /// When the earliest open window closes: the next sweep worth making.
    public var nextClose: Date? { open.values.map { $0.start + window }.min() }

    public mutating func refused(_ key: Key, context: Context, at now: Date) -> [Record] {
        if var current = open[key], now < current.start + window {
            current.repeats += 1
            current.firstRepeat = current.firstRepeat ?? now
            current.lastRepeat = now
            open[key] = current
            return []
        }
        let closed = open[key].flatMap { Self.repeated(key, $0) }
        open[key] = Window(start: now, context: context)
        return (closed.map { [$0] } ?? []) + [.first(key, context, at: now)]
    }

    /// Closes every window that has run out, returning the counts they hold.
    public mutating func sweep(at now: Date) -> [Record] {
        let ended = open.filter { now >= $0.value.start + window }
        for key in ended.keys { open[key] = nil }
        return ended.sorted { $0.value.start < $1.value.start }.compactMap { Self.repeated($0.key, $0.value) }
    }

    private static func repeated(_ key: Key, _ window: Window) -> Record? {
        guard window.repeats > 0, let from = window.firstRepeat, let to = window.lastRepeat else { return nil }
        return .repeated(key, window.context, count: window.repeats, from: from, to: to)
    }
}
