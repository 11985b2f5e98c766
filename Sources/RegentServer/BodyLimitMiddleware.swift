import Hummingbird
import NIOCore

/// Reads at most the context's upload limit of a body before any handler sees it: larger bodies get
/// 413 instead of being streamed into a decoder. An empty body on a write is read as `{}`, so
/// operations whose body is optional (approve, deny) accept a bare POST. A manifest (plan, apply)
/// may be larger: its YAML is bounded at 4 MiB by the CLI, which its JSON form can exceed.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = RegentRequestContext
    static let manifestLimit = 16 << 20

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var request = request
        if request.method == .post || request.method == .put || request.method == .patch {
            let limit = request.uri.path.hasPrefix("/v1/manifest/") ? Self.manifestLimit : context.maxUploadSize
            let body = try await request.collectBody(upTo: limit)
            if body.readableBytes == 0 {
                var head = request.head
                head.headerFields[.contentType] = "application/json"
                request = Request(head: head, body: .init(buffer: ByteBuffer(string: "{}")))
            }
        }
        return try await next(request, context)
    }
}
