import Foundation
public import RegentCore

/// Where in a manifest a document is: the file it was read from and its place in that file
/// (from 1; 0 for the file as a whole), so every problem can be named file:document:field.
public struct ManifestSource: Hashable, Sendable, Codable, CustomStringConvertible {
    public var file: String
    public var document: Int

    public init(file: String, document: Int) {
        self.file = file
        self.document = document
    }

    public var description: String { document == 0 ? file : "\(file):\(document)" }
}

/// One thing wrong with a manifest, named by file, document and field.
public struct ManifestProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var source: ManifestSource
    public var field: String?
    public var reason: String

    public init(_ source: ManifestSource, field: String?, _ reason: String) {
        self.source = source
        self.field = field
        self.reason = reason
    }

    /// One line, whatever the reason holds (a YAML parser's message spans several).
    public var description: String {
        let line = reason.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ")
        return "\(source)\(field.map { ":\($0)" } ?? ""): \(line)"
    }
}

/// Everything wrong with a manifest, all at once, so a pull request is fixed in one round.
public struct ManifestProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [ManifestProblem]

    public init(_ problems: [ManifestProblem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "\n") }

    /// The first problem as the API's error (400 with the field), the rest in its reason.
    public var regentError: RegentError {
        RegentError(
            .invalidArgument,
            problems.count == 1
                ? problems[0].description
                : "\(problems.count) problems: \(problems.map(\.description).joined(separator: "; "))",
            field: problems.first.map { "\($0.source)\($0.field.map { ":\($0)" } ?? "")" })
    }
}
