/// An 8-bit grayscale image, row-major.
public struct GrayImage: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Rows.
    public var height: Int
    /// `width × height` values.
    public var pixels: [UInt8]

    /// An image filled with one value.
    public init(width: Int, height: Int, fill: UInt8 = 255) {
        self.width = width
        self.height = height
        self.pixels = [UInt8](repeating: fill, count: max(0, width * height))
    }

    /// The value at a pixel.
    public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Raises a pixel to at least `value`; outside the image nothing happens.
    mutating func maximise(x: Int, y: Int, _ value: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        pixels[y * width + x] = max(pixels[y * width + x], value)
    }

    /// Draws coverage (0 none … 255 full) as black ink at a position on a light image.
    mutating func ink(_ coverage: GrayImage, atX ox: Int, y oy: Int) {
        for y in 0..<coverage.height where oy + y >= 0 && oy + y < height {
            for x in 0..<coverage.width where ox + x >= 0 && ox + x < width {
                let c = coverage[x, y]
                if c > 0 { self[ox + x, oy + y] = min(self[ox + x, oy + y], 255 - c) }
            }
        }
    }

    /// The rows, for the PNG writer.
    public var rows: [[UInt8]] { (0..<height).map { Array(pixels[$0 * width..<($0 + 1) * width]) } }
}
