import Foundation
import Logging
import PostgresNIO
import RegentCore
import Synchronization

/// The connection pool to the PostgreSQL server that accepts writes, among the hosts `--db` names.
/// At open the hosts are tried in order and the first that is not in recovery wins. When that one
/// stops answering (a transaction fails as unavailable) the hosts are tried again in the
/// background, at most once a second, and the pool moves to whichever host is now the primary —
/// a standby promoted after its primary failed — while transactions in between get 503.
final class PostgresPrimary: Sendable {
    struct Current: Sendable {
        var endpoint: PostgresLocation.Endpoint
        var client: PostgresClient
        var runner: Task<Void, Never>
    }

    let location: PostgresLocation
    private let maximumConnections: Int
    private let logger: Logger
    private let current: Mutex<Current?>
    /// One search at a time, and when the last one began.
    private let searching = Mutex<(running: Bool, last: ContinuousClock.Instant?)>((false, nil))
    private let closed = Mutex(false)

    init(location: PostgresLocation, maximumConnections: Int, logger: Logger) async throws {
        self.location = location
        self.maximumConnections = maximumConnections
        self.logger = logger
        current = Mutex(nil)
        let endpoint = try await Self.writable(location, logger: logger)
        try use(endpoint)
    }

    /// The pool to run a transaction on.
    var client: PostgresClient {
        get throws {
            guard let client = current.withLock({ $0?.client }) else {
                throw RegentError(.unavailable, "the database is closed")
            }
            return client
        }
    }

    /// The host in use now (the replica's own connection follows it).
    var endpoint: PostgresLocation.Endpoint? { current.withLock { $0?.endpoint } }

    /// A transaction found the database unavailable: looks for the primary again, in the background.
    func suspect() {
        let due = searching.withLock { state -> Bool in
            guard !state.running else { return false }
            if let last = state.last, last.duration(to: .now) < .seconds(1) { return false }
            state = (true, .now)
            return true
        }
        guard due else { return }
        Task {
            defer { searching.withLock { $0.running = false } }
            guard let found = try? await Self.writable(location, logger: logger), found != endpoint,
                !closed.withLock({ $0 })
            else { return }
            do {
                try use(found)
                logger.warning(
                    "the database's primary moved; using it now", metadata: ["host": "\(found)"])
            } catch {
                logger.error("cannot use the new primary", metadata: ["host": "\(found)", "error": "\(error)"])
            }
        }
    }

    /// Starts a pool for `endpoint`; the previous one (its server is gone) keeps running for
    /// ``retirement`` first. A pool that has stopped answers no request queued on it afterwards,
    /// not even that request's cancellation, so a transaction that took the old pool just before
    /// the move would wait for ever; kept running, the old pool fails or abandons each of them
    /// within ``PostgresBackend/connectionWait``.
    private func use(_ endpoint: PostgresLocation.Endpoint) throws(StoreError) {
        let client = PostgresClient(
            configuration: try location.clientConfiguration(endpoint, maximumConnections: maximumConnections),
            backgroundLogger: logger)
        let runner = Task { await client.run() }
        let previous = current.withLock { state in
            defer { state = Current(endpoint: endpoint, client: client, runner: runner) }
            return state
        }
        guard let previous else { return }
        let stopping = Task {
            try? await Task.sleep(for: Self.retirement)
            previous.runner.cancel()
            await previous.runner.value
        }
        retired.withLock { $0.append(stopping) }
    }

    /// How long a replaced pool keeps running: longer than any transaction waits for a connection.
    static let retirement: Duration = .seconds(30)
    private let retired = Mutex<[Task<Void, Never>]>([])

    func close() async {
        closed.withLock { $0 = true }
        let last = current.withLock { state in
            defer { state = nil }
            return state
        }
        last?.runner.cancel()
        await last?.runner.value
        for stopping in retired.withLock({ $0 }) {
            stopping.cancel()
            await stopping.value
        }
    }

    /// The first host that accepts a connection and is not a standby. One clear error when none
    /// is: what each host said.
    static func writable(_ location: PostgresLocation, logger: Logger) async throws -> PostgresLocation.Endpoint {
        var reasons: [String] = []
        for (n, endpoint) in location.endpoints.enumerated() {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try location.connectionConfiguration(endpoint), id: n, logger: logger)
                defer { Task { try? await connection.close() } }
                var standby = true
                for try await row in try await connection.query("SELECT pg_is_in_recovery()", logger: logger) {
                    standby = try row.decode(Bool.self)
                }
                if !standby { return endpoint }
                reasons.append("\(endpoint) is a standby")
            } catch let error as StoreError {
                throw error
            } catch {
                reasons.append("\(endpoint): \(PostgresBackend.explain(error))")
            }
        }
        let what =
            location.endpoints.count == 1 ? "cannot connect to \(location)" : "no host of \(location) accepts writes"
        throw StoreError.unavailable("\(what): \(reasons.joined(separator: "; "))")
    }
}
