public import Hummingbird
public import NIOCore

/// The request context of every route: the peer address (for audit and conditional access) and a
/// 1 MiB body limit.
public struct RegentRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { 1 << 20 }
}
