/// A QR code (ISO/IEC 18004) of a short text in byte mode at error-correction level M, versions 1
/// to 10 (up to 213 bytes): enough for an `otpauth://` URI, drawn as SVG for the authenticator
/// set-up page. Written here because no QR library is among the packages this project may use;
/// the end-to-end suite reads the rendered code back with an independent decoder (zxing-cpp).
struct QRCode {
    let size: Int
    private(set) var modules: [[Bool]]
    private var isFunction: [[Bool]]

    enum QRError: Error, Equatable { case tooLong }

    /// Level M block layout per version 1…10: EC codewords per block, then the data codewords of
    /// each block (short blocks first).
    private static let layout: [(ecPerBlock: Int, blocks: [Int])] = [
        (10, [16]), (16, [28]), (26, [44]), (18, [32, 32]), (24, [43, 43]), (16, [27, 27, 27, 27]),
        (18, [31, 31, 31, 31]), (22, [38, 38, 39, 39]), (22, [36, 36, 36, 37, 37]),
        (26, [43, 43, 43, 43, 44]),
    ]
    private static let alignment: [[Int]] = [
        [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
    ]
    /// The mask pattern used (0: `(row + column)` even); any mask is valid for a reader.
    private static let mask = 0

    init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard
            let version = (1...10).first(where: { v in
                4 + (v < 10 ? 8 : 16) + 8 * bytes.count <= 8 * Self.layout[v - 1].blocks.reduce(0, +)
            })
        else { throw QRError.tooLong }
        size = 17 + 4 * version
        modules = Array(repeating: Array(repeating: false, count: size), count: size)
        isFunction = modules
        drawFunctionPatterns(version: version)
        drawCodewords(Self.codewords(bytes, version: version))
        applyMask()
        drawFormatBits()
    }

    /// Rows of dark modules as an SVG path, with the four-module quiet zone around.
    var svg: String {
        var path = ""
        for row in 0..<size {
            for column in 0..<size where modules[row][column] { path += "M\(column + 4),\(row + 4)h1v1h-1z" }
        }
        let side = size + 8
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" width="\(side * 6)" \
            height="\(side * 6)" role="img" aria-label="QR code of the link below" shape-rendering="crispEdges">\
            <rect width="\(side)" height="\(side)" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }

    // MARK: Data

    private static func codewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        let (ecPerBlock, blocks) = layout[version - 1]
        let capacity = blocks.reduce(0, +)
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in (0..<count).reversed() { bits.append(value >> i & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, capacity * 8 - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var data = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        for pad in 0..<(capacity - data.count) { data.append(pad % 2 == 0 ? 0xEC : 0x11) }

        let divisor = reedSolomonDivisor(degree: ecPerBlock)
        var dataBlocks: [[UInt8]] = []
        var start = 0
        for length in blocks {
            dataBlocks.append(Array(data[start..<start + length]))
            start += length
        }
        let ecBlocks = dataBlocks.map { reedSolomonRemainder($0, divisor) }
        var result: [UInt8] = []
        for index in 0..<(blocks.max() ?? 0) {
            for block in dataBlocks where index < block.count { result.append(block[index]) }
        }
        for index in 0..<ecPerBlock {
            for block in ecBlocks { result.append(block[index]) }
        }
        return result
    }

    /// Multiplication in GF(2⁸) modulo x⁸ + x⁴ + x³ + x² + 1.
    private static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var product = 0
        for bit in (0..<8).reversed() {
            product = (product << 1) ^ ((product >> 7) * 0x11D)
            product ^= Int(y >> bit & 1) * Int(x)
        }
        return UInt8(product)
    }

    private static func reedSolomonDivisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    private static func reedSolomonRemainder(_ data: [UInt8], _ divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in result.indices { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }

    // MARK: Matrix

    private mutating func set(_ column: Int, _ row: Int, _ dark: Bool) {
        modules[row][column] = dark
        isFunction[row][column] = true
    }

    private mutating func drawFunctionPatterns(version: Int) {
        for i in 0..<size {
            set(6, i, i % 2 == 0)
            set(i, 6, i % 2 == 0)
        }
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 {
                for dx in -4...4 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                    let distance = max(abs(dx), abs(dy))
                    set(x + dx, y + dy, distance != 2 && distance != 4)
                }
            }
        }
        let positions = Self.alignment[version - 1]
        for (i, x) in positions.enumerated() {
            for (j, y) in positions.enumerated() {
                let last = positions.count - 1
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 { set(x + dx, y + dy, max(abs(dx), abs(dy)) != 1) }
                }
            }
        }
        drawFormatBits()  // reserves the area; drawn again after masking
        if version >= 7 {
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = version << 12 | remainder
            for i in 0..<18 {
                let dark = bits >> i & 1 == 1
                let (a, b) = (size - 11 + i % 3, i / 3)
                set(a, b, dark)
                set(b, a, dark)
            }
        }
    }

    /// Level M (`00`) and the mask, BCH-coded and placed twice, with the dark module.
    private mutating func drawFormatBits() {
        let data = 0b00 << 3 | Self.mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ i: Int) -> Bool { bits >> i & 1 == 1 }
        for i in 0...5 { set(8, i, bit(i)) }
        set(8, 7, bit(6))
        set(8, 8, bit(7))
        set(7, 8, bit(8))
        for i in 9..<15 { set(14 - i, 8, bit(i)) }
        for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
        set(8, size - 8, true)
    }

    /// Codeword bits in the zigzag of two-module columns, right to left, skipping the timing column.
    private mutating func drawCodewords(_ data: [UInt8]) {
        var index = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    if !isFunction[y][x] && index < data.count * 8 {
                        modules[y][x] = data[index >> 3] >> (7 - index & 7) & 1 == 1
                        index += 1
                    }
                }
            }
            right -= 2
        }
    }

    private mutating func applyMask() {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y][x] && (x + y) % 2 == 0 { modules[y][x].toggle() }
        }
    }
}
