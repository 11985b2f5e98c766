public import Foundation
import ZIPFoundation

/// A minimal Office Open XML workbook (ECMA-376): one worksheet per sheet, text as inline
/// strings, the header row bold and frozen. Written by hand (ZIPFoundation packs it) because the
/// format needs only these few parts and no spreadsheet library is on the mirror.
public enum XLSXExporter {
    public static func export(_ table: ReportTable) throws(ExportError) -> Data {
        var parts: [(String, String)] = [
            ("[Content_Types].xml", contentTypes(sheets: table.sheets.count)),
            ("_rels/.rels", rootRelationships),
            ("docProps/core.xml", core(table)),
            ("xl/workbook.xml", workbook(table.sheets)),
            ("xl/_rels/workbook.xml.rels", workbookRelationships(sheets: table.sheets.count)),
            ("xl/styles.xml", styles),
        ]
        for (index, sheet) in table.sheets.enumerated() {
            parts.append(("xl/worksheets/sheet\(index + 1).xml", worksheet(sheet)))
        }
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for (path, text) in parts {
                let data = Data(text.utf8)
                try archive.addEntry(
                    with: path, type: .file, uncompressedSize: Int64(data.count),
                    modificationDate: table.generatedAt, compressionMethod: .deflate
                ) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            guard let data = archive.data else { throw ExportError.archive("the workbook was not written") }
            return data
        } catch let error as ExportError {
            throw error
        } catch {
            throw .archive("\(error)")
        }
    }

    /// XML 1.0 text: escaped, and without the control characters XML cannot carry at all.
    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value): out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A1-style column name: 0 → A, 25 → Z, 26 → AA.
    static func column(_ index: Int) -> String {
        var index = index + 1
        var name = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            index = (index - 1) / 26
        }
        return name
    }

    private static func worksheet(_ sheet: ReportTable.Sheet) -> String {
        var rows = ""
        for (rowIndex, row) in ([sheet.columns] + sheet.rows).enumerated() {
            rows += "<row r=\"\(rowIndex + 1)\">"
            for (columnIndex, value) in row.enumerated() {
                let style = rowIndex == 0 ? " s=\"1\"" : ""
                rows +=
                    "<c r=\"\(column(columnIndex))\(rowIndex + 1)\" t=\"inlineStr\"\(style)><is><t xml:space=\"preserve\">\(xml(String(value.prefix(32_767))))</t></is></c>"
            }
            rows += "</row>"
        }
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>\
            <sheetData>\(rows)</sheetData></worksheet>
            """
    }

    private static func contentTypes(sheets: Int) -> String {
        let overrides = (1...max(sheets, 1)).map {
            "<Override PartName=\"/xl/worksheets/sheet\($0).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
        }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
            <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
            \(overrides)</Types>
            """
    }

    private static let rootRelationships = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
        <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>\
        </Relationships>
        """

    private static func core(_ table: ReportTable) -> String {
        let created = table.generatedAt.formatted(.iso8601)
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" \
            xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" \
            xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
            <dc:title>\(xml(table.title))</dc:title><dc:description>\(xml("Filters: \(table.filterLine)"))</dc:description>\
            <dc:creator>Regent</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">\(created)</dcterms:created>\
            </cp:coreProperties>
            """
    }

    private static func workbook(_ sheets: [ReportTable.Sheet]) -> String {
        var used: Set<String> = []
        let entries = sheets.enumerated().map { index, sheet -> String in
            // Sheet names: at most 31 characters, none of []:*?/\, unique.
            var name = String(sheet.name.filter { !"[]:*?/\\".contains($0) }.prefix(28))
            if name.isEmpty || used.contains(name) { name += " \(index + 1)" }
            used.insert(name)
            return "<sheet name=\"\(xml(name))\" sheetId=\"\(index + 1)\" r:id=\"rId\(index + 1)\"/>"
        }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheets>\(entries)</sheets></workbook>
            """
    }

    private static func workbookRelationships(sheets: Int) -> String {
        let sheetLinks = (1...max(sheets, 1)).map {
            "<Relationship Id=\"rId\($0)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\($0).xml\"/>"
        }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            \(sheetLinks)<Relationship Id="rId\(sheets + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
            </Relationships>
            """
    }

    private static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
        </styleSheet>
        """
}
