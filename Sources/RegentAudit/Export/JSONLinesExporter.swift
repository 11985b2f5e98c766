public import Foundation

/// JSON Lines: a first line describing the export (title, filters, time, columns), then one
/// object per row keyed by column name; later sheets follow with their name in `"sheet"`.
public enum JSONLinesExporter {
    public static func export(_ table: ReportTable) -> Data {
        var lines: [Data] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header: [String: String] = [
            "export": table.title, "filters": table.filterLine, "generatedAt": table.generatedAt.formatted(.iso8601),
        ]
        lines.append((try? encoder.encode(header)) ?? Data())
        for sheet in table.sheets {
            for row in sheet.rows {
                var object = Dictionary(
                    zip(sheet.columns, row).map { ($0, $1) }, uniquingKeysWith: { first, _ in first })
                if sheet.name != table.sheets.first?.name { object["sheet"] = sheet.name }
                lines.append((try? encoder.encode(object)) ?? Data())
            }
        }
        return lines.reduce(into: Data()) { out, line in
            out.append(line)
            out.append(0x0A)
        }
    }
}
