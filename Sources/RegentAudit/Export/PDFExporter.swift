public import Foundation

/// A paginated PDF 1.4 table (landscape A4, the standard Helvetica fonts, WinAnsi text): the
/// title, the filters and the generation time on the first page, the column headers on every
/// page, "Page n of N" at the foot. Written by hand because the format needs only text and lines
/// and no PDF library is on the mirror. Cells too wide for their column are cut with "...".
public enum PDFExporter {
    static let pageWidth = 842.0
    static let pageHeight = 595.0
    static let margin = 36.0
    static let fontSize = 7.0
    static let lineHeight = 9.5

    public static func export(_ table: ReportTable) -> Data {
        var pages: [String] = []
        for (index, sheet) in table.sheets.enumerated() {
            pages += layout(sheet, table: table, first: index == 0)
        }
        if pages.isEmpty { pages = [heading(table)] }
        let total = pages.count
        let contents = pages.enumerated().map { index, page in
            page + text("Page \(index + 1) of \(total)", x: pageWidth - margin - 60, y: margin / 2, size: 7)
        }
        return document(contents, title: table.title, created: table.generatedAt)
    }

    /// The sheet's pages: each a content stream.
    private static func layout(_ sheet: ReportTable.Sheet, table: ReportTable, first: Bool) -> [String] {
        let widths = columnWidths(sheet)
        var pages: [String] = []
        var page = ""
        var y = 0.0
        func startPage() {
            if !page.isEmpty { pages.append(page) }
            page = ""
            y = pageHeight - margin
            if pages.isEmpty && first {
                page += heading(table)
                y -= 52
            } else {
                page += text("\(table.title) (\(sheet.name))", x: margin, y: y, size: 9, bold: true)
                y -= 16
            }
            page += row(sheet.columns, widths: widths, y: y, bold: true)
            page += "0.5 w \(margin) \(y - 2.5) m \(pageWidth - margin) \(y - 2.5) l S\n"
            y -= lineHeight + 2
        }
        startPage()
        for cells in sheet.rows {
            if y < margin + lineHeight { startPage() }
            page += row(cells, widths: widths, y: y, bold: false)
            y -= lineHeight
        }
        if sheet.rows.isEmpty { page += text("(no rows)", x: margin, y: y, size: fontSize) }
        pages.append(page)
        return pages
    }

    private static func heading(_ table: ReportTable) -> String {
        let top = pageHeight - margin
        return text(table.title, x: margin, y: top, size: 14, bold: true)
            + text("Filters: \(table.filterLine)", x: margin, y: top - 18, size: 8)
            + text("Generated: \(table.generatedAt.formatted(.iso8601)) by Regent", x: margin, y: top - 29, size: 8)
    }

    /// Widths proportional to each column's typical text (hashes in full, other text up to 40
    /// characters), within the printable width.
    static func columnWidths(_ sheet: ReportTable.Sheet) -> [Double] {
        let sample = sheet.rows.prefix(500)
        let wanted = sheet.columns.indices.map { column -> Double in
            let cap = sheet.columns[column].lowercased().contains("hash") ? 64 : 40
            let lengths = sample.map { $0.indices.contains(column) ? min($0[column].count, cap) : 0 }
            let typical = lengths.isEmpty ? 0 : lengths.sorted()[lengths.count * 9 / 10]
            return Double(max(sheet.columns[column].count + 1, typical, 4))
        }
        let total = wanted.reduce(0, +)
        let available = pageWidth - 2 * margin
        return wanted.map { $0 / total * available }
    }

    private static func row(_ cells: [String], widths: [Double], y: Double, bold: Bool) -> String {
        var x = margin
        var out = ""
        for (index, width) in widths.enumerated() {
            let value = cells.indices.contains(index) ? cells[index] : ""
            out += text(fit(value, width: width - 4), x: x, y: y, size: fontSize, bold: bold)
            x += width
        }
        return out
    }

    /// Cuts text to what fits `width` points (Helvetica averages about half its size per character).
    static func fit(_ text: String, width: Double) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        let room = max(Int(width / (fontSize * 0.52)), 3)
        return flat.count <= room ? flat : String(flat.prefix(room - 3)) + "..."
    }

    private static func text(_ value: String, x: Double, y: Double, size: Double, bold: Bool = false) -> String {
        guard !value.isEmpty else { return "" }
        return "BT /\(bold ? "F2" : "F1") \(size) Tf \(rounded(x)) \(rounded(y)) Td <\(hex(value))> Tj ET\n"
    }

    private static func rounded(_ value: Double) -> String { String(format: "%.2f", value) }

    /// WinAnsi bytes as hex (so no character needs escaping); what WinAnsi lacks becomes "?".
    static func hex(_ text: String) -> String {
        text.unicodeScalars.map { scalar -> String in
            let byte: UInt8 =
                switch scalar.value {
                case 0x20...0x7E, 0xA0...0xFF: UInt8(scalar.value)
                case 0x2026: 0x85  // …
                case 0x2192: 0x3E  // → as >
                case 0x2014: 0x97  // —
                default: 0x3F
                }
            return String(format: "%02X", byte)
        }.joined()
    }

    private static func document(_ contents: [String], title: String, created: Date) -> Data {
        var objects: [String] = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "",  // the page tree, once the page objects are numbered
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        ]
        let stamp = created.formatted(
            Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: false)
        )
        .filter(\.isNumber)
        objects.append("<< /Title <FEFF\(utf16Hex(title))> /Producer (Regent) /CreationDate (D:\(stamp)Z) >>")
        var kids: [String] = []
        for content in contents {
            let page = objects.count + 1
            let stream = page + 1
            kids.append("\(page) 0 R")
            objects.append(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 \(Int(pageWidth)) \(Int(pageHeight))] "
                    + "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents \(stream) 0 R >>")
            objects.append("<< /Length \(content.utf8.count) >>\nstream\n\(content)endstream")
        }
        objects[1] = "<< /Type /Pages /Kids [\(kids.joined(separator: " "))] /Count \(kids.count) >>"
        var out = "%PDF-1.4\n%\u{00E2}\u{00E3}\u{00CF}\u{00D3}\n"
        var bytes = Array(out.utf8)
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(bytes.count)
            bytes += Array("\(index + 1) 0 obj\n\(object)\nendobj\n".utf8)
        }
        let xref = bytes.count
        out = "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        out += offsets.map { String(format: "%010d 00000 n \n", $0) }.joined()
        out += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R /Info 5 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        bytes += Array(out.utf8)
        return Data(bytes)
    }

    private static func utf16Hex(_ text: String) -> String {
        text.utf16.map { String(format: "%04X", $0) }.joined()
    }
}
