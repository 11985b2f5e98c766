public import Foundation
public import JWTKit

/// One role an app may trust the bearer to hold, until `until`.
public struct RoleClaim: Codable, Hashable, Sendable {
    public var role: String
    public var roleId: String
    public var scope: String
    /// Seconds since 1970; absent for a permanent assignment.
    public var until: Int?

    public init(role: String, roleId: String, scope: String, until: Date?) {
        self.role = role
        self.roleId = roleId
        self.scope = scope
        self.until = until.map { Int($0.timeIntervalSince1970) }
    }
}

/// The claims of a role token: who, which active roles, and an expiry the issuer set no later than
/// the earliest end among them.
public struct RoleToken: JWTPayload, Equatable {
    public var iss: IssuerClaim
    public var sub: SubjectClaim
    public var name: String
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var jti: IDClaim
    public var roles: [RoleClaim]

    public init(
        issuer: String, subject: String, name: String, issuedAt: Date, expiresAt: Date, id: String, roles: [RoleClaim]
    ) {
        iss = IssuerClaim(value: issuer)
        sub = SubjectClaim(value: subject)
        self.name = name
        iat = IssuedAtClaim(value: issuedAt)
        exp = ExpirationClaim(value: expiresAt)
        jti = IDClaim(value: id)
        self.roles = roles
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs role tokens with Ed25519 (EdDSA) and describes the public keys as a JWKS. Keys are raw
/// 32-byte Ed25519 keys; their storage and rotation belong to the engine.
public enum TokenIssuer {
    public static func sign(_ token: RoleToken, privateKey: Data, kid: String) async throws -> String {
        let key = try EdDSA.PrivateKey(d: base64URL(privateKey), curve: .ed25519)
        let keys = await JWTKeyCollection().add(eddsa: key, kid: JWKIdentifier(string: kid))
        return try await keys.sign(token, kid: JWKIdentifier(string: kid))
    }

    /// Verifies a token against public keys (kid → raw key), as an app would with the JWKS.
    public static func verify(_ jwt: String, publicKeys: [String: Data]) async throws -> RoleToken {
        let keys = JWTKeyCollection()
        for (kid, raw) in publicKeys {
            await keys.add(
                eddsa: try EdDSA.PublicKey(x: base64URL(raw), curve: .ed25519), kid: JWKIdentifier(string: kid))
        }
        return try await keys.verify(jwt, as: RoleToken.self)
    }

    /// A fresh raw Ed25519 private key and its public half.
    public static func generateKey() throws -> (privateKey: Data, publicKey: Data) {
        let key = try EdDSA.PrivateKey(curve: .ed25519)
        return (key.rawRepresentation, key.publicKey.rawRepresentation)
    }

    /// One JWKS entry (RFC 8037 OKP key).
    public static func jwk(kid: String, publicKey: Data) -> [String: String] {
        ["kty": "OKP", "crv": "Ed25519", "x": base64URL(publicKey), "kid": kid, "alg": "EdDSA", "use": "sig"]
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
