import ArgumentParser
import Foundation
import RegentAPI

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in; asks for the password (and a TOTP code when enrolled) and keeps the session (0600).")

    @OptionGroup var options: ClientOptions
    @Option(help: "User name; asked for when absent.")
    var username: String?

    func run() async throws {
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
