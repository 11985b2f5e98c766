public import Foundation

/// A sign-in sent to an OpenID provider and not yet back: the hash of its `state`, the `nonce`
/// the ID token must carry, the PKCE verifier, and where to go after. A device sign-in
/// (RFC 8628) is kept the same way: the hash of the handle Regent gave the CLI, the provider's
/// device code as its verifier, no nonce, and ``deviceReturn`` as where it goes.
public struct PendingProviderSignIn: Sendable, Equatable {
    public var stateHash: String
    public var provider: String
    public var nonce: String
    public var verifier: String
    public var returnTo: String
    public static let deviceReturn = "device"
    public var isDevice: Bool { returnTo == Self.deviceReturn }
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

/// A provider sign-in finished in a browser on behalf of `regent login --sso`, waiting for the
/// CLI to redeem it with the PKCE verifier whose S256 challenge it holds.
public struct SignInHandoff: Sendable, Equatable {
    public var codeHash: String
    public var challenge: String
    public var principalId: Principal.ID
    /// How the person signed in, for the audit (`oidc:<provider>`).
    public var method: String
    public var mfaVerifiedAt: Date?
    public var mfaMethod: String?
    public var expiresAt: Date

    public init(
        codeHash: String, challenge: String, principalId: Principal.ID, method: String, mfaVerifiedAt: Date?,
        mfaMethod: String?, expiresAt: Date
    ) {
        self.codeHash = codeHash
        self.challenge = challenge
        self.principalId = principalId
        self.method = method
        self.mfaVerifiedAt = mfaVerifiedAt
        self.mfaMethod = mfaMethod
        self.expiresAt = expiresAt
    }

    /// Where a CLI waits: `cli:<port>:<challenge>` as a sign-in's return, for a loopback port
    /// and an S256 challenge (43 base64url characters); nil for anything else.
    public static func cliReturn(_ text: String) -> (port: Int, challenge: String)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "cli", let port = Int(parts[1]), (1024...65535).contains(port),
            parts[2].count == 43,
            parts[2].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        return (port, String(parts[2]))
    }
}
