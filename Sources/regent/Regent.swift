import ArgumentParser
import Foundation

@main
struct Regent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regent",
        abstract: "Regent: just-in-time privileged access, provisioned on real systems and audited.",
        subcommands: [
            Serve.self, Login.self, Logout.self, Whoami.self, Activate.self, Approve.self, Deny.self, Cancel.self,
            Deactivate.self, Extend.self, Requests.self, Assign.self, Unassign.self, Check.self, Principals.self,
            Roles.self, Audit.self, SSHCert.self, ShowCredentials.self, Targets.self, Alerts.self, Report.self,
            Reviews.self, Review.self, SCIMToken.self, Backup.self, Migrate.self, Validate.self, Plan.self, Apply.self, Export.self, ManifestCommand.self,
        ])

    /// Errors are one line on stderr and a non-zero exit, never a stack trace.
    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("regent: \(message)\n".utf8))
        return ExitCode.failure
    }
}

/// Operator messages of a running server — the first administrator's one-time password above
/// all. `print` is block-buffered when standard output is a file, a pipe or a journal, so under a
/// service manager or in a container nothing would appear until the process ends; each message is
/// written to the descriptor at once instead.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
