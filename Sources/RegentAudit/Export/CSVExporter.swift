public import Foundation

/// RFC 4180 CSV of the report's first sheet, with a header row. A cell that a spreadsheet would
/// read as a formula (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'`, so an exported audit
/// log cannot run code in the reader's spreadsheet (OWASP "CSV injection").
public enum CSVExporter {
    public static func export(_ table: ReportTable) -> Data {
        guard let sheet = table.sheets.first else { return Data() }
        var text = ""
        for row in [sheet.columns] + sheet.rows {
            text += row.map(cell).joined(separator: ",") + "\r\n"
        }
        return Data(text.utf8)
    }

    static func cell(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
