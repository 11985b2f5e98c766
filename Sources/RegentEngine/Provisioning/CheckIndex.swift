public import Foundation
public import RegentCore
import Synchronization

/// Active assignments in memory with their end times. A check compares the end with the time it
/// is given, so it answers "no" the instant an assignment ends, before any revoke job has run.
///
/// ```swift
/// index.check(principal: alice, role: dba, scope: db, at: clock.now())  // → Match(assignmentId, until)
/// ```
public final class CheckIndex: Sendable {
    public struct Match: Hashable, Sendable {
        public var assignmentId: Assignment.ID
        /// nil: permanent.
        public var until: Date?
    }

    struct Key: Hashable {
        var principal: Principal.ID
        var role: Role.ID
    }

    struct Entry {
        var assignmentId: Assignment.ID
        var scope: Scope
        var start: Date
        var end: Date?
    }

    struct State {
        var entries: [Key: [Entry]] = [:]
        var locations: [Assignment.ID: Key] = [:]
        /// Memberships and disabled principals: a disabled principal uses no assignment, its own
        /// or its groups', and a disabled group passes nothing on.
        var graph = MembershipGraph()
        /// While a replacement is being read: what changed here meanwhile, which the replacement's
        /// older snapshot may not show.
        var touched: Touched?
    }

    /// What changed while a replacement was read, to be read again once it is in place.
    public struct Touched: Sendable {
        public var assignments: Set<Assignment.ID> = []
        public var graph = false
    }

    /// A replacement index, built page by page away from the one answering checks.
    public struct Replacement: Sendable {
        var state = State()

        public init(graph: MembershipGraph) { state.graph = graph }

        public mutating func add(_ assignments: [Assignment]) {
            for assignment in assignments { CheckIndex.upsert(assignment, into: &state) }
        }
    }

    let state = Mutex(State())

    public init() {}

    /// Marks the start of a reload: from now on, changes are noted for ``replace(with:)``.
    public func beginReplacement() { state.withLock { $0.touched = Touched() } }

    /// Puts `replacement` in place and returns what changed since ``beginReplacement()``: the
    /// caller reads those again and applies them, so no change is undone by the older snapshot.
    public func replace(with replacement: Replacement) -> Touched {
        state.withLock { state in
            let touched = state.touched ?? Touched()
            state = replacement.state
            return touched
        }
    }

    /// Records an assignment's new state: active ones in force or scheduled are kept, others dropped.
    public func update(_ assignments: [Assignment]) {
        state.withLock { state in
            for assignment in assignments {
                Self.upsert(assignment, into: &state)
                state.touched?.assignments.insert(assignment.id)
            }
        }
    }

    /// Replaces the memberships; the disabled principals stay as this index knows them.
    public func updateGraph(_ graph: MembershipGraph) {
        state.withLock { state in
            var graph = graph
            graph.takeDisabled(from: state.graph)
            state.graph = graph
            state.touched?.graph = true
        }
    }

    /// Replaces the memberships and the disabled principals with a fresh read of both.
    public func setGraph(_ graph: MembershipGraph) {
        state.withLock {
            $0.graph = graph
            $0.touched?.graph = true
        }
    }

    public func setEnabled(_ principal: Principal.ID, _ enabled: Bool) {
        state.withLock {
            $0.graph.setEnabled(principal, enabled)
            $0.touched?.graph = true
        }
    }

    public var count: Int { state.withLock { $0.locations.count } }

    /// Whether `principal` (or a group it is in) holds `role` at `scope` at `time`; the match that
    /// lasts longest wins.
    public func check(principal: Principal.ID, role: Role.ID, scope: Scope, at time: Date) -> Match? {
        state.withLock { state in
            var best: Match?
            let identities =
                state.graph.parents[principal] == nil && state.graph.isEnabled(principal)
                ? [principal] : state.graph.identities(of: principal)
            for identity in identities {
                for entry in state.entries[Key(principal: identity, role: role)] ?? []
                where entry.start <= time && (entry.end.map { time < $0 } ?? true) && entry.scope.covers(scope) {
                    let lasts = entry.end ?? .distantFuture
                    if best.map({ lasts > ($0.until ?? .distantFuture) }) ?? true {
                        best = Match(assignmentId: entry.assignmentId, until: entry.end)
                    }
                }
            }
            return best
        }
    }

    static func upsert(_ assignment: Assignment, into state: inout State) {
        if let key = state.locations.removeValue(forKey: assignment.id) {
            state.entries[key]?.removeAll { $0.assignmentId == assignment.id }
            if state.entries[key]?.isEmpty == true { state.entries[key] = nil }
        }
        guard assignment.kind == .active, assignment.state != .ended else { return }
        let key = Key(principal: assignment.principalId, role: assignment.roleId)
        state.entries[key, default: []].append(
            Entry(assignmentId: assignment.id, scope: assignment.scope, start: assignment.start, end: assignment.end))
        state.locations[assignment.id] = key
    }
}
