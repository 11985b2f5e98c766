import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime
import RegentCore

/// An RFC 9457 problem. Every error a client can cause becomes one of these in ``ProblemMiddleware``,
/// the one place where errors are mapped to HTTP.
struct APIProblem: Error, Sendable {
    var status: HTTPResponse.Status
    var slug: String
    var title: String
    var detail: String?
    var field: String?
    var failedRules: [String] = []

    static let unauthenticated = APIProblem(
        status: .unauthorized, slug: "unauthenticated", title: "Sign in first",
        detail: "send Authorization: Bearer <token> or the session cookie")

    static func invalid(_ field: String, _ detail: String) -> APIProblem {
        APIProblem(status: .badRequest, slug: "invalid-argument", title: "Invalid input", detail: detail, field: field)
    }

    init(
        status: HTTPResponse.Status, slug: String, title: String, detail: String? = nil, field: String? = nil,
        failedRules: [String] = []
    ) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.field = field
        self.failedRules = failedRules
    }

    init(_ error: RegentError) {
        let (status, slug, title): (HTTPResponse.Status, String, String) =
            switch error.code {
            case .invalidArgument: (.badRequest, "invalid-argument", "Invalid input")
            case .notFound: (.notFound, "not-found", "Not found")
            case .unauthenticated: (.unauthorized, "invalid-credentials", "Invalid username or password")
            case .accessDenied: (.forbidden, "access-denied", "Not allowed")
            case .invalidTransition: (.conflict, "invalid-transition", "Not possible in the current state")
            case .conflict: (.conflict, "conflict", "Conflict")
            case .policyViolation: (.unprocessableContent, "policy-violation", "Refused by policy")
            case .mfaRequired: (.unauthorized, "mfa-required", "A fresh MFA verification is required")
            case .tooManyAttempts: (.tooManyRequests, "login-locked", "Too many failed attempts; try again later")
            case .unavailable: (.serviceUnavailable, "unavailable", "Temporarily unavailable")
            }
        self.init(
            status: status, slug: slug, title: title, detail: error.reason, field: error.field,
            failedRules: error.failedRules.map(\.rawValue))
    }

    var response: Response {
        var body: [String: Any] = ["type": "urn:regent:problem:\(slug)", "title": title, "status": status.code]
        if let detail { body["detail"] = detail }
        if let field { body["field"] = field }
        if !failedRules.isEmpty { body["failedRules"] = failedRules }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/problem+json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error into problem+json: domain refusals by their code, malformed input as 400,
/// oversized bodies as 413, a database that does not answer as 503, and anything unexpected as a
/// logged 500 that reveals nothing.
struct ProblemMiddleware<Context: Hummingbird.RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return Self.problem(for: error, logger: context.logger).response
        }
    }

    static func problem(for error: any Error, logger: Logger) -> APIProblem {
        switch error {
        case let problem as APIProblem:
            return problem
        case let error as RegentError:
            return APIProblem(error)
        case let error as ServerError:
            // The generated code wraps what a handler threw; its own parsing failures carry a 4xx status.
            if error.underlyingError is APIProblem || error.underlyingError is RegentError
                || error.underlyingError is DecodingError || error.underlyingError is any HTTPResponseError
            {
                return problem(for: error.underlyingError, logger: logger)
            }
            if (400..<500).contains(error.httpStatus.code) {
                return APIProblem(
                    status: .badRequest, slug: "invalid-body", title: "Malformed request",
                    detail: String(error.causeDescription.prefix(300)))
            }
            return problem(for: error.underlyingError, logger: logger)
        case let error as DecodingError:
            return APIProblem(
                status: .badRequest, slug: "invalid-body", title: "Malformed request", detail: Self.describe(error))
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            return APIProblem(status: .contentTooLarge, slug: "body-too-large", title: "The body is over 1 MiB")
        case let error as any HTTPResponseError where error.status.code < 500:
            return APIProblem(status: error.status, slug: "http-\(error.status.code)", title: error.status.reasonPhrase)
        default:
            logger.error("unhandled error", metadata: ["error": "\(error)"])
            return APIProblem(status: .internalServerError, slug: "internal", title: "Internal error")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "missing field \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "bad value at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        @unknown default: "malformed JSON"
        }
    }
}
