import ArgumentParser
import Foundation
import RegentAPI

/// `regent ssh-cert`: a certificate for your SSH key from each activation in force that gives SSH
/// access, written where OpenSSH looks for it (`KEY-cert.pub` beside `KEY.pub`).
struct SSHCert: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh-cert",
        abstract: "Get an SSH certificate for your active SSH access, valid until the activation ends.")
    @OptionGroup var options: ClientOptions
    @Option(help: "Your public key file.") var key = "~/.ssh/id_ed25519.pub"
    @Option(help: "Only this role's activation.") var role: String?

    func run() async throws {
        let keyPath = NSString(string: key).expandingTildeInPath
        guard keyPath.hasSuffix(".pub") else { throw Regent.fail("--key takes the public key file (….pub)") }
        guard let publicKey = FileManager.default.contents(atPath: keyPath).map({ String(decoding: $0, as: UTF8.self) })
        else { throw Regent.fail("cannot read \(keyPath)") }
        let output = try await options.client().issueSshCertificates(
            body: .json(.init(publicKey: publicKey.trimmingCharacters(in: .whitespacesAndNewlines), role: role)))
        guard case .created(let created) = output, case .json(let answer) = created.body,
            let first = answer.items.first
        else { throw refusal(output) }
        let certificatePath = String(keyPath.dropLast(".pub".count)) + "-cert.pub"
        do {
            try Data((first.certificate + "\n").utf8).write(to: URL(fileURLWithPath: certificatePath), options: .atomic)
        } catch {
            throw Regent.fail("cannot write \(certificatePath): \(error.localizedDescription)")
        }
        if options.json {
            try printJSON(answer)
        } else {
            print(
                "\(certificatePath): principals \(first.principals.joined(separator: ",")), role \(first.role), "
                    + "valid until \(first.validBefore.formatted(.iso8601))")
            if answer.items.count > 1 { print("(\(answer.items.count - 1) more with --json or --role)") }
        }
    }
}

/// `regent credentials REQUEST`: the short-lived login an activation made for you, shown once.
struct ShowCredentials: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Show, once, the login an activation made for you (a short-lived database login).")
    @OptionGroup var options: ClientOptions
    @Argument(help: "The activation's request id.") var request: String

    func run() async throws {
        let output = try await options.client().retrieveCredentials(path: .init(requestId: request))
        guard case .ok(let ok) = output, case .json(let answer) = ok.body else { throw refusal(output) }
        if options.json { return try printJSON(answer.items) }
        printTable(
            ["TARGET", "LOGIN", "PASSWORD", "VALID UNTIL"],
            answer.items.map {
                [$0.target, $0.login, $0.password, $0.validUntil.map { $0.formatted(.iso8601) } ?? "permanent"]
            })
        print("This is the only time the password is shown.")
    }
}
