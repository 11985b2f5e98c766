import Foundation
import Logging
public import PostgresNIO
public import RegentCore

/// Grants PostgreSQL roles to logins: `GRANT <role> TO <login>` on activation, `REVOKE` and the
/// login's sessions terminated at the end, so a session that did `SET ROLE` earlier loses it too.
/// The target's `config.dsn` (`postgres://admin@host:5432/db`) names the admin connection; its
/// password is the secret `password` (a password inside the DSN is refused: config is not secret).
public struct PostgresProvisioner: Provisioner {
    public let kind = Target.Kind.postgres
    let logger: Logger

    public init(logger: Logger = Logger(label: "regent.connector.postgres")) { self.logger = logger }

    public func grant(_ spec: GrantSpec) async throws(ProvisionError) {
        try await withConnection(to: spec.target, secrets: spec.secrets) { connection in
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "GRANT \(try Self.identifier(spec.value)) TO \(try Self.identifier(spec.account))"),
                logger: logger)
        }
    }

    public func revoke(_ spec: GrantSpec) async throws(ProvisionError) {
        try await withConnection(to: spec.target, secrets: spec.secrets) { connection in
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "REVOKE \(try Self.identifier(spec.value)) FROM \(try Self.identifier(spec.account))"),
                logger: logger)
            // A session that already did SET ROLE keeps the role's privileges until it ends.
            let account = spec.account
            try await connection.query(
                """
                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                WHERE usename = \(account) AND pid <> pg_backend_pid()
                """, logger: logger)
        }
    }

    public func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ProvisionError)
        -> [ObservedGrant]?
    {
        guard !values.isEmpty else { return [] }
        let roles = values.sorted()
        return try await withConnection(to: target, secrets: secrets) { connection in
            let rows = try await connection.query(
                """
                SELECT r.rolname AS role, m.rolname AS member
                FROM pg_auth_members am
                JOIN pg_roles r ON r.oid = am.roleid
                JOIN pg_roles m ON m.oid = am.member
                WHERE r.rolname = ANY(\(roles))
                """, logger: logger)
            var observed: [ObservedGrant] = []
            for try await (role, member) in rows.decode((String, String).self) {
                observed.append(ObservedGrant(value: role, account: member))
            }
            return observed
        }
    }

    /// Quotes a PostgreSQL identifier (`"` doubled), so a role or login name is never SQL.
    static func identifier(_ name: String) throws(ProvisionError) -> String {
        guard (1...63).contains(name.utf8.count), !name.contains("\0") else {
            throw ProvisionError(transient: false, "'\(name.prefix(64))' is not a PostgreSQL identifier")
        }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func configuration(for target: Target, secrets: TargetSecrets) throws(ProvisionError)
        -> PostgresConnection.Configuration
    {
        guard let dsn = target.config["dsn"], let url = URLComponents(string: dsn),
            ["postgres", "postgresql"].contains(url.scheme ?? ""), let host = url.host, !host.isEmpty,
            let user = url.user, !user.isEmpty
        else {
            throw ProvisionError(
                transient: false, "target \(target.name): config.dsn must be postgres://user@host[:port]/database")
        }
        guard url.password == nil else {
            throw ProvisionError(
                transient: false, "target \(target.name): put the password in secrets.password, not in the DSN")
        }
        let database = url.path.drop { $0 == "/" }
        var configuration = PostgresConnection.Configuration(
            host: host, port: url.port ?? 5432, username: user, password: secrets["password"],
            database: database.isEmpty ? nil : String(database), tls: .disable)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    private func withConnection<R: Sendable>(
        to target: Target, secrets: TargetSecrets, _ body: (PostgresConnection) async throws -> R
    ) async throws(ProvisionError) -> R {
        let configuration = try Self.configuration(for: target, secrets: secrets)
        do {
            let connection = try await PostgresConnection.connect(
                configuration: configuration, id: Int.random(in: 1...Int.max), logger: logger)
            do {
                let result = try await body(connection)
                try? await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        } catch let error as ProvisionError {
            throw error
        } catch {
            throw Self.classify(error, target: target)
        }
    }

    /// Connection trouble, shutdowns, lack of resources and serialization failures are worth
    /// retrying; anything else the server refused (no such role, no privilege) will not change.
    static func classify(_ error: any Error, target: Target) -> ProvisionError {
        guard let error = error as? PSQLError else {
            return ProvisionError(transient: true, "target \(target.name): \(error)")
        }
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return ProvisionError(transient: true, "target \(target.name): \(error.code)")
        }
        let message = error.serverInfo?[.message] ?? "refused"
        let transientClasses = ["08", "40", "53", "57"]
        return ProvisionError(
            transient: transientClasses.contains(String(state.prefix(2))),
            "target \(target.name): \(message) (SQLSTATE \(state))")
    }
}
