public import Hummingbird
public import Logging
import OpenAPIHummingbird
import RegentAPI
public import RegentCore
public import RegentEngine

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

/// Builds the HTTP application over an engine that has already started (migrated, index loaded,
/// overdue work enforced), so the server accepts nothing before the state is safe.
public func buildApplication(
    engine: Engine, configuration: ServerConfiguration, logger: Logger = Logger(label: "regent.server"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
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
    try APIHandler(engine: engine, issuer: configuration.issuer).registerHandlers(
        on: RecordingTransport(router: router, allowed: allowed), configuration: .regent)
    try Portal.load(engine: engine).register(on: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Regent"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}
