public import Foundation

/// How Regent reads the people an OpenID provider signs in: which claim names them, which carries
/// their groups and how those map to Regent groups, and what proves MFA.
public struct ProviderIdentityRules: Sendable, Equatable {
    public enum NameClaim: String, Sendable, CaseIterable {
        case preferredUsername = "preferred_username"
        case email
        case sub
    }

    public var issuer: String
    public var clientId: String
    public var nameClaim: NameClaim
    /// The claim that lists the person's groups; nil: groups do not come from the provider.
    public var groupsClaim: String?
    /// A provider group `g` is the Regent group derived from `groupPrefix + g`; only groups whose
    /// Regent name starts with the derived prefix are the provider's to fill.
    public var groupPrefix: String
    /// Provider groups named one by one (an Entra object id, an Okta group name) → the Regent
    /// group each fills; those Regent groups are the provider's too. Checked before the prefix.
    public var groupMap: [String: String]
    /// `acr` values that show MFA, beside `amr`.
    public var mfaContexts: Set<String>
    /// Clock skew allowed on `exp` and `iat`.
    public var skew: TimeInterval

    public init(
        issuer: String, clientId: String, nameClaim: NameClaim = .preferredUsername, groupsClaim: String? = nil,
        groupPrefix: String = "", groupMap: [String: String] = [:], mfaContexts: Set<String> = [],
        skew: TimeInterval = 60
    ) {
        self.issuer = issuer
        self.clientId = clientId
        self.nameClaim = nameClaim
        self.groupsClaim = groupsClaim
        self.groupPrefix = groupPrefix
        self.groupMap = groupMap
        self.mfaContexts = mfaContexts
        self.skew = skew
    }

    /// Whether the provider fills the Regent group with this name: one its map names, or one
    /// that starts with the prefix, exactly (the prefix is in Regent's name alphabet), so a local
    /// group never does.
    public func ownsGroup(named name: String) -> Bool {
        groupsClaim != nil
            && (groupMap.values.contains(name) || (!groupPrefix.isEmpty && name.hasPrefix(groupPrefix)))
    }

    /// Why these providers cannot be configured together, if they cannot: two of them with one
    /// name, or filling the same Regent groups (each sign-in would take away what the other's
    /// gave). Prefixes overlap when one starts with the other.
    public static func conflict(among providers: [(name: String, rules: ProviderIdentityRules)]) -> String? {
        for (index, first) in providers.enumerated() {
            for second in providers[(index + 1)...] {
                if first.name == second.name { return "two providers are named \(first.name)" }
                guard first.rules.groupsClaim != nil, second.rules.groupsClaim != nil else { continue }
                let (a, b) = (first.rules, second.rules)
                let prefixesOverlap =
                    !a.groupPrefix.isEmpty && !b.groupPrefix.isEmpty
                    && (a.groupPrefix.hasPrefix(b.groupPrefix) || b.groupPrefix.hasPrefix(a.groupPrefix))
                let shared = Set(a.groupMap.values).union(b.groupMap.values).filter {
                    a.ownsGroup(named: $0) && b.ownsGroup(named: $0)
                }
                if prefixesOverlap || !shared.isEmpty {
                    return "\(first.name) and \(second.name) would both fill "
                        + (shared.sorted().first.map { "the group \($0)" } ?? "the groups under \(b.groupPrefix)")
                }
            }
        }
        return nil
    }

    /// `amr` values (RFC 8176) that are a second factor or phishing-resistant by themselves.
    public static let mfaMethods: Set<String> = ["mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "pop", "sc"]
}

/// Who an ID token, whose signature was verified, says signed in; refused unless every claim
/// holds (OpenID Connect Core §3.1.3.7).
public struct ProviderIdentity: Sendable, Equatable {
    public var issuer: String
    public var subject: String
    /// The name as the provider spells it (from the configured claim).
    public var name: String
    public var displayName: String?
    public var email: String?
    public var groups: [String]
    /// When the provider last verified a second factor, if the token shows one.
    public var mfaVerifiedAt: Date?
    /// How MFA was met, for the audit (`amr:mfa`, `acr:…`), if it was.
    public var mfaMethod: String?

