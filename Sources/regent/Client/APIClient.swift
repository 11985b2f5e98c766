import ArgumentParser
import Foundation
import HTTPTypes
import OpenAPIRuntime
import OpenAPIURLSession
import RegentAPI

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Options every client command takes.
struct ClientOptions: ParsableArguments {
    @Option(
        help: "Regent server URL (REGENT_SERVER); default: the one from `regent login`, else http://127.0.0.1:8080.")
    var server: String?
    @Flag(help: "Print JSON for scripts instead of a table.")
    var json = false

    /// The generated client, signed in with the stored session unless `signedIn` is false.
    /// `timeout` bounds a silent server (URLSession's 60 s unless a call, an apply, needs longer).
    func client(signedIn: Bool = true, otp: String? = nil, timeout: TimeInterval? = nil) throws -> Client {
        let stored = Credentials.load()
        let base =
            server ?? ProcessInfo.processInfo.environment["REGENT_SERVER"] ?? stored?.server ?? "http://127.0.0.1:8080"
        guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https" else {
            throw Regent.fail("--server is not an http(s) URL: \(base)")
        }
        var token: String?
        if signedIn {
            guard let stored else { throw Regent.fail("not signed in; run `regent login` first") }
            token = stored.token
        }
        var transport = URLSessionTransport()
        if let timeout {
            let settings = URLSessionConfiguration.default
            settings.timeoutIntervalForRequest = timeout
            transport = URLSessionTransport(configuration: .init(session: URLSession(configuration: settings)))
        }
        return Client(
            serverURL: url, configuration: .regent, transport: transport,
            middlewares: [HeadersMiddleware(token: token, otp: otp)])
    }

    var serverURL: String {
        server ?? ProcessInfo.processInfo.environment["REGENT_SERVER"] ?? Credentials.load()?.server
            ?? "http://127.0.0.1:8080"
    }
}

/// Adds the bearer token and, for a step-up, the TOTP code to every call.
struct HeadersMiddleware: ClientMiddleware {
    let token: String?
    let otp: String?

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let token { request.headerFields[.authorization] = "Bearer \(token)" }
        if let otp { request.headerFields[HTTPField.Name("X-Regent-OTP")!] = otp }
        return try await next(request, body, baseURL)
    }
}

/// Turns any response that is not the expected one into one line on stderr and a failing exit.
func failure(_ problem: Components.Schemas.Problem) -> ExitCode {
    if let rules = problem.failedRules, !rules.isEmpty {
        return Regent.fail("\(problem.title): \(rules.joined(separator: ", "))")
    }
    var line = problem.title
    if let detail = problem.detail { line += ": \(detail)" }
    if let field = problem.field, !(problem.detail ?? "").contains(field) { line += " (\(field))" }
    return Regent.fail(line)
}

func failure(status: Int) -> ExitCode { Regent.fail("the server answered HTTP \(status)") }

/// Reads a secret from the terminal without echo, or a line from standard input when not a terminal.
func readSecret(_ prompt: String) -> String {
    if isatty(0) == 1, let pointer = getpass(prompt) { return String(cString: pointer) }
    return readLine(strippingNewline: true) ?? ""
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A plain table: a header row and left-aligned columns.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    for row in [header] + rows {
        print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
