import RegentEngine

/// The engine's password check, with bcrypt on the thread pool.
struct BcryptVerifier: PasswordVerifier {
    /// A bcrypt hash (cost 12) of a random string nobody knows, checked for unknown users so that a
    /// wrong name costs as much time as a wrong password.
    let decoyHash = "$2b$12$GhzfBKGn1gYxlnL6B6YpxOA7/MMOkpxTEso6IpJeCL.o2qq3zU48m"

    func verify(_ password: String, against hash: String) async throws -> Bool {
        try await PasswordHasher.verify(password, hash: hash)
    }
}