    /// `nonce` is the one the sign-in sent; nil for the device authorization grant (RFC 8628),
    /// which sends none, so a token carrying one is not this sign-in's either.
    public static func verify(
        _ claims: [String: JSONValue], rules: ProviderIdentityRules, nonce: String?, now: Date
    ) throws(RegentError) -> ProviderIdentity {
        func refuse(_ reason: String) -> RegentError { RegentError(.unauthenticated, reason, field: "idToken") }
        guard claims["iss"]?.string == rules.issuer else { throw refuse("the ID token is from another issuer") }
        guard let audiences = claims["aud"]?.strings, audiences.contains(rules.clientId) else {
            throw refuse("the ID token is for another client")
        }
        if let azp = claims["azp"] {
            guard azp.string == rules.clientId else { throw refuse("the ID token was issued to another party (azp)") }
        } else if audiences.count > 1 {
            throw refuse("an ID token for several audiences must name this client in azp")
        }
        guard let exp = claims["exp"]?.number, now.timeIntervalSince1970 < exp + rules.skew else {
            throw refuse("the ID token has expired")
        }
        guard let iat = claims["iat"]?.number, iat <= now.timeIntervalSince1970 + rules.skew,
            now.timeIntervalSince1970 - iat < 600 + rules.skew
        else { throw refuse("the ID token was not issued just now (iat)") }
        guard claims["nonce"]?.string == nonce else { throw refuse("the ID token's nonce is not this sign-in's") }
        guard let subject = claims["sub"]?.string, (1...255).contains(subject.count) else {
            throw refuse("the ID token names no subject")
        }
        let email = claims["email"]?.string
        let name: String
        switch rules.nameClaim {
        case .sub: name = subject
        case .preferredUsername:
            guard let value = claims["preferred_username"]?.string, !value.isEmpty else {
                throw refuse("the ID token has no preferred_username")
            }
            name = value
        case .email:
            guard let email, !email.isEmpty else { throw refuse("the ID token has no email") }
            // An unverified address is one anybody could have typed at the provider.
            guard claims["email_verified"] == .bool(true) else {
                throw refuse("the provider has not verified the email address")
            }
            name = email
        }
        var identity = ProviderIdentity(
            issuer: rules.issuer, subject: subject, name: name,
            displayName: claims["name"]?.string.map(Self.displayable),
            email: email.map(Self.displayable),
            groups: rules.groupsClaim.flatMap { claims[$0]?.strings } ?? [], mfaVerifiedAt: nil, mfaMethod: nil)
        let authTime = (claims["auth_time"]?.number ?? iat)
        if let method = (claims["amr"]?.strings ?? []).first(where: ProviderIdentityRules.mfaMethods.contains) {
            identity.mfaMethod = "amr:\(method)"
        } else if let acr = claims["acr"]?.string, rules.mfaContexts.contains(acr) {
            identity.mfaMethod = "acr:\(acr)"
        }
        if identity.mfaMethod != nil {
            identity.mfaVerifiedAt = Date(timeIntervalSince1970: min(authTime, now.timeIntervalSince1970))
        }
        return identity
    }

    /// Text a person may set at the provider, fit to keep: no control characters (a NUL cannot be
    /// stored as PostgreSQL text), at most 256 characters.
    static func displayable(_ text: String) -> String {
        String(String(text.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }).prefix(256))
    }

    /// The Regent names of the groups the provider says the person is in.
    public func regentGroups(rules: ProviderIdentityRules) -> Set<String> {
        Set(
            groups.compactMap { group in
                rules.groupMap[group]
                    ?? (try? DirectoryName.regentName(for: rules.groupPrefix + group, field: "groups"))
            }
            .filter(rules.ownsGroup))
    }
}
