import Foundation
import RegentCore
import Testing

struct ISODurationTests {
    /// Valid spellings parse to exact seconds and print canonically.
    @Test(arguments: [
        ("PT30M", 1800, "PT30M"), ("P90D", 7_776_000, "P90D"), ("P1DT2H", 93_600, "P1DT2H"),
        ("PT1H30M15S", 5415, "PT1H30M15S"), ("P2W", 1_209_600, "P14D"), ("PT0S", 0, "PT0S"), ("PT90M", 5400, "PT1H30M"),
    ])
    func parses(text: String, seconds: Int64, canonical: String) throws {
        let duration = try ISODuration(parsing: text)
        #expect(duration.seconds == seconds)
        #expect(duration.description == canonical)
    }

    /// Malformed durations are refused with the field named, never guessed.
    @Test(arguments: [
        "", "P", "PT", "1H", "pt1h", "PT1.5H", "P-1D", "PT1H1H", "PT1M1H", "P1Y", "P1M", "PT", "P1DT", "P1D2H",
        "PT1HT1M", "P1W1D", "PT99999999999999S", "P4000D", " PT1H", "PT1H ",
    ])
    func refusesMalformed(text: String) {
        #expect(throws: RegentError.invalid("window", "")) { try ISODuration(parsing: text, field: "window") }
    }

    /// Durations round-trip through JSON as their ISO spelling.
    @Test func codable() throws {
        let data = try JSONEncoder().encode([ISODuration.hours(2)])
        #expect(String(decoding: data, as: UTF8.self) == #"["PT2H"]"#)
        #expect(try JSONDecoder().decode([ISODuration].self, from: data) == [.hours(2)])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([ISODuration].self, from: Data(#"["2h"]"#.utf8))
        }
    }
}
