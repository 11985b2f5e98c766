import ArgumentParser
import Foundation
import Synchronization
import Yams

/// Where each of `regent serve`'s settings comes from: a flag, then the environment (`REGENT_` +
/// the flag in upper snake case), then `regent.yaml` (keys are the flags' names), then the
/// default. Every value read is noted with its source, so `--print-config` shows exactly what the
/// server would run with.
final class SettingSources: Sendable {
    enum Source: String, Sendable {
        case flag
        case environment
        case file = "regent.yaml"
        case `default`
    }

    struct Read: Sendable {
        var value: String
        var source: Source
    }

    static let shared = SettingSources()

    private struct State {
        var file: [String: [String]] = [:]
        var filePath: String?
        var read: [String: Read] = [:]
    }

    private let state = Mutex(State())

    /// One setting, with where it came from noted.
    func value(_ flag: String?, _ name: String, default fallback: String) -> String {
        let read: Read
        if let flag {
            read = Read(value: flag, source: .flag)
        } else if let environment = ProcessInfo.processInfo.environment[Self.environmentKey(name)] {
            read = Read(value: environment, source: .environment)
        } else if let fromFile = state.withLock({ $0.file[name] }) {
            read = Read(value: fromFile.joined(separator: ","), source: .file)
        } else {
            read = Read(value: fallback, source: .default)
        }
        state.withLock { $0.read[name] = read }
        return read.value
    }

    /// A repeatable setting: the flags given, else the environment's comma-separated list (when
    /// `environment` names a variable), else the file's list.
    func values(_ flags: [String], _ name: String, environment: String? = nil) -> [String] {
        let fromEnvironment = environment.flatMap { ProcessInfo.processInfo.environment[$0] }.map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let read: (values: [String], source: Source) =
            !flags.isEmpty
            ? (flags, .flag)
            : fromEnvironment.map { ($0, .environment) } ?? state.withLock { $0.file[name] }.map { ($0, .file) }
                ?? ([], .default)
        state.withLock { $0.read[name] = Read(value: read.values.joined(separator: ", "), source: read.source) }
        return read.values
    }

    static func environmentKey(_ name: String) -> String {
        "REGENT_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// Reads the file: a mapping of setting names to a value or a list of values. Each name must
    /// be one `isSetting` knows; anything else stops the server with a line naming it.
    func load(_ path: String, isSetting: (String) -> Bool) throws {
        var file: [String: [String]] = [:]
        for (name, node) in try yamlSettings(at: path, label: path, allowEmpty: true) {
            guard isSetting(name) else {
                throw ValidationError("\(path): \(name) is not a setting of regent serve")
            }
            if let scalar = node.scalar {
                file[name] = [scalar.string]
            } else if let list = node.sequence {
                file[name] = try list.map {
                    guard let value = $0.scalar?.string else {
                        throw ValidationError("\(path): \(name) lists values, not mappings or lists")
                    }
                    return value
                }
            } else {
                throw ValidationError("\(path): \(name) is a value or a list of values")
            }
        }
        state.withLock {
            $0.file = file
            $0.filePath = path
        }
    }

    /// Every setting read, one per line: name, value (secrets inside it masked) and source.
    func printed() -> String {
        let (read, path) = state.withLock { ($0.read, $0.filePath) }
        let width = read.keys.map(\.count).max() ?? 0
        var lines = read.keys.sorted().map { name -> String in
            let entry = read[name]!
            let value = Self.masked(name, entry.value)
            let padded = name.padding(toLength: width, withPad: " ", startingAt: 0)
            return
                "\(padded)  \(value.isEmpty ? "(none)" : value)  [\(entry.source == .file ? path ?? "regent.yaml" : entry.source.rawValue)]"
        }
        lines.insert(path.map { "# settings file: \($0)" } ?? "# no settings file", at: 0)
        return lines.joined(separator: "\n")
    }

    /// What a setting may carry that is a secret: a password in a database URL, the token that
    /// is a webhook's path or query. Shown as `***`.
    static func masked(_ name: String, _ value: String) -> String {
        guard var components = URLComponents(string: value), components.scheme != nil else { return value }
        if components.password != nil { components.password = "***" }
        if ["notify-webhook", "notify-slack"].contains(name) {
            if !components.path.isEmpty && components.path != "/" { components.path = "/***" }
            if components.query != nil { components.query = "***" }
        }
        return components.string ?? "***"
    }
}

/// Flags, then the environment, then `regent.yaml`, then the default (``SettingSources``).
func setting(_ flag: String?, _ name: String, default fallback: String) -> String {
    SettingSources.shared.value(flag, name, default: fallback)
}

/// A YAML file of settings as a mapping keyed by name, at most 1 MiB. Read as nodes: Yams'
/// untyped `load` traps on a mapping used as a key. `label` starts every refusal.
func yamlSettings(at path: String, label: String, allowEmpty: Bool = false) throws -> [String: Node] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("\(label) cannot be read")
    }
    guard data.count <= 1 << 20, let text = String(data: data, encoding: .utf8) else {
        throw ValidationError("\(label) is not UTF-8 text of at most 1 MiB")
    }
    let document: Node?
    do {
        document = try Yams.compose(yaml: text)
    } catch {
        throw ValidationError("\(label) is not YAML: \(error)")
    }
    if document == nil && allowEmpty { return [:] }
    guard let mapping = document?.mapping else { throw ValidationError("\(label) is not a mapping of settings") }
    var fields: [String: Node] = [:]
    for (key, node) in mapping {
        guard let name = key.scalar?.string else { throw ValidationError("\(path): every key is a setting name") }
        fields[name] = node
    }
    return fields
}
