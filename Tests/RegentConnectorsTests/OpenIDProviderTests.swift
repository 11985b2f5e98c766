import Foundation
import RegentConnectors
import RegentCore
import Testing

/// ID tokens refused on their header alone, before any key is fetched: no signature, an HMAC
/// "signed" with the provider's public key, not a JWT at all.
struct OpenIDProviderTests {
    let provider = OpenIDProvider(
        .init(name: "idp", issuer: "http://127.0.0.1:9", clientId: "regent", clientSecret: nil, scopes: ["openid"]))

    func token(header: String, payload: String = #"{"sub":"x"}"#) -> String {
        func encode(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return "\(encode(header)).\(encode(payload)).c2ln"
    }

    @Test(arguments: [
        #"{"alg":"none"}"#, #"{"alg":"HS256","kid":"k1"}"#, #"{"alg":"HS512"}"#, #"{"kid":"k1"}"#, #"{"alg":"RS1"}"#,
    ])
    func refusedAlgorithms(header: String) async {
        await #expect(throws: RegentError(.unauthenticated, "", field: "idToken")) {
            try await provider.verifiedClaims(of: token(header: header))
        }
    }

    @Test(arguments: ["", "a.b", "not a token", "a.b.c.d"])
    func notJWTs(text: String) async {
        await #expect(throws: RegentError(.unauthenticated, "", field: "idToken")) {
            try await provider.verifiedClaims(of: text)
        }
    }

    @Test func pkceChallenge() {
        // RFC 7636 appendix B.
        #expect(
            OpenIDProvider.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
                == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }
}
