import ArgumentParser
import Foundation
import RegentAPI

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Sign in; asks for the password (and a TOTP code when enrolled), or with --sso through the organisation's provider (in a browser, or with a code on any device where this machine has no desktop); keeps the session (0600)."
    )

    @OptionGroup var options: ClientOptions
    @Option(help: "User name; asked for when absent.")
    var username: String?
    @Flag(help: "Sign in through the organisation's OpenID provider.")
    var sso = false
    @Option(help: "The provider's name on the server (its --oidc-name); needed when the server has several.")
    var provider: String?
    @Flag(
        help:
            "With --sso: sign in on any device with a code (RFC 8628), not in a browser here; the default where this machine has no desktop and the provider offers it."
    )
    var device = false

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
        let (provider, offersDevice) = try await chosenProvider()
        guard !device || offersDevice else { throw Regent.fail("\(provider) offers no device sign-in") }
        if device || (offersDevice && !Self.hasDesktop) {
            return try await signInOnAnotherDevice(provider)
        }
        let (verifier, challenge) = LoopbackCallback.verifierAndChallenge()
        let server = options.serverURL
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
        try await keep(signedIn)
    }

    /// The provider named by --provider, or the server's only one; and whether it offers a
    /// device sign-in.
    private func chosenProvider() async throws -> (name: String, offersDevice: Bool) {
        let output = try await options.client(signedIn: false).listSignInProviders()
        guard case .ok(let ok) = output, case .json(let list) = ok.body else { throw refusal(output) }
        if let provider {
            guard let found = list.items.first(where: { $0.name == provider }) else {
                throw Regent.fail(
                    "the server has no provider \(provider); it has \(list.items.map(\.name).joined(separator: ", "))")
            }
            return (found.name, found.deviceSignIn)
        }
        switch list.items.count {
        case 0: throw Regent.fail("the server signs nobody in through a provider (it has no --oidc-issuer)")
        case 1: return (list.items[0].name, list.items[0].deviceSignIn)
        default:
            throw Regent.fail(
                "the server has several providers (\(list.items.map(\.name).joined(separator: ", "))): name one with --provider"
            )
        }
    }

    /// RFC 8628 through the server: it shows a code to type at the provider, on a phone or any
    /// other device, and polls until the person has signed in, declined, or let it expire.
    private func signInOnAnotherDevice(_ provider: String) async throws {
        let client = try options.client(signedIn: false)
        let begun = try await client.beginDeviceSignIn(path: .init(name: provider))
        guard case .ok(let ok) = begun, case .json(let started) = ok.body else { throw refusal(begun) }
        var message = "To sign in, open \(started.verificationUri) and enter the code \(started.userCode)"
        if let complete = started.verificationUriComplete { message += "\n(or open \(complete))" }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        var interval = started.interval
        while Date() < started.expiresAt {
            try await Task.sleep(for: .seconds(interval))
            let polled = try await client.pollDeviceSignIn(
                path: .init(name: provider), body: .json(.init(handle: started.handle)))
            switch polled {
            case .ok(let ok):
                guard case .json(let signedIn) = ok.body else { throw refusal(polled) }
                return try await keep(signedIn)
            case .accepted(let accepted):
                guard case .json(let wait) = accepted.body else { throw refusal(polled) }
                interval = min(max(wait.interval, 1), 60)
            case .serviceUnavailable:
                continue  // the provider is out of reach for a moment; the sign-in goes on
            default:
                throw refusal(polled)
            }
        }
        throw Regent.fail("the sign-in expired before it was finished")
    }

    /// Keeps the session, asking for a TOTP code when the server wants one.
    private func keep(_ signedIn: Components.Schemas.LoginResponse) async throws {
        try Credentials(server: options.serverURL, token: signedIn.token).save()
        if signedIn.mfaRequired {
            let verified = try await options.client().verifyMfa(body: .json(.init(code: readSecret("TOTP code: "))))
            guard case .ok = verified else {
                Credentials.remove()
                throw refusal(verified)
            }
        }
        print("Signed in to \(options.serverURL).")
    }

    static var hasDesktop: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil
    }

    /// Opens the address where a desktop is there to open it; otherwise the printed address does.
    private func openInBrowser(_ url: String) {
        guard Self.hasDesktop else { return }
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
