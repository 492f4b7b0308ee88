import CFreeType
import FieldKitCore

/// One face of a font file (TrueType, OpenType or a collection), drawn with FreeType.
///
/// Only this file touches FreeType; the rest of the target sees ``GrayImage`` values.
public final class FontFace {
    /// The FreeType instance this face belongs to (one per face: faces are not shared across threads).
    let library: FT_Library
    /// The chosen face.
    let face: FT_Face
    /// The file it was loaded from.
    public let path: String

    /// Opens a font file. In a collection (`.ttc`) the Simplified Chinese face is chosen when
    /// there is one (Noto Sans CJK puts the Japanese face first), else the first.
    /// - Throws: ``FontError/cannotOpen(path:code:)`` when FreeType cannot read the file.
    public init(path: String) throws {
        var lib: FT_Library?
        guard FT_Init_FreeType(&lib) == 0, let lib else { throw FontError.cannotOpen(path: path, code: -1) }
        var first: FT_Face?
        let rc = FT_New_Face(lib, path, 0, &first)
        guard rc == 0, let first else {
            FT_Done_FreeType(lib)
            throw FontError.cannotOpen(path: path, code: Int(rc))
        }
        var chosen = first
        let count = Int(first.pointee.num_faces)
        if count > 1, !FontFace.isSimplifiedChinese(first) {
            for index in 1..<count {
                var other: FT_Face?
                guard FT_New_Face(lib, path, index, &other) == 0, let other else { continue }
                if FontFace.isSimplifiedChinese(other) {
                    FT_Done_Face(first)
                    chosen = other
                    break
                }
                FT_Done_Face(other)
            }
        }
        self.library = lib
        self.face = chosen
        self.path = path
    }

    deinit {
        FT_Done_Face(face)
        FT_Done_FreeType(library)
    }

    /// Whether a face is the Simplified Chinese one of a CJK collection (`Noto Sans CJK SC`).
    static func isSimplifiedChinese(_ face: FT_Face) -> Bool {
        guard let name = face.pointee.family_name else { return false }
        return String(cString: name).hasSuffix(" SC")
    }

    /// The face's family name, e.g. `Noto Sans CJK SC`.
    public var familyName: String { face.pointee.family_name.map { String(cString: $0) } ?? "" }

    /// Whether the face has a glyph for every character of a text.
    public func covers(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.properties.isWhitespace || FT_Get_Char_Index(face, FT_ULong($0.value)) != 0 }
    }

    /// One line of text as coverage (0 nothing, 255 full ink), `pixelHeight` pixels from the
    /// ascender to the descender, on a tight width.
    public func render(_ text: String, pixelHeight: Int) -> GrayImage {
        guard FT_Set_Pixel_Sizes(face, 0, FT_UInt(max(1, pixelHeight))) == 0 else { return GrayImage(width: 0, height: 0) }
        let metrics = face.pointee.size.pointee.metrics
        let ascender = Int(metrics.ascender >> 6), descender = Int(-metrics.descender >> 6)
        let height = max(1, ascender + descender)
        // First pass: the width; second: the ink.
        var glyphs: [(x: Int, scalar: UInt32)] = []
        var pen = 0
        for scalar in text.unicodeScalars {
            guard FT_Load_Char(face, FT_ULong(scalar.value), fk_ft_load_render) == 0 else { continue }
            glyphs.append((pen, scalar.value))
            pen += Int(face.pointee.glyph.pointee.advance.x >> 6)
        }
        var image = GrayImage(width: max(1, pen), height: height, fill: 0)
        for (x, scalar) in glyphs {
            guard FT_Load_Char(face, FT_ULong(scalar), fk_ft_load_render) == 0 else { continue }
            let slot = face.pointee.glyph.pointee
            let bitmap = slot.bitmap
            guard let buffer = bitmap.buffer else { continue }
            let left = x + Int(slot.bitmap_left), top = ascender - Int(slot.bitmap_top)
            for row in 0..<Int(bitmap.rows) {
                for col in 0..<Int(bitmap.width) {
                    let value = buffer[row * Int(bitmap.pitch) + col]
                    image.maximise(x: left + col, y: top + row, value)
                }
            }
        }
        return image
    }
}

/// Why a font could not be used.
public enum FontError: Error, Equatable, LocalizedFailure {
    /// FreeType could not open or read the file.
    case cannotOpen(path: String, code: Int)

    public var words: (key: String, values: [String: String]) {
        switch self {
        case .cannotOpen(let path, let code): ("error.font.open", ["file": path, "code": String(code)])
        }
    }
}
