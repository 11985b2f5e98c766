import Foundation
import RegentCore
import RegentEngine
import Testing

@testable import RegentServer

/// SCIM's filter language and PATCH, as Entra ID and Okta send them, and what is refused.
struct SCIMProtocolTests {
    let user: [String: SCIMValue] = [
        "userName": .string("Zoë.O'Brien@Contoso.com"), "externalId": .string("AbC-1"),
        "emails": .array([.object(["value": .string("zoe@contoso.com"), "type": .string("work")])]),
        "active": .bool(true),
    ]

    func matches(_ filter: String) throws -> Bool { try SCIMFilter(parsing: filter).matches(user) }

    @Test func filters() throws {
        #expect(try matches(#"userName eq "zoë.o'brien@contoso.com""#))
        #expect(try matches(#"USERNAME sw "Zoë" and active eq true"#))
        #expect(try matches(#"urn:ietf:params:scim:schemas:core:2.0:User:userName co "BRIEN""#))
        #expect(try !matches(#"externalId eq "abc-1""#))
        #expect(try matches(#"externalId eq "AbC-1""#))
        #expect(try matches(#"emails[type eq "work" and value ew "@contoso.com"]"#))
        #expect(try matches(#"emails.value eq "ZOE@contoso.com""#))
        #expect(try matches(#"displayName pr or userName pr"#))
        #expect(try !matches(#"not (userName pr)"#))
        // `and` binds tighter than `or`.
        #expect(try matches(#"active eq false and userName pr or externalId eq "AbC-1""#))
        #expect(try !matches(#"active eq false and (userName pr or externalId eq "AbC-1")"#))
        let equality = try #require(try SCIMFilter(parsing: #"userName eq "x""#).equality)
        #expect(equality.attribute == "username" && equality.value == "x")
    }

    @Test(arguments: [
        #"userName eq"#, #"userName foo "x""#, #"(userName eq "x""#, #"userName eq "x"#, #"emails[type eq "work""#,
        #"userName eq "x" and"#, #"urn:example:evil:name eq "x""#, #"not userName pr"#, "",
        String(repeating: "(", count: 40) + #"userName pr"# + String(repeating: ")", count: 40),
        String(repeating: "a", count: 5000),
    ])
    func refusedFilters(_ filter: String) {
        #expect(throws: SCIMError.self) { try SCIMFilter(parsing: filter) }
    }

    func patch(_ operations: [SCIMValue], on resource: [String: SCIMValue]? = nil) throws -> [String: SCIMValue] {
        try SCIMPatch(
            parsing: .object([
                "schemas": .array([.string(SCIMPatch.schema)]), "Operations": .array(operations),
            ])
        ).applied(to: resource ?? user, readOnly: SCIMResources.userReadOnly, ignored: SCIMResources.userIgnored)
    }

    func op(_ op: String, _ path: String?, _ value: SCIMValue?) -> SCIMValue {
        var object: [String: SCIMValue] = ["op": .string(op)]
        object["path"] = path.map(SCIMValue.string)
        object["value"] = value
        return .object(object)
    }

    /// Entra ID deactivates with a capitalised op and a string boolean; Okta with a path-less object.
    @Test func deactivations() throws {
        let entra = try patch([op("Replace", "active", .string("False"))])
        #expect(try SCIMResources.userDraft(from: entra).active == false)
        let okta = try patch([op("replace", nil, .object(["active": .bool(false)]))])
        #expect(try SCIMResources.userDraft(from: okta).active == false)
    }

    @Test func memberRemovals() throws {
        let group: [String: SCIMValue] = [
            "displayName": .string("DBAs"),
            "members": .array([.object(["value": .string("a")]), .object(["value": .string("b")])]),
        ]
        func members(_ result: [String: SCIMValue]) -> [String] {
            result["members"]?.array?.compactMap { $0.object?["value"]?.string } ?? []
        }
        let readOnly = SCIMResources.groupReadOnly
        func apply(_ operation: SCIMValue) throws -> SCIMPatch {
            try SCIMPatch(
                parsing: .object(["schemas": .array([.string(SCIMPatch.schema)]), "Operations": .array([operation])]))
        }
        // Okta: a value path.
        let okta = try apply(op("remove", #"members[value eq "a"]"#, nil))
        #expect(members(try okta.applied(to: group, readOnly: readOnly, ignored: [])) == ["b"])
        #expect(okta.removedMembers == ["a"])
        // Entra ID: the members named in the value.
        let entra = try apply(op("Remove", "members", .array([.object(["value": .string("b")])])))
        #expect(members(try entra.applied(to: group, readOnly: readOnly, ignored: [])) == ["a"])
        #expect(entra.removedMembers == ["b"])
        // Adding twice keeps one.
        let add = try apply(
            op("Add", "members", .array([.object(["value": .string("a")]), .object(["value": .string("c")])])))
        #expect(members(try add.applied(to: group, readOnly: readOnly, ignored: [])) == ["a", "b", "c"])
    }

    /// Entra ID sets `emails[type eq "work"].value` on a user with no work email: it is added.
    @Test func valuePathReplace() throws {
        let result = try patch(
            [op("replace", #"emails[type eq "home"].value"#, .string("z@home.example"))])
        let draft = try SCIMResources.userDraft(from: result)
        #expect(draft.emails.map(\.value) == ["zoe@contoso.com", "z@home.example"])
        let changed = try patch([op("replace", #"emails[type eq "work"].value"#, .string("new@contoso.com"))])
        #expect(try SCIMResources.userDraft(from: changed).emails.map(\.value) == ["new@contoso.com"])
    }

    @Test func refusedPatches() throws {
        #expect(throws: SCIMError.mutability("groups cannot be changed")) {
            try patch([op("add", "groups", .array([.object(["value": .string("g")])]))])
        }
        #expect(throws: SCIMError.noTarget("remove needs a path")) { try patch([op("remove", nil, nil)]) }
        #expect(throws: SCIMError.self) { try patch([op("move", "active", .bool(true))]) }
        #expect(throws: SCIMError.self) { try patch([op("replace", "emails[type eq", .string("x"))]) }
        #expect(throws: SCIMError.self) {
            try SCIMResources.userDraft(from: try patch([op("add", "nickName2", .string("x"))]))
        }
        #expect(throws: SCIMError.self) {
            try SCIMResources.userDraft(from: try patch([op("replace", "active", .string("maybe"))]))
        }
        // What SCIM defines and Regent does not keep is taken and dropped.
        let ignored = try patch([
            op("replace", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", .string("IT")),
            op("add", "title", .string("DBA")),
        ])
        #expect(ignored == user)
    }

    /// Paging values from a search body are clamped: a huge or negative number is not a crash.
    @Test func searchPagingIsClamped() throws {
        let query = try SCIMQuery(search: .object(["startIndex": .number(1e300), "count": .number(-5)]))
        #expect(query.startIndex == 1_000_000_000 && query.count == 0)
        let big = try SCIMQuery(search: .object(["count": .number(1e12)]))
        #expect(big.count == SCIMHandler.maximumCount && big.startIndex == 1)
    }
}
