public import Foundation
import RegentAudit
import SQLKit

/// A token signing key: the private half sealed, the public half in the clear for the JWKS.
public struct TokenKey: Hashable, Sendable {
    public var kid: String
    public var sealedPrivateKey: String
    public var publicKey: Data
    public var createdAt: Date
    public var retiredAt: Date?

    public init(kid: String, sealedPrivateKey: String, publicKey: Data, createdAt: Date, retiredAt: Date?) {
        self.kid = kid
        self.sealedPrivateKey = sealedPrivateKey
        self.publicKey = publicKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}

extension StoreTransaction {
    public func insertTokenKey(_ key: TokenKey) async throws {
        try await db.raw(
            """
            INSERT INTO token_keys (kid, sealed_private_key, public_key, created_at, retired_at)
            VALUES (\(bind: key.kid), \(bind: key.sealedPrivateKey), \(bind: key.publicKey.base64EncodedString()),
                    \(bind: key.createdAt.milliseconds), \(bind: key.retiredAt?.milliseconds))
            """
        ).run()
    }

    public func retireTokenKeys(at time: Date) async throws {
        try await db.raw(
            "UPDATE token_keys SET retired_at = \(bind: time.milliseconds) WHERE retired_at IS NULL"
        ).run()
    }

    /// Keys newest first.
    public func tokenKeys() async throws -> [TokenKey] {
        try await db.raw("SELECT * FROM token_keys ORDER BY created_at DESC").all().map { row in
            guard let publicKey = Data(base64Encoded: try row.string("public_key")) else {
                throw StoreError.corrupt("token key public half")
            }
            return TokenKey(
                kid: try row.string("kid"), sealedPrivateKey: try row.string("sealed_private_key"),
                publicKey: publicKey,
                createdAt: try row.date("created_at"), retiredAt: try row.optionalDate("retired_at"))
        }
    }
}
