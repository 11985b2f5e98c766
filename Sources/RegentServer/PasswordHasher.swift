import HummingbirdBcrypt
import NIOPosix

/// bcrypt, run on the thread pool: a hash costs about 0.3 s at cost 12 and must never block an
/// event loop.
public enum PasswordHasher {
    public static let cost: UInt8 = 12

    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public static func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
