import Synchronization

/// Gives up on a piece of work that has gone quiet for too long: the caller is answered with
/// `silenceError` once `limit` passes with no sign of life from the work (it calls `heard` on
/// each sign), and `whenSilent` runs. A task group cannot do this: it waits for every child,
/// so a statement that never answers would keep its caller waiting too. The work runs in a task
/// of its own, which is cancelled (and left to end when it can) once the caller has been answered.
struct SilenceWatch: Sendable {
    let limit: Duration
    let silenceError: any Error

    func run(
        _ work: @escaping @Sendable (_ heard: @escaping @Sendable () -> Void) async throws -> Void,
        whenSilent: @escaping @Sendable () -> Void
    ) async throws {
        let clock = ContinuousClock()
        let watch = Watch(lastHeard: clock.now)
        let (limit, silenceError) = (limit, silenceError)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let working = Task {
                    do {
                        try await work { watch.heard(at: clock.now) }
                        watch.answer(.success(()))
                    } catch {
                        watch.answer(.failure(error))
                    }
                }
                let watching = Task {
                    while let quiet = watch.quiet(at: clock.now) {
                        if quiet >= limit {
                            if watch.answer(.failure(silenceError)) { whenSilent() }
                            return
                        }
                        guard (try? await Task.sleep(for: limit - quiet)) != nil else { return }
                    }
                }
                watch.begin(continuation, tasks: [working, watching])
            }
        } onCancel: {
            watch.answer(.failure(CancellationError()))
        }
    }

    /// The one answer a caller gets, whichever of the work, the silence or a cancellation comes
    /// first; the tasks are cancelled as soon as it is given.
    private final class Watch: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Void, any Error>?
            var tasks: [Task<Void, Never>] = []
            /// Given before the continuation was stored (the work can end first).
            var early: Result<Void, any Error>?
            var answered = false
            var lastHeard: ContinuousClock.Instant
        }
        private let state: Mutex<State>

        init(lastHeard: ContinuousClock.Instant) { state = Mutex(State(lastHeard: lastHeard)) }

        func begin(_ continuation: CheckedContinuation<Void, any Error>, tasks: [Task<Void, Never>]) {
            let early = state.withLock { state -> Result<Void, any Error>? in
                if let early = state.early {
                    state.early = nil
                    return early
                }
                state.continuation = continuation
                state.tasks = tasks
                return nil
            }
            if let early {
                for task in tasks { task.cancel() }
                continuation.resume(with: early)
            }
        }

        func heard(at now: ContinuousClock.Instant) { state.withLock { $0.lastHeard = now } }

        /// How long the work has been quiet; nil once the caller has been answered.
        func quiet(at now: ContinuousClock.Instant) -> Duration? {
            state.withLock { $0.answered ? nil : now - $0.lastHeard }
        }

        /// True when this was the answer given (the first one).
        @discardableResult
        func answer(_ result: Result<Void, any Error>) -> Bool {
            let taken = state.withLock { state -> (CheckedContinuation<Void, any Error>?, [Task<Void, Never>])? in
                guard !state.answered else { return nil }
                state.answered = true
                guard let continuation = state.continuation else {
                    state.early = result
                    return (nil, [])
                }
                defer { (state.continuation, state.tasks) = (nil, []) }
                return (continuation, state.tasks)
            }
            guard let (continuation, tasks) = taken else { return false }
            for task in tasks { task.cancel() }
            continuation?.resume(with: result)
            return true
        }
    }
}
