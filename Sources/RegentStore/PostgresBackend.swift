import Foundation
import Logging
import PostgresKit
import PostgresNIO
import RegentCore
import SQLKit
import Synchronization

/// PostgreSQL for several replicas: a pool of connections (each transaction has one to itself),
/// changes serialised by a transaction-level advisory lock taken first in READ COMMITTED — so each
/// change sees every change committed before it, as on SQLite, while reads run on snapshots of
/// their own and never wait — and one connection of its own per replica that listens for the
/// other replicas' changes and holds the singletons' session-level advisory lock.
final class PostgresBackend: StoreBackend {
    /// Advisory lock keys (`pg_advisory_*` takes one bigint): arbitrary constants, Regent's own.
    enum LockKey: Int64 {
        /// Every change, so the audit chain head and every read-then-write rule are serialised.
        case change = 0x5245_4745_4e54_0001
        /// Held for a replica's life by the one that runs the singletons.
        case singletons = 0x5245_4745_4e54_0002
        /// Schema migrations run once; the other replicas wait.
        case migrations = 0x5245_4745_4e54_0003
        /// Claims of queue rows, one replica at a time (each sees the leases claimed before it).
        case claims = 0x5245_4745_4e54_0004
    }

    static let channel = "regent_changes"
    /// `pg_notify` payloads stay under PostgreSQL's 8000-byte limit; a larger change asks the
    /// other replicas to reload everything instead.
    static let largestPayload = 7000

    private let primary: PostgresPrimary
    private let coordinator: Task<Void, Never>
    /// A yes or no the coordinating task keeps and transactions read: whether this replica holds
    /// the singletons' lock, whether it is listening for the others' changes.
    final class SharedFlag: Sendable {
        private let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
        func set(_ newValue: Bool) { value.withLock { $0 = newValue } }
    }
    private let leading = SharedFlag()
    private let listening = SharedFlag()
    private let published: AsyncStream<StoreChanges>
    let replica: String
    var dialect: StoreDialect { .postgresql }
    /// How long a transaction waits for a pooled connection before it is answered as unavailable
    /// (the pool itself would keep retrying a dead server for a minute).
    static let connectionWait: Duration = .seconds(5)
    /// What a caller is told when the database cannot answer now (503).
    static let noAnswer = RegentError(.unavailable, "the database did not answer; try again")
    /// How long a statement may go without a word from the server before it is given up as
    /// unavailable: long enough for any lock wait a healthy cluster has (30 s by default), short
    /// enough that a statement lost as a primary goes away frees the jobs it holds soon after.
    private let statementSilence: Duration

    init(
        location: PostgresLocation, replica: String, logger: Logger, maximumConnections: Int = 10,
        statementSilence: Duration
    ) async throws {
        // The writable host first, so a wrong password, an unknown database or an unreachable host
        // is one clear error at start, not a pool retrying forever.
        let primary = try await PostgresPrimary(
            location: location, maximumConnections: maximumConnections, logger: logger)
        self.primary = primary
        self.replica = replica
        self.statementSilence = statementSilence
        let (stream, continuation) = AsyncStream.makeStream(
            of: StoreChanges.self, bufferingPolicy: .bufferingNewest(64))
        published = stream
        let (leading, listening) = (leading, listening)
        coordinator = Task {
            await Self.coordinate(
                primary: primary, replica: replica, leading: leading, listening: listening, changes: continuation,
                logger: logger)
        }
    }

    func transaction<R: Sendable>(
        _ kind: TransactionKind, _ body: @Sendable (any SQLDatabase, ChangeRecorder) async throws -> R
    ) async throws -> R {
        let lock: LockKey? =
            switch kind {
            case .change: .change
            case .claim: .claims
            case .read: nil
            }
        return try await transaction(kind, locking: lock, body)
    }

