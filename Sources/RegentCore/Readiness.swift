public import Foundation

/// What `/readyz` looks at: facts the engine reads at the moment of asking.
public struct ReadinessFacts: Sendable, Equatable {
    public var now: Date
    /// Whether the database answered the readiness read.
    public var databaseAnswers: Bool
    /// The schema version the database is at, and the one this binary expects.
    public var schemaVersion: Int?
    public var expectedSchemaVersion: Int
    /// When the job due longest ago became due (nil: none is due).
    public var oldestDueJob: Date?
    /// Whether this replica hears the other replicas' changes (always true with none).
    public var hearsChanges: Bool

    public init(
        now: Date, databaseAnswers: Bool, schemaVersion: Int?, expectedSchemaVersion: Int, oldestDueJob: Date?,
        hearsChanges: Bool
    ) {
        self.now = now
        self.databaseAnswers = databaseAnswers
        self.schemaVersion = schemaVersion
        self.expectedSchemaVersion = expectedSchemaVersion
        self.oldestDueJob = oldestDueJob
        self.hearsChanges = hearsChanges
    }
}

/// Whether this replica should receive traffic, check by check. A replica is ready only when its
/// database answers at the schema it was built for, its jobs (grants, revocations, expiries) are
/// not behind by more than the bound, and it hears the other replicas' changes — otherwise its
/// checks could say yes after access ended elsewhere.
public struct Readiness: Sendable, Equatable {
    public enum Check: String, Sendable, CaseIterable {
        case database, migrations, scheduler, changeFeed
    }

    public struct Result: Sendable, Equatable {
        public var ok: Bool
        /// What an operator reads: "ok", or what is wrong.
        public var detail: String
    }

    public var results: [Check: Result]

    public var isReady: Bool { results.values.allSatisfy(\.ok) }

    /// - Parameter schedulerBound: how far behind the oldest due job may be, in seconds.
    public static func assess(_ facts: ReadinessFacts, schedulerBound: TimeInterval) -> Readiness {
        var results: [Check: Result] = [
            .changeFeed: facts.hearsChanges
                ? Result(ok: true, detail: "ok")
                : Result(ok: false, detail: "not listening for the other replicas' changes")
        ]
        guard facts.databaseAnswers else {
            let unknown = Result(ok: false, detail: "unknown: the database does not answer")
            results[.database] = Result(ok: false, detail: "the database does not answer")
            results[.migrations] = unknown
            results[.scheduler] = unknown
            return Readiness(results: results)
        }
        results[.database] = Result(ok: true, detail: "ok")
        let version = facts.schemaVersion ?? 0
        results[.migrations] =
            version == facts.expectedSchemaVersion
            ? Result(ok: true, detail: "ok (schema \(version))")
            : Result(
                ok: false,
                detail: version > facts.expectedSchemaVersion
                    ? "the database is at schema \(version), newer than this binary's \(facts.expectedSchemaVersion)"
                    : "the database is at schema \(version), this binary needs \(facts.expectedSchemaVersion)")
        let behind = facts.oldestDueJob.map { max(0, facts.now.timeIntervalSince($0)) } ?? 0
        results[.scheduler] =
            behind <= schedulerBound
            ? Result(ok: true, detail: "ok (\(Self.seconds(behind)) behind)")
            : Result(
                ok: false,
                detail: "a job due \(Self.seconds(behind)) ago has not run (bound \(Self.seconds(schedulerBound)))")
        return Readiness(results: results)
    }

    private static func seconds(_ value: TimeInterval) -> String {
        String(format: "%.1f s", value)
    }
}
