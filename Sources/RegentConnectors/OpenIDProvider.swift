import Crypto
public import Foundation
import JWTKit
public import RegentCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An OpenID Connect provider Regent signs people in with (Authorization Code flow with PKCE):
/// its metadata from discovery, its keys from its JWKS, cached and read again when a token names a
/// key Regent does not know (so the provider can rotate keys without a restart), the code
/// exchanged for an ID token, and the token's signature verified with jwt-kit under an
/// allow-list of algorithms. What the claims must say is ``ProviderIdentity``'s to decide.
public actor OpenIDProvider {
    public struct Configuration: Sendable {
        /// Shown on the sign-in page ("Sign in with <name>") and in paths.
        public var name: String
        public var issuer: String
        public var clientId: String
        public var clientSecret: String?
        public var scopes: [String]

        public init(name: String, issuer: String, clientId: String, clientSecret: String?, scopes: [String]) {
            self.name = name
            self.issuer = issuer
            self.clientId = clientId
            self.clientSecret = clientSecret
            self.scopes = scopes
        }
    }

    /// What discovery says (OpenID Connect Discovery 1.0 §3).
    public struct Metadata: Sendable, Decodable {
        public var issuer: String
        public var authorizationEndpoint: URL
        public var tokenEndpoint: URL
        public var jwksURI: URL
        /// Where a device asks to sign someone in (RFC 8628 §4), if the provider offers it.
        public var deviceAuthorizationEndpoint: URL?

        enum CodingKeys: String, CodingKey {
            case issuer
            case authorizationEndpoint = "authorization_endpoint"
            case tokenEndpoint = "token_endpoint"
            case jwksURI = "jwks_uri"
            case deviceAuthorizationEndpoint = "device_authorization_endpoint"
        }
    }

    /// Signatures Regent accepts; `none` and every HMAC algorithm are refused, so a token
    /// "signed" with the provider's public key as an HMAC secret is worth nothing.
    public static let allowedAlgorithms: Set<String> = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
    ]

    public nonisolated let configuration: Configuration
    private var metadata: Metadata?
    private var keys: [String: JWK] = [:]

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// The provider's metadata, read once; its issuer must be exactly the configured one.
    public func discover() async throws -> Metadata {
        if let metadata { return metadata }
        let base = configuration.issuer.hasSuffix("/") ? String(configuration.issuer.dropLast()) : configuration.issuer
        guard let url = URL(string: base + "/.well-known/openid-configuration") else {
            throw ExternalFailure(transient: false, "\(configuration.issuer) is not a URL")
        }
        let found = try JSONDecoder().decode(Metadata.self, from: try await Self.get(url, what: "discovery"))
        guard found.issuer == configuration.issuer else {
            throw ExternalFailure(
                transient: false, "the provider says its issuer is \(found.issuer), not \(configuration.issuer)")
        }
        metadata = found
        return found
    }

    /// Where to send the person: the authorization endpoint with this sign-in's state, nonce and
    /// PKCE challenge (S256), and any step-up parameters (`max_age`, `acr_values`, `prompt`).
    public func authorizationURL(
        state: String, nonce: String, codeVerifier: String, redirectURI: String, extra: [String: String] = [:]
    ) async throws -> URL {
        let metadata = try await discover()
        var components = URLComponents(url: metadata.authorizationEndpoint, resolvingAgainstBaseURL: false)
        var items = [
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "client_id", value: configuration.clientId),
            URLQueryItem(name: "redirect_uri", value: redirectURI),
            URLQueryItem(name: "scope", value: configuration.scopes.joined(separator: " ")),
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "nonce", value: nonce),
            URLQueryItem(name: "code_challenge", value: Self.challenge(for: codeVerifier)),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        items += extra.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + items
        guard let url = components?.url else { throw ExternalFailure(transient: false, "bad authorization endpoint") }
        return url
    }

    /// Exchanges an authorization code for the ID token (RFC 6749 §4.1.3, with the PKCE verifier).
    public func exchange(code: String, codeVerifier: String, redirectURI: String) async throws -> String {
        let metadata = try await discover()
        let (data, status) = try await post(
            [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                ("code_verifier", codeVerifier),
            ], to: metadata.tokenEndpoint, what: "the token endpoint")
        guard (200..<300).contains(status) else {
            throw ExternalFailure(transient: false, "the provider refused the code: \(Self.oauthError(data, status))")
        }
        return try Self.idToken(in: data)
    }

    /// What the provider answers a device that asks to sign someone in (RFC 8628 §3.2).
    public struct DeviceAuthorization: Sendable, Decodable {
        public var deviceCode: String
        public var userCode: String
        public var verificationURI: String
        public var verificationURIComplete: String?
        public var expiresIn: Int
        public var interval: Int?

        enum CodingKeys: String, CodingKey {
            case deviceCode = "device_code"
            case userCode = "user_code"
            case verificationURI = "verification_uri"
            case verificationURIComplete = "verification_uri_complete"
            case expiresIn = "expires_in"
            case interval
        }
    }

    /// Asks the provider to sign someone in on another device (RFC 8628 §3.1); nil when its
    /// discovery names no device authorization endpoint.
    public func authorizeDevice() async throws -> DeviceAuthorization? {
        let metadata = try await discover()
        guard let endpoint = metadata.deviceAuthorizationEndpoint else { return nil }
        let (data, status) = try await post(
            [("scope", configuration.scopes.joined(separator: " "))], to: endpoint,
            what: "the device authorization endpoint")
        guard (200..<300).contains(status) else {
            throw ExternalFailure(
                transient: false, "the provider refused the device sign-in: \(Self.oauthError(data, status))")
        }
        guard let answer = try? JSONDecoder().decode(DeviceAuthorization.self, from: data),
            (1...1024).contains(answer.deviceCode.count), (1...64).contains(answer.userCode.count),
            answer.verificationURI.hasPrefix("http"), answer.verificationURI.count < 1024
        else { throw ExternalFailure(transient: false, "the provider's device authorization answer is not RFC 8628's") }
        return answer
    }

    /// One poll of the token endpoint for a device sign-in (RFC 8628 §3.4–3.5).
    public enum DevicePoll: Sendable, Equatable {
        case pending
        /// The provider asks to poll less often.
        case slowDown
        case idToken(String)
    }

    public func pollDevice(deviceCode: String) async throws -> DevicePoll {
        let metadata = try await discover()
        let (data, status) = try await post(
            [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode)],
            to: metadata.tokenEndpoint, what: "the token endpoint")
        if (200..<300).contains(status) { return .idToken(try Self.idToken(in: data)) }
        switch Self.oauthError(data, status) {
        case "authorization_pending": return .pending
        case "slow_down": return .slowDown
        case "access_denied": throw ExternalFailure(transient: false, "the person declined the sign-in at the provider")
        case "expired_token": throw ExternalFailure(transient: false, "the device sign-in expired at the provider")
        case let error: throw ExternalFailure(transient: false, "the provider refused the device sign-in: \(error)")
        }
    }

    /// A form POST to one of the provider's endpoints, with this client's credentials
    /// (`client_secret_post`, RFC 6749 §2.3.1).
    private func post(_ fields: [(String, String)], to url: URL, what: String) async throws -> (Data, Int) {
        var form = fields + [("client_id", configuration.clientId)]
        if let secret = configuration.clientSecret { form.append(("client_secret", secret)) }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.httpBody = Data(
            form.map { "\(Self.formEncoded($0.0))=\(Self.formEncoded($0.1))" }.joined(separator: "&").utf8)
        let (data, response) = try await Self.load(request, what: what)
        return (data, response.statusCode)
    }

    /// The `error` of an OAuth error answer (RFC 6749 §5.2), else the HTTP status.
    static func oauthError(_ data: Data, _ status: Int) -> String {
        struct ErrorAnswer: Decodable { var error: String }
        let error = (try? JSONDecoder().decode(ErrorAnswer.self, from: data))?.error ?? "HTTP \(status)"
        return String(error.prefix(100))
    }

    static func idToken(in data: Data) throws -> String {
        struct TokenResponse: Decodable {
            var idToken: String
            enum CodingKeys: String, CodingKey { case idToken = "id_token" }
        }
        guard let answer = try? JSONDecoder().decode(TokenResponse.self, from: data) else {
            throw ExternalFailure(transient: false, "the provider's token response has no id_token")
        }
        return answer.idToken
    }

    /// The claims of an ID token whose signature is the provider's. The header's algorithm must
    /// be allowed and match the key it names (`kid`); a key Regent does not know, or a signature
    /// its cached key does not verify, makes it read the JWKS once more, then refuse.
    public func verifiedClaims(of token: String) async throws -> [String: JSONValue] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Self.base64URL(parts[0]), let payloadData = Self.base64URL(parts[1]),
            let header = try? JSONDecoder().decode([String: JSONValue].self, from: headerData)
        else { throw RegentError(.unauthenticated, "the ID token is not a signed JWT", field: "idToken") }
        guard let alg = header["alg"]?.string, Self.allowedAlgorithms.contains(alg) else {
            throw RegentError(
                .unauthenticated, "the ID token's algorithm \(header["alg"]?.string ?? "?") is not allowed",
                field: "idToken")
        }
        // Without a `kid` the provider must publish exactly one key (OpenID Connect Core §10.1).
        let kid = header["kid"]?.string
        func find() -> JWK? { kid.map { keys[$0] } ?? (keys.count == 1 ? keys.first?.value : nil) }
        var verified = false
        if let jwk = find() { verified = try await Self.verify(token, alg: alg, with: jwk) }
        // A key Regent does not know, or one that no longer verifies: the provider may have
        // rotated its keys; read them again and try once more. The token came from the provider's
        // token endpoint over TLS, in exchange for a code, so nobody can make Regent read the
        // JWKS at will.
        if !verified {
            try await readKeys()
            guard let jwk = find() else {
                throw RegentError(
                    .unauthenticated, "the ID token is signed by a key the provider does not publish", field: "idToken")
            }
            verified = try await Self.verify(token, alg: alg, with: jwk)
        }
        guard verified else {
            throw RegentError(.unauthenticated, "the ID token's signature does not verify", field: "idToken")
        }
        guard let claims = try? JSONDecoder().decode([String: JSONValue].self, from: payloadData) else {
            throw RegentError(.unauthenticated, "the ID token's claims are not JSON", field: "idToken")
        }
        return claims
    }

    /// Whether the signature verifies with `jwk`; refused outright when the algorithm is not the
    /// key's.
    static func verify(_ token: String, alg: String, with jwk: JWK) async throws -> Bool {
        let family: JWK.KeyType = alg.hasPrefix("ES") ? .ecdsa : .rsa
        guard jwk.keyType == family, jwk.algorithm.map({ $0.rawValue == alg }) ?? true else {
            throw RegentError(.unauthenticated, "the ID token's algorithm does not match its key", field: "idToken")
        }
        do {
            let collection = try await JWTKeyCollection().add(jwk: jwk)
            _ = try await collection.verify(token, as: SignatureOnly.self)
            return true
        } catch {
            return false
        }
    }

    private func readKeys() async throws {
        let metadata = try await discover()
        let data = try await Self.get(metadata.jwksURI, what: "the JWKS")
        guard let set = try? JSONDecoder().decode(JWKS.self, from: data) else {
            throw ExternalFailure(transient: true, "the provider's JWKS is not a key set")
        }
        keys = Dictionary(set.keys.compactMap { key in key.keyIdentifier.map { ($0.string, key) } }) { first, _ in first
        }
    }

    /// A payload that decodes nothing: jwt-kit checks only the signature; the claims are read
    /// and judged by ``ProviderIdentity``.
    struct SignatureOnly: JWTPayload {
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws {}
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
    public static func challenge(for verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URL(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    static func formEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    static func get(_ url: URL, what: String) async throws -> Data {
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let (data, response) = try await load(request, what: what)
        guard (200..<300).contains(response.statusCode) else {
            throw ExternalFailure(transient: true, "the provider's \(what) answered HTTP \(response.statusCode)")
        }
        return data
    }

    static func load(_ request: URLRequest, what: String) async throws -> (Data, HTTPURLResponse) {
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                throw ExternalFailure(transient: true, "the provider's \(what) gave no HTTP answer")
            }
            return (data, http)
        } catch let failure as ExternalFailure {
            throw failure
        } catch {
            throw ExternalFailure(
                transient: true, "the provider's \(what) is unreachable: \(error.localizedDescription)")
        }
    }
}
