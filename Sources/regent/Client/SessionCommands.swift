import ArgumentParser
import Foundation
import RegentAPI

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Sign in; asks for the password (and a TOTP code when enrolled), or with --sso through the organisation's provider in a browser; keeps the session (0600)."
    )

    @OptionGroup var options: ClientOptions
    @Option(help: "User name; asked for when absent.")
    var username: String?
    @Flag(help: "Sign in through the organisation's OpenID provider in a browser.")
    var sso = false
    @Option(help: "The provider's name on the server (its --oidc-name). Default SSO.")
    var provider = "SSO"

    func run() async throws {
        if sso { return try await signInThroughProvider() }
        let name: String
        if let username {
            name = username
        } else {
            print("Username: ", terminator: "")
            name = readLine() ?? ""
        }
        let password = readSecret("Password: ")
        let output = try await options.client(signedIn: false).login(
            body: .json(.init(username: name, password: password)))
        guard case .ok(let ok) = output, case .json(let signedIn) = ok.body else { throw refusal(output) }
        try Credentials(server: options.serverURL, token: signedIn.token).save()
        if signedIn.mfaRequired {
            let code = readSecret("TOTP code: ")
            let verified = try await options.client().verifyMfa(body: .json(.init(code: code)))
            guard case .ok = verified else {
                Credentials.remove()
                throw refusal(verified)
            }
        }
        print("Signed in to \(options.serverURL) as \(name).")
    }
}

extension Login {
    /// The browser signs in; the code it brings back to 127.0.0.1 is redeemed with this run's
    /// PKCE verifier for a session of the CLI's own.
    func signInThroughProvider() async throws {
        let (verifier, challenge) = LoopbackCallback.verifierAndChallenge()
        let server = options.serverURL
        let provider = self.provider
        let code: String
        do {
            code = try await LoopbackCallback.receive(timeout: .seconds(300)) { port in
                let url = "\(server)/login/provider/\(provider)?return=cli:\(port):\(challenge)"
                FileHandle.standardError.write(Data("Open this address in a browser to sign in:\n\(url)\n".utf8))
                openInBrowser(url)
            }
        } catch LoopbackCallback.Failure.timedOut {
            throw Regent.fail("no sign-in came back within 5 minutes")
        }
        let output = try await options.client(signedIn: false).redeemSignIn(
            body: .json(.init(code: code, verifier: verifier)))
        guard case .ok(let ok) = output, case .json(let signedIn) = ok.body else { throw refusal(output) }
        try Credentials(server: server, token: signedIn.token).save()
        if signedIn.mfaRequired {
            let verified = try await options.client().verifyMfa(body: .json(.init(code: readSecret("TOTP code: "))))
            guard case .ok = verified else {
                Credentials.remove()
                throw refusal(verified)
            }
        }
        print("Signed in to \(server).")
    }

    /// Opens the address where a desktop is there to open it; otherwise the printed address does.
    private func openInBrowser(_ url: String) {
        let environment = ProcessInfo.processInfo.environment
        guard environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/xdg-open")
        process.arguments = [url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the session and forget it.")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        defer { Credentials.remove() }
        let output = try await options.client().logout()
        guard case .noContent = output else { throw refusal(output) }
        print("Signed out.")
    }
}

struct Whoami: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show who the stored session belongs to.")
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let output = try await options.client().getMe()
        guard case .ok(let ok) = output, case .json(let me) = ok.body else { throw refusal(output) }
        if options.json { try printJSON(me) } else { print("\(me.name) (\(me.kind.rawValue), \(me.id))") }
    }
}
