import HTTPTypes
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Synchronization

/// The methods each path of openapi.yaml accepts, recorded as the generated handlers register, so
/// a known path asked with another method answers 405 with `Allow` (RFC 9110) instead of 404.
final class AllowedMethods: Sendable {
    private let table = Mutex<[(segments: [Substring], methods: Set<HTTPRequest.Method>)]>([])

    func record(_ method: HTTPRequest.Method, _ path: String) {
        let segments = path.split(separator: "/")
        table.withLock { table in
            if let index = table.firstIndex(where: { $0.segments == segments }) {
                table[index].methods.insert(method)
            } else {
                table.append((segments, [method]))
            }
        }
    }

    /// The methods of the template that `path` matches (`{name}` matches any one segment).
    func methods(for path: String) -> Set<HTTPRequest.Method>? {
        let asked = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        return table.withLock { table in
            table.first { entry in
                entry.segments.count == asked.count
                    && zip(entry.segments, asked).allSatisfy { $0.first == "{" || $0 == $1 }
            }?.methods
        }
    }
}

/// Registers the generated handlers on the router and records their methods and paths.
struct RecordingTransport<Context: Hummingbird.RequestContext>: ServerTransport {
    let router: Router<Context>
    let allowed: AllowedMethods

    func register(
        _ handler:
            @Sendable @escaping (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (
                HTTPResponse, HTTPBody?
            ),
        method: HTTPRequest.Method, path: String
    ) throws {
        allowed.record(method, path)
        router.register(handler, method: method, path: path)
    }
}

/// Turns the router's "no route" for a known path into 405 problem+json with `Allow`.
struct MethodNotAllowedMiddleware<Context: Hummingbird.RequestContext>: RouterMiddleware {
    let allowed: AllowedMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let methods = allowed.methods(for: request.uri.path), !methods.contains(request.method) else {
                throw error
            }
            var response = APIProblem(
                status: .methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed",
                detail: "\(request.uri.path) accepts \(Self.allowHeader(methods))"
            ).response
            response.headers[.allow] = Self.allowHeader(methods)
            return response
        }
    }

    static func allowHeader(_ methods: Set<HTTPRequest.Method>) -> String {
        methods.map(\.rawValue).sorted().joined(separator: ", ")
    }
}
