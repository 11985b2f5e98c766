import Foundation
import Hummingbird
import RegentCore
import RegentEngine

/// "Sign in with <provider>": off to the provider, and back with a session. The callback answers
/// with a page that moves on by itself rather than a redirect: the session cookie is
/// SameSite=Strict, and a browser does not send it along a redirect chain that began at the
/// provider's site. For `regent login --sso` the page asks before it hands the CLI its code.
extension Portal {
    func registerProviderSignIn(on router: Router<RegentRequestContext>) {
        router.get("/login/provider/{name}") { request, context in
            guard let provider = providers.first(where: { $0.name == context.parameters.get("name") }) else {
                return try await page(
                    "login", title: "Sign in", ["error": "no such sign-in provider"], status: .notFound)
            }
            let stepUp = request.uri.queryParameters["stepUp"] == "1"
            do {
                return Self.redirect(
                    try await provider.begin(
                        returnTo: String(request.uri.queryParameters["return"] ?? "/roles"), stepUp: stepUp
                    )
                    .absoluteString)
            } catch {
                return try await page(
                    "login", title: "Sign in", ["error": "\(provider.name) cannot be reached; try again"],
                    status: .serviceUnavailable)
            }
        }
        router.get("/login/provider/{name}/callback") { request, context in
            guard let provider = providers.first(where: { $0.name == context.parameters.get("name") }) else {
                return try await page(
                    "login", title: "Sign in", ["error": "no such sign-in provider"], status: .notFound)
            }
            let query = request.uri.queryParameters
            let caller = Caller.current
            do {
                let completion = try await provider.complete(
                    code: query["code"].map(String.init), state: query["state"].map(String.init),
                    error: query["error"].map(String.init), sourceAddress: caller.sourceAddress,
                    userAgent: caller.userAgent)
                guard case .session(let signedIn, let returnTo) = completion else {
                    // Asked, not sent: a link from someone else must not sign a command line in
                    // as this person without them seeing it.
                    guard case .handoff(let url) = completion else { return Self.redirect("/login") }
                    return try await page(
                        "signed-in", title: "Sign in the command line", ["next": url.absoluteString, "cli": true])
                }
                caller.cookies.setSession(
                    signedIn.token, maxAge: Int(signedIn.expiresAt.timeIntervalSince(engine.clock.now())))
                let next = signedIn.mfaRequired ? "/login" : returnTo
                return try await page("signed-in", title: "Signed in", ["refresh": next, "next": next])
            } catch let error as RegentError {
                return try await page("login", title: "Sign in", ["error": error.reason], status: error.pageStatus)
            }
        }
    }
}
