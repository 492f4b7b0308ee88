#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a font that draws Chinese, at run time: the file the user named, else the usual
/// places Debian, Ubuntu, Fedora and Arch put WenQuanYi and Noto CJK.
public enum FontLocator {
    /// Where to look, best first.
    public static let candidates = [
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    ]

    /// The Debian packages that bring such a font, for the warning when none is found.
    public static let packages = "fonts-noto-cjk / fonts-wqy-zenhei"

    /// The first readable candidate, or nil.
    public static func find(in paths: [String] = candidates) -> String? {
        paths.first { access($0, R_OK) == 0 }
    }
}
