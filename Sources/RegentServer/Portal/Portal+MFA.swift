import Foundation
import Hummingbird
import RegentCore
import RegentEngine

/// Setting up an authenticator app (TOTP): the `otpauth://` link and its key, then a first code.
extension Portal {
    func registerMFA(on router: Router<RegentRequestContext>) {
        router.get("/mfa") { request, _ in
            guard signedIn() != nil else { return Self.redirect("/login") }
            let done = request.uri.queryParameters["done"] == "enrolled"
            return try await page(
                "mfa", title: "Authenticator", done ? ["notice": "Your authenticator app is set up."] : [:])
        }
        router.post("/mfa/begin") { request, _ in
            guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
            _ = try await form(request, session: session)
            do {
                let (secret, uri) = try await engine.sessions.beginTOTPEnrollment(by: actor)
                // The SVG is made from bits alone, so it goes into the page unescaped.
                return try await page(
                    "mfa", title: "Authenticator", ["secret": secret, "uri": uri, "qr": try QRCode(uri).svg])
            } catch let error as RegentError {
                return try await page("mfa", title: "Authenticator", ["error": error.reason], status: error.pageStatus)
            }
        }
        router.post("/mfa/confirm") { request, _ in
            guard let (session, actor) = signedIn() else { return Self.redirect("/login") }
            let fields = try await form(request, session: session)
            do {
                try await engine.sessions.confirmTOTPEnrollment(code: fields["code"] ?? "", session: session, by: actor)
                return Self.redirect("/mfa?done=enrolled")
            } catch let error as RegentError {
                return try await page(
                    "mfa", title: "Authenticator", ["error": "\(error.reason) Start again to get a new key."],
                    status: error.pageStatus)
            }
        }
    }
}
