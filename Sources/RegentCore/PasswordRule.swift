/// The one rule for a password Regent keeps, whichever path sets it (the API, the portal, the
/// first-start bootstrap): at least 12 characters, and at most 72 bytes of UTF-8 — bcrypt reads
/// no further, and a longer password silently cut would be weaker than its owner believes.
public enum PasswordRule {
    public static let minimumCharacters = 12
    public static let maximumBytes = 72

    public static func check(_ password: String, field: String = "password") throws(RegentError) {
        guard password.count >= minimumCharacters else {
            throw .invalid(field, "a password has at least \(minimumCharacters) characters")
        }
        guard password.utf8.count <= maximumBytes else {
            throw .invalid(field, "a password has at most \(maximumBytes) bytes of UTF-8")
        }
        guard !password.unicodeScalars.contains(where: { $0.value == 0 }) else {
            throw .invalid(field, "a password cannot contain U+0000")
        }
    }
}
