public import Foundation

/// A sign-in sent to an OpenID provider and not yet back: the hash of its `state`, the `nonce`
/// the ID token must carry, the PKCE verifier, and where to go after.
public struct PendingProviderSignIn: Sendable, Equatable {
    public var stateHash: String
    public var provider: String
    public var nonce: String
    public var verifier: String
    public var returnTo: String
    public var expiresAt: Date

    public init(
        stateHash: String, provider: String, nonce: String, verifier: String, returnTo: String, expiresAt: Date
    ) {
        self.stateHash = stateHash
        self.provider = provider
        self.nonce = nonce
        self.verifier = verifier
        self.returnTo = returnTo
        self.expiresAt = expiresAt
    }
}
