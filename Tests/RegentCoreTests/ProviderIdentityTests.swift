import Foundation
import RegentCore
import RegentTestSupport
import Testing

/// What an ID token's claims must say before Regent believes who signed in, and how MFA and
/// groups are read from them.
struct ProviderIdentityTests {
    let rules = ProviderIdentityRules(
        issuer: "https://idp.example", clientId: "regent", groupsClaim: "groups", groupPrefix: "idp-",
        mfaContexts: ["urn:example:mfa"])
    var now: Date { t0 }

    func claims(_ change: (inout [String: JSONValue]) -> Void = { _ in }) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [
            "iss": .string("https://idp.example"), "aud": .string("regent"), "sub": .string("00u1"),
            "exp": .number(now.timeIntervalSince1970 + 300), "iat": .number(now.timeIntervalSince1970 - 5),
            "nonce": .string("n-1"), "preferred_username": .string("Zoë.O'Brien@Contoso.com"),
            "groups": .array([.string("DBAs"), .string("ops")]),
        ]
        change(&claims)
        return claims
    }

    func verify(_ claims: [String: JSONValue], rules: ProviderIdentityRules? = nil) throws(RegentError)
        -> ProviderIdentity
    {
        try ProviderIdentity.verify(claims, rules: rules ?? self.rules, nonce: "n-1", now: now)
    }

    @Test func aGoodToken() throws {
        let identity = try verify(claims())
        #expect(identity.subject == "00u1" && identity.name == "Zoë.O'Brien@Contoso.com")
        #expect(identity.regentGroups(rules: rules) == ["idp-dbas", "idp-ops"])
        #expect(identity.mfaVerifiedAt == nil && identity.mfaMethod == nil)
    }

    @Test(arguments: [
        ("iss", JSONValue.string("https://evil.example"), "another issuer"),
        ("aud", .string("someone-else"), "another client"),
        ("aud", .array([.string("regent"), .string("other")]), "azp"),
        ("azp", .string("other"), "another party"),
        ("exp", .number(t0.timeIntervalSince1970 - 61), "expired"),
        ("iat", .number(t0.timeIntervalSince1970 + 120), "iat"),
        ("iat", .number(t0.timeIntervalSince1970 - 3600), "iat"),
        ("nonce", .string("n-2"), "nonce"),
        ("sub", .string(""), "subject"),
        ("preferred_username", .null, "preferred_username"),
    ])
    func refused(claim: String, value: JSONValue, reason: String) {
        var bad = claims()
        bad[claim] = value == .null ? nil : value
        do throws(RegentError) {
            _ = try verify(bad)
            Issue.record("\(claim) = \(value) was accepted")
        } catch {
            #expect(error.code == .unauthenticated)
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    /// What a person may set at the provider is kept without control characters, at most 256 long.
    @Test func displayNamesAreKeptClean() throws {
        let identity = try verify(
            claims {
                $0["name"] = .string("Zoë\u{0}\u{7}" + String(repeating: "x", count: 300))
                $0["email"] = .string("zoe\u{0}@contoso.com")
            })
        #expect(identity.displayName?.hasPrefix("Zoëxx") == true && identity.displayName?.count == 256)
        #expect(identity.email == "zoe@contoso.com")
    }

    @Test func aMissingNonceIsRefused() {
        #expect(throws: RegentError.self) { try verify(claims { $0["nonce"] = nil }) }
    }

    /// The device grant sends no nonce: its token must carry none, so a token minted for a
    /// browser sign-in (which does) is not taken for it.
    @Test func theDeviceGrantWantsNoNonce() throws {
        let device = try ProviderIdentity.verify(claims { $0["nonce"] = nil }, rules: rules, nonce: nil, now: now)
        #expect(device.subject == "00u1")
        #expect(throws: RegentError.self) { try ProviderIdentity.verify(claims(), rules: rules, nonce: nil, now: now) }
    }

    /// Groups named one by one fill exactly the Regent groups the map says, beside the prefix;
    /// a local group is never the provider's.
    @Test func anExplicitGroupMap() throws {
        var mapped = rules
        mapped.groupMap = ["8c1f-object-id": "dba", "Okta Ops": "ops-oncall"]
        let identity = try verify(
            claims { $0["groups"] = .array([.string("8c1f-object-id"), .string("Okta Ops"), .string("ops")]) },
            rules: mapped)
        #expect(identity.regentGroups(rules: mapped) == ["dba", "ops-oncall", "idp-ops"])
        #expect(mapped.ownsGroup(named: "dba") && mapped.ownsGroup(named: "idp-anything"))
        #expect(!mapped.ownsGroup(named: "admins"))
        mapped.groupPrefix = ""
        #expect(identity.regentGroups(rules: mapped) == ["dba", "ops-oncall"])
        mapped.groupsClaim = nil
        #expect(!mapped.ownsGroup(named: "dba"))
    }

    /// Two providers filling the same Regent groups would undo each other's sign-ins.
    @Test func providersThatWouldFillTheSameGroupsAreRefused() {
        func provider(_ name: String, prefix: String = "", map: [String: String] = [:]) -> (
            name: String, rules: ProviderIdentityRules
        ) {
            (
                name,
                ProviderIdentityRules(
                    issuer: name, clientId: "c", groupsClaim: "groups", groupPrefix: prefix, groupMap: map)
            )
        }
        #expect(
            ProviderIdentityRules.conflict(among: [provider("a", prefix: "a-"), provider("b", prefix: "b-")]) == nil)
        #expect(ProviderIdentityRules.conflict(among: [provider("a"), provider("a", prefix: "x-")]) != nil)
        #expect(
            ProviderIdentityRules.conflict(among: [provider("a", prefix: "idp-"), provider("b", prefix: "idp-eu-")])?
                .contains("idp-eu-") == true)
        #expect(
            ProviderIdentityRules.conflict(among: [provider("a", prefix: "a-"), provider("b", map: ["g": "a-dba"])])?
                .contains("a-dba") == true)
        #expect(
            ProviderIdentityRules.conflict(among: [provider("a", map: ["x": "dba"]), provider("b", map: ["y": "dba"])])
                != nil)
        #expect(
            ProviderIdentityRules.conflict(among: [provider("a", map: ["x": "dba"]), provider("b", map: ["x": "ops"])])
                == nil)
    }

    /// An address the provider has not verified is one anybody could have typed there.
    @Test func emailMustBeVerified() throws {
        var byEmail = rules
        byEmail.nameClaim = .email
        #expect(throws: RegentError.self) {
            try verify(claims { $0["email"] = .string("admin@contoso.com") }, rules: byEmail)
        }
        #expect(throws: RegentError.self) {
            try verify(
                claims {
                    $0["email"] = .string("admin@contoso.com")
                    $0["email_verified"] = .string("true")
                }, rules: byEmail)
        }
        let verified = try verify(
            claims {
                $0["email"] = .string("amy@contoso.com")
                $0["email_verified"] = .bool(true)
            }, rules: byEmail)
        #expect(verified.name == "amy@contoso.com")
    }

    @Test func mfaFromTheProvider() throws {
        let authTime = now.timeIntervalSince1970 - 120
        let byAmr = try verify(
            claims {
                $0["amr"] = .array([.string("pwd"), .string("hwk")])
                $0["auth_time"] = .number(authTime)
            })
        #expect(byAmr.mfaMethod == "amr:hwk" && byAmr.mfaVerifiedAt == Date(timeIntervalSince1970: authTime))
        let byAcr = try verify(claims { $0["acr"] = .string("urn:example:mfa") })
        #expect(byAcr.mfaMethod == "acr:urn:example:mfa")
        let passwordOnly = try verify(claims { $0["amr"] = .array([.string("pwd")]) })
        #expect(passwordOnly.mfaVerifiedAt == nil)
        // An auth_time in the future is not a fresher MFA than now.
        let future = try verify(
            claims {
                $0["amr"] = .string("mfa")
                $0["auth_time"] = .number(now.timeIntervalSince1970 + 3600)
            })
        #expect(future.mfaVerifiedAt == now)
    }

    /// The activation's audit event says how MFA was met.
    @Test func theActivationRecordsHowMFAWasMet() throws {
        func mfa(_ context: RequestContext) throws -> String? {
            let (_, effects) = try activate(.defaults, context: context)
            return effects.compactMap {
                if case .audit(let note) = $0, note.action == .requestCreated { note } else { nil }
            }
            .first?.details["mfa"]
        }
        #expect(try mfa(RequestContext(now: t0, mfaVerifiedAt: t0 - 60, mfaMethod: "amr:hwk")) == "amr:hwk")
        #expect(try mfa(RequestContext(now: t0, mfaVerifiedAt: t0 - 60)) == "totp")
    }
}
