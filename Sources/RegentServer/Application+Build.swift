public import Hummingbird
public import Logging
import OpenAPIHummingbird
import RegentAPI
public import RegentCore
public import RegentEngine
import ServiceLifecycle

/// Where and how the HTTP server listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// How clients reach Regent; the issuer of role tokens. Default: http://host:port.
    public var publicURL: String?
    /// Reverse proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored, so a
    /// client cannot claim an allowed network.
    public var trustedProxies: [NetworkRange]

    public init(
        host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil, trustedProxies: [NetworkRange] = []
    ) {
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.trustedProxies = trustedProxies
    }

    var issuer: String { publicURL ?? "http://\(host):\(port)" }
}

/// What runs beside the HTTP server.
public struct BackgroundServices: Sendable {
    /// How the notifier sends; nil: no background service runs.
    var transport: (any NotificationTransport)?

    /// The scheduler, reconciler, governance monitor and notifier, sending through `transport`.
    public static func standard(transport: any NotificationTransport) -> Self { Self(transport: transport) }

    /// None: for tests that move a manual clock and run each pass themselves.
    public static let none = Self(transport: nil)

    func services(_ engine: Engine) -> [any Service] {
        guard let transport else { return [] }
        return [
            Scheduler(engine: engine), Reconciler(engine: engine), GovernanceMonitor(engine: engine),
            Notifier(engine: engine, transport: transport), ReplicaSync(engine: engine),
        ]
    }
}

/// Builds Regent: the HTTP application and its background services over one engine. The engine
/// starts (leases freed, index loaded, overdue timers enforced) before the server binds, so it
/// accepts nothing before the state is safe, and the background services wait for that start.
public func buildApplication(
    engine: Engine, configuration: ServerConfiguration, signInProviders: [ProviderSignIn] = [],
    background: BackgroundServices,
    logger: Logger = Logger(label: "regent.server"), onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = Router(context: RegentRequestContext.self)
    let allowed = AllowedMethods()
    router.middlewares.add(NoStoreMiddleware())
    router.middlewares.add(ProblemMiddleware())
    router.middlewares.add(MethodNotAllowedMiddleware(allowed: allowed))
    router.middlewares.add(BodyLimitMiddleware())
    router.middlewares.add(
        AuthenticationMiddleware(
            engine: engine, trustedProxies: configuration.trustedProxies,
            secureCookies: configuration.issuer.hasPrefix("https://")))
    router.middlewares.add(CheckFastPathMiddleware(engine: engine))
    try APIHandler(engine: engine, issuer: configuration.issuer, signInProviders: signInProviders).registerHandlers(
        on: RecordingTransport(router: router, allowed: allowed), configuration: .regent)
    try Portal.load(engine: engine, providers: signInProviders).register(on: router)
    SCIMHandler(engine: engine, base: configuration.issuer + SCIMHandler.prefix, discovery: try SCIMDiscovery.load())
        .register(on: router)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Regent"),
        services: background.services(engine),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
    app.beforeServerStarts { try await engine.start() }
    return app
}
