import Foundation
import Logging
public import PostgresNIO
public import RegentCore

/// Grants PostgreSQL roles to logins: `GRANT <role> TO <login>` on activation, `REVOKE` and the
/// login's sessions terminated at the end, so a session that did `SET ROLE` earlier loses it too.
/// The target's `config.dsn` (`postgres://admin@host:5432/db`) names the admin connection; its
/// password is the secret `password` (a password inside the DSN is refused: config is not secret).
///
/// With `config.mode = ephemeralLogin`, each activation gets a login of its own instead,
/// `<account>_<8 hex of the assignment>`, created `LOGIN VALID UNTIL <end>` with a generated
/// password shown once to the requester: the credential dies by itself even if Regent cannot reach
/// the database at the end. The revocation disables and drops that login.
public struct PostgresProvisioner: Provisioner {
    public let kind = Target.Kind.postgres
    let logger: Logger

    public init(logger: Logger = Logger(label: "regent.connector.postgres")) { self.logger = logger }

    public func sharesGrants(on target: Target) -> Bool { !Self.isEphemeral(target) }

    public func grant(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential? {
        if Self.isEphemeral(spec.target) { return try await grantEphemeralLogin(spec) }
        try await withConnection(to: spec.target, secrets: spec.secrets) { connection in
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "GRANT \(try Self.identifier(spec.value)) TO \(try Self.identifier(spec.account))"),
                logger: logger)
        }
        return nil
    }

    public func revoke(_ spec: GrantSpec) async throws(ExternalFailure) {
        try await withConnection(to: spec.target, secrets: spec.secrets) { connection in
            var logins = [spec.account]
            if Self.isEphemeral(spec.target) {
                logins = try await ephemeralLogins(of: spec, on: connection)
            }
            for login in logins {
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "REVOKE \(try Self.identifier(spec.value)) FROM \(try Self.identifier(login))"),
                    logger: logger)
                if login != spec.account {
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "ALTER ROLE \(try Self.identifier(login)) NOLOGIN"), logger: logger)
                }
                // A session that already did SET ROLE keeps the role's privileges until it ends.
                try await connection.query(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE usename = \(login) AND pid <> pg_backend_pid()
                    """, logger: logger)
                if login != spec.account {
                    // A login that came to own objects stays, disabled and without the role.
                    do {
                        try await connection.query(
                            PostgresQuery(unsafeSQL: "DROP ROLE IF EXISTS \(try Self.identifier(login))"),
                            logger: logger)
                    } catch let error as PSQLError where error.serverInfo?[.sqlState] == "2BP01" {}
                }
            }
        }
    }

    public func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ExternalFailure)
        -> [ObservedGrant]?
    {
        guard !values.isEmpty else { return [] }
        let roles = values.sorted()
        return try await withConnection(to: target, secrets: secrets) { connection in
            let rows = try await connection.query(
                """
                SELECT r.rolname AS role, m.rolname AS member,
                       substring(shobj_description(m.oid, 'pg_authid') FROM '^regent-login:(.*)$') AS owner
                FROM pg_auth_members am
                JOIN pg_roles r ON r.oid = am.roleid
                JOIN pg_roles m ON m.oid = am.member
                WHERE r.rolname = ANY(\(roles))
                """, logger: logger)
            var observed: [ObservedGrant] = []
            for try await (role, member, owner) in rows.decode((String, String, String?).self) {
                // An ephemeral login is reported as the account it was made for.
                observed.append(ObservedGrant(value: role, account: owner ?? member))
            }
            return observed
        }
    }

    static func isEphemeral(_ target: Target) -> Bool { target.config["mode"] == "ephemeralLogin" }

    /// `<account>_<first 8 hex of the assignment id>`, within PostgreSQL's 63 bytes: the account
    /// is cut to 54 bytes at a character boundary, never inside one.
    static func ephemeralLogin(account: String, assignment: Assignment.ID) -> String {
        var kept = ""
        for character in account {
            guard kept.utf8.count + character.utf8.count <= 54 else { break }
            kept.append(character)
        }
        return kept + "_" + assignment.description.replacingOccurrences(of: "-", with: "").prefix(8)
    }

    /// Creates (or, when a crashed attempt made it already, resets) the activation's own login.
    private func grantEphemeralLogin(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential {
        guard let assignment = spec.assignmentId else {
            throw ExternalFailure(transient: false, "an ephemeral login needs an assignment")
        }
        let login = Self.ephemeralLogin(account: spec.account, assignment: assignment)
        // Letters and digits only: safe inside the SQL literal that CREATE ROLE requires.
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let password = String((0..<32).map { _ in alphabet.randomElement(using: &generator)! })
        let validUntil = spec.until.map { "'\($0.formatted(.iso8601))'" } ?? "'infinity'"
        try await withConnection(to: spec.target, secrets: spec.secrets) { connection in
            let name = try Self.identifier(login)
            let exists =
                try await connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(login)", logger: logger)
                .collect().isEmpty == false
            let verb = exists ? "ALTER" : "CREATE"
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "\(verb) ROLE \(name) WITH LOGIN PASSWORD '\(password)' VALID UNTIL \(validUntil)"),
                logger: logger)
            try await connection.query(
                PostgresQuery(
                    unsafeSQL:
                        "COMMENT ON ROLE \(name) IS 'regent-login:\(spec.account.replacingOccurrences(of: "'", with: "''"))'"
                ),
                logger: logger)
            try await connection.query(
                PostgresQuery(unsafeSQL: "GRANT \(try Self.identifier(spec.value)) TO \(name)"), logger: logger)
        }
        return IssuedCredential(login: login, secret: password, validUntil: spec.until)
    }

    /// The logins a revocation takes away: the assignment's own, or (for one found by the
    /// reconciler) every ephemeral login made for the account and the account itself.
    private func ephemeralLogins(of spec: GrantSpec, on connection: PostgresConnection) async throws -> [String] {
        if let assignment = spec.assignmentId {
            return [Self.ephemeralLogin(account: spec.account, assignment: assignment)]
        }
        let marker = "regent-login:\(spec.account)"
        let rows = try await connection.query(
            "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = \(marker)", logger: logger)
        var logins = [spec.account]
        for try await name in rows.decode(String.self) { logins.append(name) }
        return logins
    }

    /// Quotes a PostgreSQL identifier (`"` doubled), so a role or login name is never SQL.
    static func identifier(_ name: String) throws(ExternalFailure) -> String {
        guard (1...63).contains(name.utf8.count), !name.contains("\0") else {
            throw ExternalFailure(transient: false, "'\(name.prefix(64))' is not a PostgreSQL identifier")
        }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func configuration(for target: Target, secrets: TargetSecrets) throws(ExternalFailure)
        -> PostgresConnection.Configuration
    {
        guard let dsn = target.config["dsn"], let url = URLComponents(string: dsn),
            ["postgres", "postgresql"].contains(url.scheme ?? ""), let host = url.host, !host.isEmpty,
            let user = url.user, !user.isEmpty
        else {
            throw ExternalFailure(
                transient: false, "target \(target.name): config.dsn must be postgres://user@host[:port]/database")
        }
        guard url.password == nil else {
            throw ExternalFailure(
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
    ) async throws(ExternalFailure) -> R {
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
        } catch let error as ExternalFailure {
            throw error
        } catch {
            throw Self.classify(error, target: target)
        }
    }

    /// Connection trouble, shutdowns, lack of resources and serialization failures are worth
    /// retrying; anything else the server refused (no such role, no privilege) will not change.
    static func classify(_ error: any Error, target: Target) -> ExternalFailure {
        guard let error = error as? PSQLError else {
            return ExternalFailure(transient: true, "target \(target.name): \(error)")
        }
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return ExternalFailure(transient: true, "target \(target.name): \(error.code)")
        }
        let message = error.serverInfo?[.message] ?? "refused"
        return ExternalFailure(
            transient: isTransient(sqlState: state), "target \(target.name): \(message) (SQLSTATE \(state))")
    }

    /// SQLSTATE classes worth retrying: connection exceptions (08), transaction rollbacks such as
    /// serialization failures (40), insufficient resources (53) and operator intervention (57).
    static func isTransient(sqlState state: String) -> Bool {
        ["08", "40", "53", "57"].contains(String(state.prefix(2)))
    }
}
