import Foundation
import RegentAPI
import Testing

/// Dates go out as RFC 3339 UTC with milliseconds and come back the same; any RFC 3339 form is read.
struct DateTranscoderTests {
    let transcoder = RFC3339DateTranscoder()

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_800_000_000.25, "2027-01-15T08:00:00.250Z"),
        (951_782_400.999, "2000-02-29T00:00:00.999Z"),
        (-1.5, "1969-12-31T23:59:58.500Z"),
        (4_102_444_799.0, "2099-12-31T23:59:59.000Z"),
    ])
    func encodes(seconds: Double, text: String) throws {
        #expect(try transcoder.encode(Date(timeIntervalSince1970: seconds)) == text)
        #expect(try transcoder.decode(text) == Date(timeIntervalSince1970: seconds))
    }

    /// Every millisecond-aligned date over four centuries survives the round trip (sampled).
    @Test func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let milliseconds = Int64.random(in: -2_208_988_800_000...7_258_118_400_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = try transcoder.encode(date)
            #expect(abs(try transcoder.decode(text).timeIntervalSince(date)) < 0.0005, "\(text)")
            let reference = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
            #expect(text.prefix(19) == reference.prefix(19), "\(text) vs \(reference)")
        }
    }

    @Test func readsOtherForms() throws {
        #expect(try transcoder.decode("2026-11-22T07:30:00Z") == Date(timeIntervalSince1970: 1_795_332_600))
        #expect(try transcoder.decode("2026-11-22T08:30:00+01:00") == Date(timeIntervalSince1970: 1_795_332_600))
        #expect(throws: (any Error).self) { try transcoder.decode("yesterday") }
    }
}
