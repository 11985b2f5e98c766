public import Foundation
public import OpenAPIRuntime

/// Dates on the wire as RFC 3339 in UTC with milliseconds (`2026-11-22T07:30:00.250Z`): Regent
/// keeps times to the millisecond, and an expiry reported to the second would hide up to a second
/// of it. Any RFC 3339 form is accepted on input, with or without fractions or an offset. Encoding
/// is plain arithmetic (no formatter, no lock), since `/v1/check` formats a date on every call.
public struct RFC3339DateTranscoder: DateTranscoder {
    public init() {}

    public func encode(_ date: Date) throws -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (day, time) = millisecondOfDay < 0 ? (days - 1, millisecondOfDay + 86_400_000) : (days, millisecondOfDay)
        let (year, month, dayOfMonth) = Self.civil(fromDays: day)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(dayOfMonth, 2))T\(pad(time / 3_600_000, 2)):"
            + "\(pad(time / 60_000 % 60, 2)):\(pad(time / 1000 % 60, 2)).\(pad(time % 1000, 3))Z"
    }

    /// Read to the millisecond, like everything Regent stores.
    public func decode(_ text: String) throws -> Date {
        let withFractions = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = (try? withFractions.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) {
            return Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
        }
        throw DecodingError.dataCorrupted(
            .init(codingPath: [], debugDescription: "'\(text.prefix(64))' is not an RFC 3339 date-time"))
    }

    /// Year, month and day of a count of days since 1970-01-01 (proleptic Gregorian).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Configuration {
    /// How Regent's server and client encode dates.
    public static var regent: Configuration { Configuration(dateTranscoder: RFC3339DateTranscoder()) }
}
