/// Where access applies: a path such as `/`, `/prod` or `/prod/db/orders`. An assignment or policy
/// at a scope covers every scope below it, so parsing is strict: a lax parser (`/prod/../`, a
/// trailing slash) would let two spellings name one place and slip past a policy.
///
/// ```swift
/// let prod = try Scope(parsing: "/prod")
/// prod.covers(try Scope(parsing: "/prod/db"))   // true
/// ```
public struct Scope: Hashable, Sendable, TextCoded, Comparable, CustomStringConvertible {
    public static let maximumDepth = 32
    public static let maximumLength = 512
    public static let root = Scope(segments: [])

    public let segments: [String]

    private init(segments: [String]) { self.segments = segments }

    public init(parsing text: String, field: String = "scope") throws(RegentError) {
        guard text.utf8.count <= Self.maximumLength else {
            throw .invalid(field, "a scope is at most \(Self.maximumLength) bytes")
        }
        guard text.first == "/" else { throw .invalid(field, "a scope starts with '/' (e.g. /prod/db)") }
        if text == "/" {
            self = .root
            return
        }
        let parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= Self.maximumDepth else {
            throw .invalid(field, "a scope has at most \(Self.maximumDepth) levels")
        }
        for part in parts {
            guard !part.isEmpty else { throw .invalid(field, "'\(text)' has an empty segment") }
            guard part != "." && part != ".." else { throw .invalid(field, "'\(text)' has a '.' or '..' segment") }
            guard part.unicodeScalars.allSatisfy(Self.isAllowed) else {
                throw .invalid(field, "'\(text)' has a control, space or reserved character")
            }
        }
        self.segments = parts.map(String.init)
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.properties.generalCategory == .control || scalar.properties.isWhitespace { return false }
        return !"\\?#%*\"'<>".unicodeScalars.contains(scalar)
    }

    public var path: String { "/" + segments.joined(separator: "/") }
    public var description: String { path }
    public var depth: Int { segments.count }

    /// True when this scope is `other` or one of its ancestors: an assignment here applies there.
    public func covers(_ other: Scope) -> Bool {
        other.segments.count >= segments.count && zip(segments, other.segments).allSatisfy(==)
    }

    /// The scope itself and every ancestor, from the root down.
    public var lineage: [Scope] { (0...segments.count).map { Scope(segments: Array(segments.prefix($0))) } }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.path < rhs.path }

    public var text: String { path }
}
