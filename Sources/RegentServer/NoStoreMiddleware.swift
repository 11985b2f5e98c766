import HTTPTypes
import Hummingbird

/// Keeps credentials out of every cache. Sessions, API and role tokens, TOTP secrets and one-time
/// credentials all travel in API responses, so every `/v1/…` response — refusals included, which
/// is why this is the outermost middleware — and every response that sets a cookie is `no-store`.
struct NoStoreMiddleware: RouterMiddleware {
    typealias Context = RegentRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        if request.uri.path.hasPrefix("/v1/") || response.headers[.setCookie] != nil {
            response.headers[.cacheControl] = "no-store"
        }
        return response
    }
}
