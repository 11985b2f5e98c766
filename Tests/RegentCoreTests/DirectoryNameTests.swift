import RegentCore
import Testing

/// Names as directories spell them, and the Regent names derived from them.
struct DirectoryNameTests {
    @Test(arguments: [
        ("Zoë.O'Brien@Contoso.com", "zoe.obrien@contoso.com"),
        ("Jürgen Groß", "jurgen-gross"),
        ("Łukasz Żółć", "lukasz-zolc"),
        ("  --Ops Team (EU)!", "ops-team-eu"),
        ("ANNA_MARIA+pim@example.org", "anna_maria+pim@example.org"),
        ("Ｆｕｌｌ", "full"),
    ])
    func derives(directoryName: String, regentName: String) throws {
        #expect(try DirectoryName.regentName(for: directoryName) == regentName)
    }

    @Test func refusesANameWithNothingUsable() {
        #expect(throws: RegentError.self) { try DirectoryName.regentName(for: "日本語") }
        #expect(throws: RegentError.self) { try DirectoryName.regentName(for: "''") }
    }

    @Test func keepsAtMost128Characters() throws {
        let name = try DirectoryName.regentName(for: String(repeating: "a", count: 300))
        #expect(name.count == 128)
    }

    @Test func matchesWithoutCaseOrNormalisationDifferences() {
        #expect(DirectoryName.matchingKey("Zoe\u{0308}@Contoso.COM") == DirectoryName.matchingKey("zoë@contoso.com"))
        #expect(DirectoryName.matchingKey("zoe@contoso.com") != DirectoryName.matchingKey("zoë@contoso.com"))
    }
}
