import Hummingbird

/// Reads at most the context's upload limit of a body before any handler sees it: larger bodies
/// get 413 instead of being streamed into a decoder.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = RegentRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var request = request
        if request.method == .post || request.method == .put || request.method == .patch {
            _ = try await request.collectBody(upTo: context.maxUploadSize)
        }
        return try await next(request, context)
    }
}
