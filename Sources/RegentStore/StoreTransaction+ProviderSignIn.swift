public import Foundation
import RegentAudit
public import RegentCore
import SQLKit

/// Sign-in through an OpenID provider: the sign-ins under way (each taken once) and the link from
/// the provider's (issuer, subject) to a principal, which is how a person is recognised; never by
/// a name or address someone could register at the provider.
extension StoreTransaction {
    public func insertProviderSignIn(_ pending: PendingProviderSignIn) async throws {
        try await db.raw(
            """
            INSERT INTO provider_sign_ins (state_hash, provider, nonce, verifier, return_to, expires_at)
            VALUES (\(bind: pending.stateHash), \(bind: pending.provider), \(bind: pending.nonce),
                    \(bind: pending.verifier), \(bind: pending.returnTo), \(bind: pending.expiresAt.milliseconds))
            """
        ).run()
    }

    /// Takes the sign-in with this state: it is deleted whether or not it is still valid, so a
    /// state works once (one statement, so two takes at once cannot both have it).
    public func takeProviderSignIn(stateHash: String) async throws -> PendingProviderSignIn? {
        try await providerSignIn(
            stateHash: stateHash, "DELETE FROM provider_sign_ins WHERE state_hash = \(bind: stateHash) RETURNING *")
    }

    /// The device sign-in with this handle, left in place while the person has not finished.
    public func pendingProviderSignIn(stateHash: String) async throws -> PendingProviderSignIn? {
        try await providerSignIn(
            stateHash: stateHash, "SELECT * FROM provider_sign_ins WHERE state_hash = \(bind: stateHash)")
    }

    private func providerSignIn(stateHash: String, _ query: SQLQueryString) async throws -> PendingProviderSignIn? {
        guard let row = try await db.raw(query).first() else { return nil }
        return PendingProviderSignIn(
            stateHash: stateHash, provider: try row.string("provider"), nonce: try row.string("nonce"),
            verifier: try row.string("verifier"), returnTo: try row.string("return_to"),
            expiresAt: try row.date("expires_at"))
    }

    public func deleteExpiredProviderSignIns(before time: Date) async throws {
        try await db.raw("DELETE FROM provider_sign_ins WHERE expires_at < \(bind: time.milliseconds)").run()
    }

    public func linkedPrincipal(issuer: String, subject: String) async throws -> Principal.ID? {
        try await db.raw(
            "SELECT principal_id FROM identity_links WHERE issuer = \(bind: issuer) AND subject = \(bind: subject)"
        ).first().map { try $0.id("principal_id") }
    }

    public func linkIdentity(issuer: String, subject: String, to principal: Principal.ID, at time: Date) async throws {
        try await db.raw(
            """
            INSERT INTO identity_links (issuer, subject, principal_id, created_at)
            VALUES (\(bind: issuer), \(bind: subject), \(bind: principal.description), \(bind: time.milliseconds))
            """
        ).run()
    }

    public func insertSignInHandoff(_ handoff: SignInHandoff) async throws {
        try await db.raw(
            """
            INSERT INTO sign_in_handoffs (code_hash, challenge, principal_id, method, mfa_verified_at, mfa_method, expires_at)
            VALUES (\(bind: handoff.codeHash), \(bind: handoff.challenge), \(bind: handoff.principalId.description),
                    \(bind: handoff.method), \(bind: handoff.mfaVerifiedAt?.milliseconds), \(bind: handoff.mfaMethod),
                    \(bind: handoff.expiresAt.milliseconds))
            """
        ).run()
    }

    /// Takes the handoff with this code hash: deleted whether or not it is redeemed, so it works once.
    public func takeSignInHandoff(codeHash: String) async throws -> SignInHandoff? {
        guard
            let row = try await db.raw("DELETE FROM sign_in_handoffs WHERE code_hash = \(bind: codeHash) RETURNING *")
                .first()
        else { return nil }
        return SignInHandoff(
            codeHash: codeHash, challenge: try row.string("challenge"), principalId: try row.id("principal_id"),
            method: try row.string("method"), mfaVerifiedAt: try row.optionalDate("mfa_verified_at"),
            mfaMethod: try row.optionalString("mfa_method"), expiresAt: try row.date("expires_at"))
    }
}
