public import Foundation

/// A signed statement "the chain up to `seq` ends in `hash`". Checkpoints let a reader trust a
/// prefix of the log without trusting the database, and reveal a truncated tail.
public struct Checkpoint: Hashable, Sendable, Codable {
    public var seq: Int64
    public var hash: String
    public var time: Date
    /// Base64 raw Ed25519 public key of the signer.
    public var publicKey: String
    /// Base64 Ed25519 signature over ``signedBytes``.
    public var signature: String

    public init(seq: Int64, hash: String, time: Date, publicKey: String, signature: String) {
        self.seq = seq
        self.hash = hash
        self.time = time
        self.publicKey = publicKey
        self.signature = signature
    }

    public var signedBytes: Data { Data("regent-checkpoint-v1\n\(seq)\n\(hash)\n\(time.milliseconds)".utf8) }
}
