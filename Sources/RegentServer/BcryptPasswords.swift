public import RegentEngine

/// The engine's passwords: bcrypt (cost 12), on the thread pool.
public struct BcryptPasswords: PasswordHashing {
    public init() {}

    /// A bcrypt hash (cost 12) of a random string nobody knows, checked for unknown users so that a
    /// wrong name costs as much time as a wrong password.
    public let decoyHash = "$2b$12$GhzfBKGn1gYxlnL6B6YpxOA7/MMOkpxTEso6IpJeCL.o2qq3zU48m"

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        try await PasswordHasher.verify(password, hash: hash)
    }

    public func hash(_ password: String) async throws -> String {
        try await PasswordHasher.hash(password)
    }
}
