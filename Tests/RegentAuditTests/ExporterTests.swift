import Foundation
import Testing

@testable import RegentAudit

/// The exporters' formats: CSV quoting and formula neutralising, XML-safe workbook text, column
/// names, and a PDF whose cross-reference table points at its objects.
struct ExporterTests {
    func table(rows: Int) -> ReportTable {
        ReportTable(
            title: "Report", filters: [("action", "request.")], generatedAt: Date(timeIntervalSince1970: 1_800_000_000),
            sheets: [
                .init(
                    name: "Events", columns: ["seq", "text"],
                    rows: (0..<rows).map { ["\($0)", "row \($0), \"quoted\"\nnext line"] })
            ])
    }

    @Test func csvQuotesAndNeutralisesFormulas() {
        #expect(CSVExporter.cell("plain") == "plain")
        #expect(CSVExporter.cell("a,b") == "\"a,b\"")
        #expect(CSVExporter.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVExporter.cell("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(CSVExporter.cell("-1+1") == "'-1+1")
        #expect(CSVExporter.cell("@SUM(A1)") == "'@SUM(A1)")
        let text = String(decoding: CSVExporter.export(table(rows: 2)), as: UTF8.self)
        #expect(text.hasPrefix("seq,text\r\n0,\"row 0, \"\"quoted\"\"\nnext line\"\r\n"))
    }

    @Test func workbookTextIsXMLSafe() {
        #expect(XLSXExporter.xml("<a href=\"x\">&</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;")
        #expect(XLSXExporter.xml("nul\u{0}bell\u{7}") == "nul\u{FFFD}bell\u{FFFD}")
        #expect([0, 25, 26, 51, 52, 701, 702].map(XLSXExporter.column) == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"])
    }

    @Test func workbookIsAZipWithItsParts() throws {
        let data = try XLSXExporter.export(table(rows: 3))
        #expect(data.prefix(2) == Data("PK".utf8))
        let text = String(decoding: data, as: UTF8.self)
        for part in ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"] {
            #expect(text.contains(part), "missing \(part)")
        }
    }

    /// Every xref offset points at "N 0 obj", /Count is the number of pages, and 300 rows do not
    /// fit on one landscape page.
    @Test func pdfStructure() throws {
        let data = PDFExporter.export(table(rows: 300))
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-1.4") && text.hasSuffix("%%EOF\n"))
        let startxref = try #require(text.range(of: "startxref\n"))
        let xrefOffset = try #require(Int(text[startxref.upperBound...].prefix { $0.isNumber }))
        let bytes = [UInt8](data)
        let xref = String(decoding: bytes[xrefOffset...], as: UTF8.self)
        #expect(xref.hasPrefix("xref\n0 "))
        let entries = xref.split(separator: "\n").dropFirst(3).prefix { $0.hasSuffix(" n ") }
        #expect(!entries.isEmpty)
        for (index, entry) in entries.enumerated() {
            let offset = try #require(Int(entry.prefix(10)))
            let object = String(decoding: bytes[offset..<min(offset + 20, bytes.count)], as: UTF8.self)
            #expect(object.hasPrefix("\(index + 1) 0 obj"), "object \(index + 1) at \(offset): \(object)")
        }
        let pages = text.components(separatedBy: "/Type /Page ").count - 1
        #expect(pages > 1 && text.contains("/Count \(pages)"))
    }

    @Test func pdfTextIsWinAnsiHex() {
        #expect(PDFExporter.hex("A(b)\\") == "41286229" + "5C")
        #expect(PDFExporter.hex("é→✓") == "E93E3F")
        #expect(PDFExporter.fit("abcdefghijklmnopqrstuvwxyz", width: 30) == "abcde...")  // 8 characters fit
        #expect(PDFExporter.fit("short", width: 30) == "short")
    }
}
