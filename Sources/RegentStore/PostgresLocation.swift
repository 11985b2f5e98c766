public import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL database as `--db` names it:
/// `postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full&sslrootcert=PATH`.
/// The password never travels in the URL (it would be logged with it): it comes from
/// `REGENT_DB_PASSWORD` or a file. `sslmode` follows libpq: `disable`, `require` (encrypted, not
/// verified), `verify-ca`, `verify-full` (the default: the server's certificate chains to
/// `sslrootcert`, or the system's roots, and names the host).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var sslMode: SSLMode
    public var rootCertificate: String?
    public var password: String?

    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(parsing text: String, password: String?) throws(StoreError) {
        func bad(_ why: String) -> StoreError { .invalidLocation(why) }
        guard Self.isPostgres(text), let url = URLComponents(string: text) else {
            throw bad("not a postgres:// URL")
        }
        guard let host = url.host, !host.isEmpty else {
            if text.contains(",") { throw bad("several hosts are not supported yet; name the primary") }
            throw bad("the URL names no host")
        }
        guard let user = url.user, !user.isEmpty else { throw bad("the URL names no user (postgres://USER@HOST/DB)") }
        guard url.password == nil else {
            throw bad("the URL holds a password; give it in REGENT_DB_PASSWORD or --db-password-file instead")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw bad("the URL names no database") }
        var sslMode = SSLMode.verifyFull
        var rootCertificate: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw bad(
                        "sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else { throw bad("sslrootcert names no file") }
                rootCertificate = path
            default:
                throw bad("unknown parameter \(item.name)")
            }
        }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user
        self.database = database
        self.sslMode = sslMode
        self.rootCertificate = rootCertificate
        self.password = password
    }

    /// The URL without any secret, for logs and messages.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)" }

    func tlsConfiguration() throws(StoreError) -> TLSConfiguration? {
        guard sslMode != .disable else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return nil
        case .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let rootCertificate {
            guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                throw .invalidLocation("cannot read sslrootcert \(rootCertificate)")
            }
            tls.trustRoots = .file(rootCertificate)
        }
        return tls
    }

    func connectionConfiguration() throws(StoreError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls = try tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
        } catch let error as StoreError {
            throw error
        } catch {
            throw .invalidLocation("TLS: \(error)")
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    func clientConfiguration(maximumConnections: Int) throws(StoreError) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: try tlsConfiguration().map { .require($0) } ?? .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
