public import Crypto
public import Foundation
public import RegentCore

/// One sudoers drop-in per grant in the target's `config.directory` (e.g. `/etc/sudoers.d`): the
/// line `<account> <entitlement value>`, written beside the final name, checked with `visudo -cf`
/// and only then renamed into place (atomic on one filesystem), removed on revoke. The file name
/// is derived from account and rule, so granting twice changes nothing; sudo skips names with a
/// dot, which the temporary file has.
public struct SudoProvisioner: Provisioner {
    public let kind = Target.Kind.sudo
    static let prefix = "regent_"

    public init() {}

    public func grant(_ spec: GrantSpec) async throws(ExternalFailure) -> IssuedCredential? {
        let directory = try Self.directory(of: spec.target)
        try Self.requireOneLine(spec.account, spec.value)
        let final = directory.appendingPathComponent(Self.fileName(account: spec.account, value: spec.value))
        let temporary = directory.appendingPathComponent(".regent-\(UUID().uuidString).tmp")
        let contents = """
            # Managed by Regent: removed when the access ends. Do not edit.
            # assignment \(spec.assignmentId?.description ?? "-") request \(spec.requestId?.description ?? "-") \
            until \(spec.until.map { $0.formatted(.iso8601) } ?? "permanent")
            \(spec.account) \(spec.value)

            """
        let manager = FileManager.default
        guard
            manager.createFile(
                atPath: temporary.path, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o440])
        else { throw ExternalFailure(transient: true, "cannot write in \(directory.path)") }
        defer { try? manager.removeItem(at: temporary) }
        let (status, output) = Self.visudo(spec.target, checking: temporary.path)
        guard status == 0 else {
            throw ExternalFailure(
                transient: false, "visudo refused the rule for \(spec.account): \(output.prefix(300))")
        }
        guard rename(temporary.path, final.path) == 0 else {
            throw ExternalFailure(transient: true, "cannot move the drop-in into \(directory.path) (errno \(errno))")
        }
        return nil
    }

    public func revoke(_ spec: GrantSpec) async throws(ExternalFailure) {
        let final = try Self.directory(of: spec.target)
            .appendingPathComponent(Self.fileName(account: spec.account, value: spec.value))
        guard unlink(final.path) == 0 || errno == ENOENT else {
            throw ExternalFailure(transient: true, "cannot remove \(final.path) (errno \(errno))")
        }
    }

    /// Every drop-in Regent wrote, read back from its rule line.
    public func observe(_ target: Target, secrets: TargetSecrets, values: Set<String>) async throws(ExternalFailure)
        -> [ObservedGrant]?
    {
        let directory = try Self.directory(of: target)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw ExternalFailure(transient: true, "cannot list \(directory.path)")
        }
        return names.filter { $0.hasPrefix(Self.prefix) }.compactMap { name in
            guard let text = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path),
                let line = String(decoding: text, as: UTF8.self).split(separator: "\n").first(where: {
                    !$0.hasPrefix("#")
                }),
                let space = line.firstIndex(of: " ")
            else { return nil }
            let (account, value) = (String(line[..<space]), String(line[line.index(after: space)...]))
            return values.contains(value) ? ObservedGrant(value: value, account: account) : nil
        }
    }

    static func fileName(account: String, value: String) -> String {
        let digest = SHA256.hash(data: Data("\(account)\u{0}\(value)".utf8))
        return prefix + digest.prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    static func directory(of target: Target) throws(ExternalFailure) -> URL {
        guard let path = target.config["directory"], path.hasPrefix("/") else {
            throw ExternalFailure(transient: false, "target \(target.name): config.directory must be an absolute path")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    static func requireOneLine(_ account: String, _ value: String) throws(ExternalFailure) {
        guard !account.isEmpty, !account.contains(where: { $0.isWhitespace || $0 == "#" }),
            !value.contains(where: \.isNewline), !value.isEmpty
        else { throw ExternalFailure(transient: false, "a sudo rule is one line for an account without spaces") }
    }

    /// `visudo -cf FILE`: the file alone must parse as sudoers.
    static func visudo(_ target: Target, checking path: String) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: target.config["visudo"] ?? "/usr/sbin/visudo")
        process.arguments = ["-c", "-q", "-f", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (-1, "cannot run visudo: \(error)")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
