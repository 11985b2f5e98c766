import ArgumentParser
import Crypto
import Foundation
import Hummingbird
import Logging
import RegentAudit
import RegentConnectors
import RegentCore
import RegentEngine
import RegentServer
import RegentStore
import UnixSignals

/// `regent serve`: the whole application, assembled in one place from configuration.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Regent server.")

    @Option(help: "Address to listen on (REGENT_LISTEN). Default 127.0.0.1:8080.")
    var listen: String?
    @Option(
        help:
            "Database (REGENT_DB): sqlite:PATH or postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=PATH (password in REGENT_DB_PASSWORD or REGENT_DB_PASSWORD_FILE). Default sqlite:regent.db."
    )
    var db: String?
    @Option(
        name: .customLong("data-dir"), help: "Directory for keys (REGENT_DATA_DIR). Default: the working directory.")
    var dataDir: String?
    @Option(
        name: .customLong("trusted-proxies"),
        help: "Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (REGENT_TRUSTED_PROXIES).")
    var trustedProxies: String?
    @Option(
        name: .customLong("public-url"),
        help: "How clients reach Regent; the issuer of role tokens (REGENT_PUBLIC_URL).")
    var publicURL: String?
    @Option(
        name: .customLong("minimum-duration"),
        help: "Shortest assignment or activation (REGENT_MINIMUM_DURATION). Default PT5M.")
    var minimumDuration: String?
    @Option(
        name: .customLong("self-deactivation-delay"),
        help: "No self-deactivation within this long after activation (REGENT_SELF_DEACTIVATION_DELAY). Default PT5M.")
    var selfDeactivationDelay: String?
    @Option(
        name: .customLong("reconcile-interval"),
        help: "How often every target is compared with the assignments (REGENT_RECONCILE_INTERVAL). Default PT30S.")
    var reconcileInterval: String?
    @Option(
        name: .customLong("disabled-eligibility"),
        help:
            "keep or remove a disabled user's eligible assignments (REGENT_DISABLED_ELIGIBILITY); their activations end either way. Default keep."
    )
    var disabledEligibility: String?

    @Option(
        name: .customLong("manifest-edits"),
        help:
            "refuse or allow changes through the API and portal to what a manifest applied (REGENT_MANIFEST_EDITS); allowed ones show as drift in the next plan. Default refuse."
    )
    var manifestEdits: String?

    @Option(
        name: .customLong("password-sign-in"),
        help:
            "everyone, or break-glass: only the accounts named in the breakGlassUsed alert rule, when people sign in through --oidc-issuer (REGENT_PASSWORD_SIGN_IN). Default everyone."
    )
    var passwordSignIn: String?

    @OptionGroup var notifications: NotificationOptions
    @OptionGroup var openID: OpenIDOptions

    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (REGENT_LOG_LEVEL). Default info.")
    var logLevel: String?

    @Option(
        name: .customLong("config"),
        help:
            "A YAML file of settings, keyed by the flags' names, read after flags and environment (REGENT_CONFIG). Default regent.yaml in the working directory, when there is one."
    )
    var config: String?
    @Flag(
        name: .customLong("print-config"),
        help: "Show the effective settings, each with where it came from (secrets masked), and exit.")
    var printConfig = false

    /// Loads the settings file, if any. Its keys are the flags' names: each is checked by asking
    /// this command's own parser, so the file knows exactly the settings the flags do.
    private func loadSettingsFile() throws {
        let environment = ProcessInfo.processInfo.environment
        guard
            let path = config ?? environment["REGENT_CONFIG"]
                ?? (FileManager.default.fileExists(atPath: "regent.yaml") ? "regent.yaml" : nil)
        else { return }
        try SettingSources.shared.load(path) { name in
            !["config", "print-config"].contains(name) && !name.hasPrefix("-")
                && (try? Serve.parse(["--\(name)", "x"])) != nil
        }
    }

    func run() async throws {
        do {
            try loadSettingsFile()
        } catch {
            throw Regent.fail("\(error)")
        }
        let levelText = setting(logLevel, "log-level", default: "info")
        guard let level = Logger.Level(rawValue: levelText) else {
            throw Regent.fail(
                "--log-level takes one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // Every logger of the process (the store's, the HTTP server's, the drivers') at this level.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "regent")
        logger.logLevel = level
        let settings: Settings
        do {
            settings = try resolve()
        } catch {
            throw Regent.fail("\(error)")
        }
        if printConfig {
            print(SettingSources.shared.printed())
            return
        }
        let (server, database, dataDirectory) = (settings.server, settings.database, settings.dataDirectory)

        let clock = SystemClock()
        let store: SQLStore
        let signer: AuditSigner
        let secrets: SecretBox
        let sshAuthority: SSHCertificateAuthority
        do {
            signer = try AuditSigner.loadOrCreate(in: dataDirectory)
            secrets = try SecretBox.loadOrCreate(in: dataDirectory)
            store = try await database.open()
            sshAuthority = try Self.sshAuthority(
                in: dataDirectory, ledger: StoreSSHCertificateLedger(store: store, clock: clock))
            try await LegacySSHLedger.importIfPresent(
                in: sshAuthority.revocationListURL.deletingLastPathComponent(), into: store)
        } catch {
            throw Regent.fail("\(error)")
        }
        let engine = Engine(
            store: store, clock: clock, configuration: settings.engine, signer: signer, secrets: secrets,
            passwords: BcryptPasswords(),
            provisioners: ProvisionerRegistry([
                PostgresProvisioner(logger: logger), sshAuthority, SudoProvisioner(), WebhookProvisioner(),
            ]), logger: logger)
        do {
            try await bootstrapIfEmpty(engine)
        } catch {
            try? await store.close()
            throw Regent.fail("cannot start: \(error)")
        }
        let app: any ApplicationProtocol
        do {
            app = try buildApplication(
                engine: engine, configuration: server,
                signInProviders: settings.signInProviders.map { $0.signIn(engine: engine) },
                background: .standard(
                    transport: StandardNotificationTransport(settings: settings.engine.notifications)),
                logger: logger
            ) { port in
                say("Regent is listening on http://\(server.host):\(port)")
            }
        } catch {
            try? await store.close()
            throw Regent.fail("cannot start: \(error)")
        }
        // The store is closed whatever happened, so nothing is left half-written; the scheduler
        // signs a last checkpoint as it stops.
        var failure: (any Error)?
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            failure = error
        }
        try await store.close()
        if let failure { throw Regent.fail("stopped on an error: \(failure)") }
        say("Regent stopped.")
    }

    /// The SSH user CA: its key beside the other keys, its ledger in the database, its revocation
    /// list (for sshd's `RevokedKeys`) in `ssh/revoked.krl`.
    static func sshAuthority(in dataDirectory: URL, ledger: any SSHCertificateLedger) throws -> SSHCertificateAuthority
    {
        let key = try Curve25519.Signing.PrivateKey(
            rawRepresentation: KeyFile.loadOrCreate(named: SSHCertificateAuthority.keyFileName, in: dataDirectory) {
                Curve25519.Signing.PrivateKey().rawRepresentation
            })
        return SSHCertificateAuthority(
            key: key, ledger: ledger, revocationListURL: dataDirectory.appendingPathComponent("ssh/revoked.krl"))
    }

    struct Settings {
        var server: ServerConfiguration
        var database: DatabaseLocation
        var dataDirectory: URL
        var engine: EngineConfiguration
        var signInProviders: [ConfiguredProvider]
    }

    private func resolve() throws -> Settings {
        let listenText = setting(listen, "listen", default: "127.0.0.1:8080")
        guard let colon = listenText.lastIndex(of: ":"), let port = Int(listenText[listenText.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:8080") }
        var host = String(listenText[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let database = try DatabaseLocation(parsing: setting(db, "db", default: "sqlite:regent.db"))
        let directory = URL(fileURLWithPath: setting(dataDir, "data-dir", default: "."))
        let safeguards = Safeguards(
            minimumDuration: try ISODuration(
                parsing: setting(minimumDuration, "minimum-duration", default: "PT5M"), field: "--minimum-duration"),
            selfDeactivationDelay: try ISODuration(
                parsing: setting(selfDeactivationDelay, "self-deactivation-delay", default: "PT5M"),
                field: "--self-deactivation-delay"))
        let issuerURL = setting(publicURL, "public-url", default: "")
        let proxies = try setting(trustedProxies, "trusted-proxies", default: "").split(separator: ",").map {
            try NetworkRange(parsing: $0.trimmingCharacters(in: .whitespaces), field: "--trusted-proxies")
        }
        let server = ServerConfiguration(
            host: host, port: port, publicURL: issuerURL.isEmpty ? nil : issuerURL, trustedProxies: proxies)
        let reconcile = try ISODuration(
            parsing: setting(reconcileInterval, "reconcile-interval", default: "PT30S"), field: "--reconcile-interval")
        guard reconcile.timeInterval >= 1 else { throw ValidationError("--reconcile-interval is at least PT1S") }
        guard
            let eligibility = AccessWithdrawal.DisabledEligibility(
                rawValue: setting(disabledEligibility, "disabled-eligibility", default: "keep"))
        else { throw ValidationError("--disabled-eligibility takes keep or remove") }
        guard
            let passwords = EngineConfiguration.PasswordSignIn(
                rawValue: setting(passwordSignIn, "password-sign-in", default: "everyone"))
        else { throw ValidationError("--password-sign-in takes everyone or break-glass") }
        guard
            let managedEdits = EngineConfiguration.ManagedEdits(
                rawValue: setting(manifestEdits, "manifest-edits", default: "refuse"))
        else { throw ValidationError("--manifest-edits takes refuse or allow") }
        guard passwords == .everyone || openID.isConfigured else {
            throw ValidationError(
                "--password-sign-in break-glass needs --oidc-issuer or --oidc-provider: people must have a way in")
        }
        return Settings(
            server: server, database: database, dataDirectory: directory,
            engine: EngineConfiguration(
                safeguards: safeguards, reconcileInterval: reconcile.timeInterval,
                notifications: try notifications.resolve(portalURL: issuerURL.isEmpty ? nil : issuerURL),
                disabledEligibility: eligibility, passwordSignIn: passwords, managedEdits: managedEdits),
            signInProviders: try openID.resolve(publicURL: issuerURL))
    }

    /// On an empty database: creates `admin` with `REGENT_BOOTSTRAP_PASSWORD` or a one-time password
    /// printed once here, and nowhere else.
    private func bootstrapIfEmpty(_ engine: Engine) async throws {
        let given = ProcessInfo.processInfo.environment["REGENT_BOOTSTRAP_PASSWORD"]
        let password = given ?? Self.oneTimePassword()
        guard try await engine.bootstrap(administratorPassword: password) else { return }
        if given == nil {
            say("Created the administrator 'admin' with the one-time password: \(password)")
            say("It is shown only this once. Sign in and make admin rights eligible rather than permanent.")
        } else {
            say("Created the administrator 'admin' with the password from REGENT_BOOTSTRAP_PASSWORD.")
        }
    }

    static func oneTimePassword() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
