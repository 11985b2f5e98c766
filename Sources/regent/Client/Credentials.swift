import Foundation

/// Where `regent login` keeps the server and session token: `$XDG_CONFIG_HOME/regent/credentials.json`
/// (default `~/.config`), directory 0700, file 0600.
struct Credentials: Codable {
    var server: String
    var token: String

    static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return URL(fileURLWithPath: base).appendingPathComponent("regent")
    }

    static var file: URL { directory.appendingPathComponent("credentials.json") }

    static func load() -> Credentials? {
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        return try? JSONDecoder().decode(Credentials.self, from: data)
    }

    func save() throws {
        let manager = FileManager.default
        try manager.createDirectory(
            at: Self.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONEncoder().encode(self)
        _ = manager.createFile(atPath: Self.file.path, contents: nil, attributes: [.posixPermissions: 0o600])
        try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: Self.file.path)
        try data.write(to: Self.file)
    }

    static func remove() { try? FileManager.default.removeItem(at: file) }
}
