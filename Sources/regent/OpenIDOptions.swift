import ArgumentParser
import Foundation
import RegentConnectors
import RegentCore
import RegentEngine
import Yams

/// `regent serve`'s sign-in through the organisation's OpenID providers: one from the
/// `--oidc-*` flags, and any number from `--oidc-provider FILE` (one YAML file per provider, with
/// the flags' names as keys). A client secret comes from an environment variable or a file,
/// never a flag or the provider file, so it is in no process listing and no repository.
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
        help:
            "The claim listing the person's groups (REGENT_OIDC_GROUPS_CLAIM); needs --oidc-group-prefix or --oidc-group-map."
    )
    var groupsClaim: String?
    @Option(
        name: .customLong("oidc-group-prefix"),
        help:
            "Provider group G is the Regent group named <prefix>G; the provider fills only groups under the prefix (REGENT_OIDC_GROUP_PREFIX)."
    )
    var groupPrefix: String?
    @Option(
        name: .customLong("oidc-group-map"),
        help: "PROVIDER-GROUP=regent-group: this provider group fills that Regent group (repeatable).")
    var groupMap: [String] = []
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
    @Option(
        name: .customLong("oidc-provider"),
        help:
            "A YAML file describing one more provider, with the --oidc-* names as keys (issuer, client-id, client-secret-file or client-secret-env, name, scopes, username-claim, groups-claim, group-prefix, group-map, create-users, mfa-acr); repeatable (REGENT_OIDC_PROVIDERS, comma-separated)."
    )
    var providerFiles: [String] = []

    /// Whether any provider is configured (so people have a way in besides passwords).
    var isConfigured: Bool {
        !setting(issuer, "oidc-issuer", default: "").isEmpty || !files.isEmpty
    }

    private var files: [String] {
        SettingSources.shared.values(providerFiles, "oidc-provider", environment: "REGENT_OIDC_PROVIDERS")
    }

    /// The providers configured, each checked (before anything is opened); `publicURL` is where
    /// each sends people back.
    func resolve(publicURL: String) throws -> [ConfiguredProvider] {
        var all: [ProviderSettings] = []
        let issuer = setting(self.issuer, "oidc-issuer", default: "")
        if !issuer.isEmpty {
            all.append(try flagSettings(issuer: issuer))
        }
        for file in files { all.append(try ProviderSettings.load(file)) }
        guard !all.isEmpty else { return [] }
        guard publicURL.hasPrefix("http") else {
            throw ValidationError("an OpenID provider needs --public-url: the provider sends people back there")
        }
        let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        let providers = try all.map { try $0.checked(base: base) }
        if let conflict = ProviderIdentityRules.conflict(
            among: providers.map { ($0.provider.configuration.name, $0.settings.rules) })
        {
            throw ValidationError("OpenID providers: \(conflict)")
        }
        return providers
    }

    private func flagSettings(issuer: String) throws -> ProviderSettings {
        var map: [String: String] = [:]
        for entry in SettingSources.shared.values(groupMap, "oidc-group-map") {
            guard let equals = entry.lastIndex(of: "="), equals != entry.startIndex else {
                throw ValidationError("--oidc-group-map takes PROVIDER-GROUP=regent-group, not \(entry)")
            }
            map[String(entry[..<equals])] = String(entry[entry.index(after: equals)...])
        }
        return ProviderSettings(
            source: "--oidc-issuer", name: setting(name, "oidc-name", default: "SSO"), issuer: issuer,
            clientId: setting(clientId, "oidc-client-id", default: ""),
            clientSecretFile: setting(clientSecretFile, "oidc-client-secret-file", default: ""),
            clientSecretEnv: "REGENT_OIDC_CLIENT_SECRET",
            scopes: setting(scopes, "oidc-scopes", default: ProviderSettings.defaultScopes),
            usernameClaim: setting(usernameClaim, "oidc-username-claim", default: "preferred_username"),
            groupsClaim: setting(groupsClaim, "oidc-groups-claim", default: ""),
            groupPrefix: setting(groupPrefix, "oidc-group-prefix", default: ""), groupMap: map,
            createUsers: setting(createUsers, "oidc-create-users", default: "true"),
            mfaContexts: setting(mfaContexts, "oidc-mfa-acr", default: "").split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            })
    }
}

/// A provider whose settings were checked, and how people sign in through it.
struct ConfiguredProvider {
    var provider: OpenIDProvider
    var settings: ProviderSignInSettings

    func signIn(engine: Engine) -> ProviderSignIn {
        ProviderSignIn(engine: engine, provider: provider, settings: settings)
    }
}

/// One provider's settings as given, from the flags or a provider file; ``checked(base:)``
/// checks every one, naming the source of a bad one.
struct ProviderSettings {
    static let defaultScopes = "openid profile email"

