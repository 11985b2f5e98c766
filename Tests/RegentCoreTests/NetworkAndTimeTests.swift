import Foundation
import RegentCore
import RegentTestSupport
import Testing

struct NetworkAndTimeTests {
    /// CIDR blocks match addresses inside them only, for both families.
    @Test func cidrMatching() throws {
        let ten = try NetworkRange(parsing: "10.0.0.0/8")
        #expect(ten.contains(IPAddress("10.200.3.4")!))
        #expect(!ten.contains(IPAddress("11.0.0.1")!))
        #expect(ten.contains(IPAddress("::ffff:10.1.2.3")!))
        let v6 = try NetworkRange(parsing: "2001:db8::/32")
        #expect(v6.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(!v6.contains(IPAddress("2001:db9::1")!))
        #expect(!v6.contains(IPAddress("10.0.0.1")!))
        #expect(try NetworkRange(parsing: "192.168.1.77/24").description == "192.168.1.0/24")
        #expect(try NetworkRange(parsing: "::1").contains(IPAddress("::1")!))
        // Written back as RFC 5952 says: the longest zero run (the first of equals) as ::, lower case.
        for (text, written) in [
            ("2001:DB8:0:0:0:0:0:0/32", "2001:db8::/32"), ("::1", "::1/128"), ("::", "::/128"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"),
            ("fe80:0:0:1:0:0:0:2", "fe80:0:0:1::2/128"),
        ] {
            #expect(try NetworkRange(parsing: text).description == written)
        }
    }

    /// Malformed addresses and prefixes are refused.
    @Test(arguments: [
        "", "10.0.0/8", "10.0.0.256", "10.0.0.1/33", "010.0.0.1", "1:2:3:4:5:6:7:8:9", "::1/129", "a::b::c",
        "10.0.0.1/", "x",
    ])
    func refusesMalformed(text: String) {
        #expect(throws: RegentError.invalid("networks", "")) { try NetworkRange(parsing: text) }
    }

    /// A window is read in its own time zone, and one spanning midnight belongs to its start day.
    @Test func timeWindows() throws {
        // 1_800_000_000 is Friday 2027-01-15 08:00 UTC = 09:00 in Paris.
        let office = try TimeWindow(days: [1, 2, 3, 4, 5], start: "09:00", end: "18:00", timeZone: "Europe/Paris")
        #expect(office.contains(t0))
        #expect(!office.contains(t0 - 60))
        #expect(!office.contains(t0 + 86_400))  // Saturday
        let night = try TimeWindow(days: [5], start: "22:00", end: "02:00", timeZone: "UTC")
        #expect(night.contains(t0 + 17 * 3600))  // Sat 01:00 UTC, Friday's window
        #expect(!night.contains(t0 + 13 * 3600))
        #expect(throws: RegentError.invalid("timeWindows", "")) {
            try TimeWindow(days: [8], start: "09:00", end: "10:00", timeZone: "UTC")
        }
        #expect(throws: RegentError.invalid("timeWindows", "")) {
            try TimeWindow(days: [1], start: "9:00", end: "10:00", timeZone: "Mars/Olympus")
        }
    }
}
