public import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL database as `--db` names it:
/// `postgres://USER@HOST:PORT[,HOST:PORT…]/DATABASE?sslmode=verify-full&sslrootcert=PATH`.
/// The password never travels in the URL (it would be logged with it): it comes from
/// `REGENT_DB_PASSWORD` or a file. `sslmode` follows libpq: `disable`, `require` (encrypted, not
/// verified), `verify-ca`, `verify-full` (the default: the server's certificate chains to
/// `sslrootcert`, or the system's roots, and names the host). With several hosts (a primary and
/// its standbys) Regent uses the one that accepts writes, as libpq's
/// `target_session_attrs=read-write` (the only value, and the default) says, and looks again when
/// the one it uses stops answering.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var endpoints: [Endpoint]
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
        guard Self.isPostgres(text), let schemeEnd = text.range(of: "://") else { throw bad("not a postgres:// URL") }
        // URLComponents takes one host: the list is taken out and the rest parsed with a stand-in.
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let at = authority.lastIndex(of: "@")
        let hostList = at.map { authority[authority.index(after: $0)...] } ?? authority[...]
        let userInfo = at.map { String(authority[..<$0]) } ?? ""
        guard let url = URLComponents(string: "postgres://\(userInfo)@stand-in\(rest[authorityEnd...])") else {
            throw bad("not a postgres:// URL")
        }
        var endpoints: [Endpoint] = []
        for item in hostList.split(separator: ",", omittingEmptySubsequences: false) {
            guard let endpoint = URLComponents(string: "postgres://\(item)"), let host = endpoint.host, !host.isEmpty
            else {
                throw bad(hostList.isEmpty ? "the URL names no host" : "cannot read the host \(item.prefix(100))")
            }
            // An IPv6 address is written in brackets; the driver takes it without.
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            endpoints.append(Endpoint(host: bare, port: endpoint.port ?? 5432))
        }
        guard let user = url.user, !user.isEmpty, !userInfo.isEmpty else {
            throw bad("the URL names no user (postgres://USER@HOST/DB)")
        }
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
            case "target_session_attrs":
                // Regent writes: a read-only standby is never the one to use.
                guard item.value == "read-write" else { throw bad("target_session_attrs can only be read-write") }
            default:
                throw bad("unknown parameter \(item.name)")
            }
        }
        self.endpoints = endpoints
        self.user = user
        self.database = database
        self.sslMode = sslMode
        self.rootCertificate = rootCertificate
        self.password = password
    }

    /// The URL without any secret, for logs and messages.
    public var description: String {
        "postgres://\(user)@\(endpoints.map(\.description).joined(separator: ","))/\(database)?sslmode=\(sslMode.rawValue)"
    }

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

    func connectionConfiguration(_ endpoint: Endpoint) throws(StoreError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls = try tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
        } catch let error as StoreError {
            throw error
        } catch {
            throw .invalidLocation("TLS: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    func clientConfiguration(_ endpoint: Endpoint, maximumConnections: Int) throws(StoreError)
        -> PostgresClient.Configuration
    {
        var configuration = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: user, password: password, database: database,
            tls: try tlsConfiguration().map { .require($0) } ?? .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