    var source: String
    var name: String
    var issuer: String
    var clientId: String
    var clientSecretFile: String
    var clientSecretEnv: String
    var scopes: String
    var usernameClaim: String
    var groupsClaim: String
    var groupPrefix: String
    var groupMap: [String: String]
    var createUsers: String
    var mfaContexts: [String]

    /// A provider file. Every key is one of the flags' (without `oidc-`); anything else, a secret
    /// written inline among them, is refused rather than ignored.
    static func load(_ path: String) throws -> ProviderSettings {
        let fields = try yamlSettings(at: path, label: "--oidc-provider \(path)")
        func value(_ key: String, default fallback: String = "") throws -> String {
            guard let node = fields[key] else { return fallback }
            guard let text = node.scalar?.string else { throw ValidationError("\(path): \(key) is text") }
            return text
        }
        if fields["client-secret"] != nil {
            throw ValidationError(
                "\(path): client-secret is never written in the file; use client-secret-file or client-secret-env")
        }
        let known: Set<String> = [
            "name", "issuer", "client-id", "client-secret-file", "client-secret-env", "scopes", "username-claim",
            "groups-claim", "group-prefix", "group-map", "create-users", "mfa-acr",
        ]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw ValidationError("\(path): \(unknown) is not a provider setting")
        }
        var map: [String: String] = [:]
        if let given = fields["group-map"] {
            guard let entries = given.mapping else {
                throw ValidationError("\(path): group-map maps provider groups to Regent groups")
            }
            for (group, regent) in entries {
                guard let group = group.scalar?.string, let regent = regent.scalar?.string else {
                    throw ValidationError("\(path): group-map maps a provider group's name to a Regent group's")
                }
                map[group] = regent
            }
        }
        let contexts: [String]
        if let list = fields["mfa-acr"]?.sequence {
            contexts = try list.map {
                guard let value = $0.scalar?.string else { throw ValidationError("\(path): mfa-acr lists text") }
                return value
            }
        } else {
            contexts = try value("mfa-acr").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return ProviderSettings(
            source: path, name: try value("name", default: "SSO"), issuer: try value("issuer"),
            clientId: try value("client-id"), clientSecretFile: try value("client-secret-file"),
            clientSecretEnv: try value("client-secret-env"), scopes: try value("scopes", default: defaultScopes),
            usernameClaim: try value("username-claim", default: "preferred_username"),
            groupsClaim: try value("groups-claim"), groupPrefix: try value("group-prefix"), groupMap: map,
            createUsers: try value("create-users", default: "true"), mfaContexts: contexts)
    }

    /// The provider these settings describe, once every value is checked.
    func checked(base: String) throws -> ConfiguredProvider {
        func refuse(_ problem: String) -> ValidationError { ValidationError("\(source): \(problem)") }
        guard issuer.hasPrefix("https://") || issuer.hasPrefix("http://") else { throw refuse("issuer is a URL") }
        guard !clientId.isEmpty else { throw refuse("the provider needs a client id") }
        var secret = clientSecretEnv.isEmpty ? nil : ProcessInfo.processInfo.environment[clientSecretEnv]
        if !clientSecretFile.isEmpty {
            guard let text = try? String(contentsOfFile: clientSecretFile, encoding: .utf8) else {
                throw refuse("the client secret file \(clientSecretFile) cannot be read")
            }
            secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard (1...40).contains(name.count),
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
        else { throw refuse("the name is 1–40 letters, digits or -") }
        guard let claim = ProviderIdentityRules.NameClaim(rawValue: usernameClaim) else {
            throw refuse("the username claim is preferred_username, email or sub")
        }
        guard groupsClaim.isEmpty || !groupPrefix.isEmpty || !groupMap.isEmpty else {
            throw refuse("a groups claim needs a group prefix or a group map, so local groups stay local")
        }
        guard groupPrefix.isEmpty || (try? Principal.validatedName(groupPrefix)) != nil else {
            throw refuse("the group prefix is lowercase letters, digits or ._@+-, e.g. idp-")
        }
        for (group, regent) in groupMap {
            guard !group.isEmpty, (try? Principal.validatedName(regent)) != nil else {
                throw refuse("the group map sends \(group) to \(regent), which is not a Regent group name")
            }
        }
        guard ["true", "false"].contains(createUsers) else { throw refuse("create-users is true or false") }
        let rules = ProviderIdentityRules(
            issuer: issuer, clientId: clientId, nameClaim: claim, groupsClaim: groupsClaim.isEmpty ? nil : groupsClaim,
            groupPrefix: groupPrefix, groupMap: groupMap, mfaContexts: Set(mfaContexts.filter { !$0.isEmpty }))
        let provider = OpenIDProvider(
            .init(
                name: name, issuer: issuer, clientId: clientId, clientSecret: secret,
                scopes: scopes.split(separator: " ").map(String.init)))
        return ConfiguredProvider(
            provider: provider,
            settings: ProviderSignInSettings(
                rules: rules, createUsers: createUsers == "true", redirectURI: "\(base)/login/provider/\(name)/callback"
            ))
    }
}
