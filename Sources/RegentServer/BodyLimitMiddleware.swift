import Hummingbird
import NIOCore

/// Reads at most the context's upload limit of a body before any handler sees it: larger bodies get
/// 413 instead of being streamed into a decoder. An empty body on a write is read as `{}`, so
/// operations whose body is optional (approve, deny) accept a bare POST.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = RegentRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var request = request
        if request.method == .post || request.method == .put || request.method == .patch {
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            if body.readableBytes == 0 {
                var head = request.head
                head.headerFields[.contentType] = "application/json"
                request = Request(head: head, body: .init(buffer: ByteBuffer(string: "{}")))
            }
        }
        return try await next(request, context)
    }
}