    private func transaction<R: Sendable>(
        _ kind: TransactionKind, locking lock: LockKey?,
        _ body: @Sendable (any SQLDatabase, ChangeRecorder) async throws -> R
    ) async throws -> R {
        do {
            return try await withConnection { connection in
                let db = LiveConnectionDatabase(
                    base: connection.sql(queryLogLevel: nil), connection: connection,
                    silence: lock == .migrations ? nil : self.statementSilence)
                try await db.raw(kind == .read ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN").run()
                // COMMIT and ROLLBACK run in tasks of their own, so a cancelled caller never
                // leaves a pooled connection inside an open transaction.
                do {
                    if let lock {
                        try await db.raw("SELECT pg_advisory_xact_lock(\(bind: lock.rawValue))").run()
                    }
                    let recorder = ChangeRecorder()
                    let result = try await body(db, recorder)
                    try await self.publish(recorder.changes, in: db)
                    try await Task { try await db.raw("COMMIT").run() }.value
                    return result
                } catch {
                    // On a connection the server closed this is refused at once: it rolled back with it.
                    try? await Task { try await db.raw("ROLLBACK").run() }.value
                    throw error
                }
            }
        } catch {
            let classified = Self.classify(error)
            if let failure = classified as? RegentError, failure.code == .unavailable { primary.suspect() }
            throw classified
        }
    }

    /// Whether a transaction got its connection, or gave up waiting for one: exactly one happens.
    private final class Lease: Sendable {
        enum State { case waiting, leased, abandoned }
        private let state = Mutex(State.waiting)
        /// False when the wait was given up first: the body must not run.
        func take() -> Bool { settle(.leased) }
        var isTaken: Bool { state.withLock { $0 == .leased } }
        /// False when the connection came first: the transaction runs to its end.
        func abandon() -> Bool { settle(.abandoned) }

        /// Moves from waiting to `outcome`, once; true when `outcome` is how it ended.
        private func settle(_ outcome: State) -> Bool {
            state.withLock { state in
                if state == .waiting { state = outcome }
                return state == outcome
            }
        }
    }

    /// Runs `body` on a pooled connection of the primary, waiting at most ``connectionWait`` for one.
    private func withConnection<R: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> R)
        async throws -> R
    {
        let client = try primary.client
        let lease = Lease()
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: R?.self) { group in
                group.addTask {
                    do {
                        return try await client.withConnection { connection in
                            guard lease.take() else { throw CancellationError() }
                            return try await body(connection)
                        }
                    } catch  where !lease.isTaken {
                        // No connection came (the pool is stopping, or cannot reach its server).
                        throw Self.noAnswer
                    }
                }
                group.addTask {
                    try await Task.sleep(for: Self.connectionWait)
                    return nil
                }
                while let next = try await group.next() {
                    if let result = next {
                        group.cancelAll()
                        return result
                    }
                    if lease.abandon() {
                        group.cancelAll()
                        throw Self.noAnswer
                    }
                }
                throw Self.noAnswer
            }
        }
    }

    /// Runs `body` once across every replica at a time: a migration waits for the one running.
    func exclusively<R: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await transaction(.change, locking: .migrations) { db, _ in try await body(db) }
    }

    /// Delivered by PostgreSQL to every listener when, and only if, the transaction commits.
    private func publish(_ changes: StoreChanges, in db: any SQLDatabase) async throws {
        guard !changes.isEmpty else { return }
        var changes = changes
        changes.origin = replica
        var payload = String(decoding: try JSONEncoder().encode(changes), as: UTF8.self)
        if payload.utf8.count > Self.largestPayload {
            var everything = StoreChanges.everythingChanged
            everything.origin = replica
            payload = String(decoding: try JSONEncoder().encode(everything), as: UTF8.self)
        }
        try await db.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: payload))").run()
    }

    func changes() -> AsyncStream<StoreChanges> { published }

    var leads: Bool { leading.isSet }
    var hearsChanges: Bool { listening.isSet }

    func close() async throws {
        coordinator.cancel()
        await coordinator.value
        await primary.close()
    }

    /// The replica's own connection, for as long as the store is open: listens for the other
    /// replicas' changes and tries for the singletons' lock every second while another replica
    /// holds it (a lock held by a connection that dies is freed by PostgreSQL, so the singletons
    /// move within a second or two). After every (re)connection the listener asks for a full
    /// reload, since whatever was committed while it was not listening went unheard.
    private static func coordinate(
        primary: PostgresPrimary, replica: String, leading: SharedFlag, listening: SharedFlag,
        changes: AsyncStream<StoreChanges>.Continuation, logger: Logger
    ) async {
        defer { changes.finish() }
        var connectionID = 1
        while !Task.isCancelled {
            connectionID += 1
            do {
                guard let endpoint = primary.endpoint else { return }
                let connection = try await PostgresConnection.connect(
                    configuration: try primary.location.connectionConfiguration(endpoint), id: connectionID,
                    logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: channel) { notifications in
                    listening.set(true)
                    defer { listening.set(false) }
                    changes.yield(.everythingChanged)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await notification in notifications {
                                // A change this binary cannot read (another version's) reloads everything.
                                let change =
                                    (try? JSONDecoder().decode(
                                        StoreChanges.self, from: Data(notification.payload.utf8)))
                                    ?? .everythingChanged
                                guard change.origin != replica else { continue }
                                changes.yield(change)
                            }
                        }
                        group.addTask {
                            while !Task.isCancelled {
                                if leading.isSet {
                                    _ = try await connection.query("SELECT 1", logger: logger)
                                } else {
                                    let rows = try await connection.query(
                                        "SELECT pg_try_advisory_lock(\(LockKey.singletons.rawValue)) AS held",
                                        logger: logger)
                                    var held = false
                                    for try await row in rows { held = try row.decode(Bool.self) }
                                    if held {
                                        leading.set(true)
                                        logger.info(
                                            "this replica now runs the singletons", metadata: ["replica": "\(replica)"])
                                    }
                                }
                                try await Task.sleep(for: .seconds(1))
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning("replica coordination connection lost", metadata: ["error": "\(explain(error))"])
                    primary.suspect()
                }
            }
            leading.set(false)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// What a PostgreSQL failure means to a caller: a database that cannot answer now (no
    /// connection, shutting down, out of resources, a serialisation failure or deadlock) is
    /// `unavailable` — retry later, or on another replica — and an integrity violation is a
    /// conflict with what is stored. Anything else (the caller's own errors) passes unchanged.
    static func classify(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        guard let state = error.serverInfo?[.sqlState] else {
            return Self.noAnswer
        }
        // 25006: a write refused by a server that is read-only now (a primary turned standby).
        if state == "25006" { return Self.noAnswer }
        switch state.prefix(2) {
        case "23": return RegentError(.conflict, "the change conflicts with what is stored")
        case "08", "40", "53", "55", "57", "58":
            return Self.noAnswer
        default: return error
        }
    }

    /// One line for an operator: the server's message where there is one, never the password.
    static func explain(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }
}

/// A transaction's statements, refused at once on a connection the server has closed, and given
/// up on when the server stays silent past `silence`: postgres-nio never answers a statement sent
/// on a connection as it closes, so the transaction — and the scheduler's pass or the request
/// waiting on it — would wait for ever, and the jobs it holds with it. A silent connection is
/// closed, so the pool never hands it out again.
struct LiveConnectionDatabase: SQLDatabase {
    let base: any SQLDatabase
    let connection: PostgresConnection
    /// Nil where a long wait is expected (another replica's migration holds the lock).
    let silence: Duration?

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void)
        -> EventLoopFuture<Void>
    {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        guard !connection.isClosed else { throw PostgresBackend.noAnswer }
        guard let silence else { return try await base.execute(sql: query, onRow) }
        let (base, connection) = (base, connection)
        try await SilenceWatch(limit: silence, silenceError: PostgresBackend.noAnswer).run { heard in
            try await base.execute(sql: query) { row in
                heard()
                onRow(row)
            }
        } whenSilent: {
            connection.logger.warning("the database stayed silent; its connection is closed")
            Task { try? await connection.close() }
        }
    }
}
