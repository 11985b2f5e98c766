import ArgumentParser
import Foundation
import RegentConnectors
import RegentCore
import RegentEngine

/// `regent serve`'s sign-in through the organisation's OpenID provider. The client secret comes
/// from REGENT_OIDC_CLIENT_SECRET or a file, never a flag, so it is not in a process listing.
struct OpenIDOptions: ParsableArguments {
    @Option(name: .customLong("oidc-issuer"), help: "The OpenID provider's issuer URL (REGENT_OIDC_ISSUER).")
    var issuer: String?
    @Option(name: .customLong("oidc-client-id"), help: "Regent's client id at the provider (REGENT_OIDC_CLIENT_ID).")
    var clientId: String?
    @Option(
        name: .customLong("oidc-client-secret-file"),
        help: "File holding the client secret (REGENT_OIDC_CLIENT_SECRET_FILE), else REGENT_OIDC_CLIENT_SECRET.")
    var clientSecretFile: String?
    @Option(
        name: .customLong("oidc-name"),
        help: "Shown as \"Sign in with <name>\" and in the callback path (REGENT_OIDC_NAME). Default SSO.")
    var name: String?
    @Option(
        name: .customLong("oidc-scopes"),
        help: "Scopes to ask for (REGENT_OIDC_SCOPES). Default \"openid profile email\".")
    var scopes: String?
    @Option(
        name: .customLong("oidc-username-claim"),
        help:
            "preferred_username, email (must be verified) or sub (REGENT_OIDC_USERNAME_CLAIM). Default preferred_username."
    )
    var usernameClaim: String?
    @Option(
        name: .customLong("oidc-groups-claim"),
        help: "The claim listing the person's groups (REGENT_OIDC_GROUPS_CLAIM); needs --oidc-group-prefix.")
    var groupsClaim: String?
    @Option(
        name: .customLong("oidc-group-prefix"),
        help:
            "Provider group G is the Regent group named <prefix>G; the provider fills only groups under the prefix (REGENT_OIDC_GROUP_PREFIX)."
    )
    var groupPrefix: String?
    @Option(
        name: .customLong("oidc-create-users"),
        help:
            "true: make a user on first sign-in; false: only provisioned or linked users (REGENT_OIDC_CREATE_USERS). Default true."
    )
    var createUsers: String?
    @Option(
        name: .customLong("oidc-mfa-acr"),
        help: "Comma-separated acr values that show MFA, beside amr (REGENT_OIDC_MFA_ACR).")
    var mfaContexts: String?

    /// The provider, if one is configured; `publicURL` is where the provider sends people back.
    func resolve(publicURL: String, engine: Engine) throws -> [ProviderSignIn] {
        let issuer = setting(self.issuer, "oidc-issuer", default: "")
        guard !issuer.isEmpty else { return [] }
        let clientId = setting(self.clientId, "oidc-client-id", default: "")
        guard !clientId.isEmpty else { throw ValidationError("--oidc-issuer needs --oidc-client-id") }
        let environment = ProcessInfo.processInfo.environment
        var secret = environment["REGENT_OIDC_CLIENT_SECRET"]
        let secretFile = setting(clientSecretFile, "oidc-client-secret-file", default: "")
        if !secretFile.isEmpty {
            guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8) else {
                throw ValidationError("--oidc-client-secret-file \(secretFile) cannot be read")
            }
            secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let name = setting(self.name, "oidc-name", default: "SSO")
        guard (1...40).contains(name.count),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { throw ValidationError("--oidc-name is 1–40 letters, digits or -") }
        let claimText = setting(usernameClaim, "oidc-username-claim", default: "preferred_username")
        guard let claim = ProviderIdentityRules.NameClaim(rawValue: claimText) else {
            throw ValidationError("--oidc-username-claim takes preferred_username, email or sub")
        }
        let groups = setting(groupsClaim, "oidc-groups-claim", default: "")
        let prefix = setting(groupPrefix, "oidc-group-prefix", default: "")
        guard groups.isEmpty || !prefix.isEmpty else {
            throw ValidationError("--oidc-groups-claim needs --oidc-group-prefix, so local groups stay local")
        }
        guard prefix.isEmpty || (try? Principal.validatedName(prefix)) != nil else {
            throw ValidationError("--oidc-group-prefix is lowercase letters, digits or ._@+-, e.g. idp-")
        }
        let create = setting(createUsers, "oidc-create-users", default: "true")
        guard ["true", "false"].contains(create) else { throw ValidationError("--oidc-create-users is true or false") }
        guard publicURL.hasPrefix("http") else {
            throw ValidationError("--oidc-issuer needs --public-url: the provider sends people back there")
        }
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        let rules = ProviderIdentityRules(
            issuer: issuer, clientId: clientId, nameClaim: claim, groupsClaim: groups.isEmpty ? nil : groups,
            groupPrefix: prefix,
            mfaContexts: Set(
                setting(mfaContexts, "oidc-mfa-acr", default: "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                }))
        let provider = OpenIDProvider(
            .init(
                name: name, issuer: issuer, clientId: clientId, clientSecret: secret,
                scopes: setting(scopes, "oidc-scopes", default: "openid profile email").split(separator: " ").map(
                    String.init)))
        return [
            ProviderSignIn(
                engine: engine, provider: provider,
                settings: ProviderSignInSettings(
                    rules: rules, createUsers: create == "true",
                    redirectURI: "\(base)/login/provider/\(name)/callback"))
        ]
    }
}
