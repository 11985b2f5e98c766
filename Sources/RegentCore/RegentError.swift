/// The one error type that crosses RegentCore's boundary. `code` is a stable category that the
/// server maps to HTTP in one place; `field` names the input or rule concerned so a client can
/// show the refusal next to what caused it. Equality compares the code and field only, so tests
/// can build the error they expect.
public struct RegentError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable {
        case invalidArgument
        case notFound
        /// Who the caller is could not be established (a wrong name or password): sign in again.
        case unauthenticated
        /// The caller is known and may not do this.
        case accessDenied
        case invalidTransition
        case conflict
        case policyViolation
        case mfaRequired
        case tooManyAttempts
        case unavailable
    }

    public let code: Code
    public let reason: String
    public let field: String?
    public let failedRules: [PolicyRule]
    public let fileID: String
    public let line: Int

    public init(
        _ code: Code, _ reason: String, field: String? = nil, failedRules: [PolicyRule] = [],
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.reason = reason
        self.field = field
        self.failedRules = failedRules
        self.fileID = fileID
        self.line = line
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code && lhs.field == rhs.field }

    public var description: String {
        field.map { "\(code.rawValue) (\($0)): \(reason)" } ?? "\(code.rawValue): \(reason)"
    }

    public static func invalid(_ field: String, _ reason: String, fileID: String = #fileID, line: Int = #line) -> Self {
        RegentError(.invalidArgument, reason, field: field, fileID: fileID, line: line)
    }
}
