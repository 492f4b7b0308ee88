import Foundation
import Testing

@Suite("End to end: help and usage errors in the user's language; a mistyped command names the nearest one")
struct HelpLanguageTests {
    /// The environment of a PC with no English locale: Chinese is the default.
    static let chineseDefault = ["LANG": "C.UTF-8"]

    @Test("--lang zh before the subcommand: the help is Chinese (abstract, options, headings); --lang en stays complete English")
    func chineseHelp() throws {
        let zh = try run("fieldkit", ["--lang", "zh", "scan", "--help"])
        #expect(zh.status == 0, "\(zh.stderr)")
        for words in ["记录扫到的电子券码（自动判断签到或签退）", "从标准输入读码，每行一个。", "签到站文件夹（或设置 FIELDKIT_HOME）", "用法：", "选项：", "显示帮助信息。"] {
            #expect(zh.stdout.contains(words), "\(words) missing from:\n\(zh.stdout)")
        }
        #expect(!zh.stdout.contains("OVERVIEW") && !zh.stdout.contains("Show help information"), "\(zh.stdout)")

        let byDefault = try run("fieldkit", ["--help"], env: Self.chineseDefault)
        #expect(byDefault.status == 0 && byDefault.stdout.contains("培训教室离线电子券签到、签退。") && byDefault.stdout.contains("子命令："),
            "\(byDefault.stdout)")
        let county = try run("fieldkit-county", ["voucher", "issue", "--help"], env: Self.chineseDefault)
        #expect(county.stdout.contains("按花名册 CSV") && county.stdout.contains("县级数据文件夹"), "\(county.stdout)")

        let en = try run("fieldkit", ["scan", "--help", "--lang", "en"], env: Self.chineseDefault)
        #expect(en.status == 0 && en.stdout.contains("Record a scanned voucher code (sign-in or sign-out is chosen")
            && en.stdout.contains("Read codes from standard input, one per line.") && en.stdout.contains("OPTIONS:"), "\(en.stdout)")
        #expect(!en.stdout.contains("[help."), "no key shows instead of words: \(en.stdout)")
    }

    @Test("a mistyped subcommand: the nearest name, in Chinese by default and in English with --lang en; both programs")
    func mistypedSubcommand() throws {
        let zh = try run("fieldkit", ["scna", "--home", "/tmp/nowhere"], env: Self.chineseDefault)
        #expect(zh.status == 64 && zh.stderr.contains("未知命令 'scna'，是否要输入 'scan'？"), "\(zh.stderr)")
        #expect(!zh.stderr.contains("--home"), "not the misleading unknown option: \(zh.stderr)")
        let en = try run("fieldkit", ["--lang", "en", "scna", "--home", "/tmp/nowhere"], env: Self.chineseDefault)
        #expect(en.status == 64 && en.stderr.contains("unknown command 'scna', did you mean 'scan'?"), "\(en.stderr)")

        let county = try run("fieldkit-county", ["voucher", "isue", "--home", "/tmp/nowhere"], env: Self.chineseDefault)
        #expect(county.status == 64 && county.stderr.contains("未知命令 'isue'，是否要输入 'issue'？")
            && county.stderr.contains("fieldkit-county voucher --help"), "\(county.stderr)")
        let countyEn = try run("fieldkit-county", ["voucher", "isue", "--lang", "en"])
        #expect(countyEn.status == 64 && countyEn.stderr.contains("unknown command 'isue', did you mean 'issue'?"), "\(countyEn.stderr)")

        // Nothing near: the list is where to look
        let far = try run("fieldkit", ["frobnicate"], env: Self.chineseDefault)
        #expect(far.status == 64 && far.stderr.contains("未知命令 'frobnicate'") && far.stderr.contains("fieldkit --help"), "\(far.stderr)")
        // The real names still work, and so does argument-parser's own `help`
        let help = try run("fieldkit", ["help", "scan"], env: Self.chineseDefault)
        #expect(help.status == 0 && help.stdout.contains("记录扫到的电子券码"), "\(help.stdout) \(help.stderr)")
    }

    @Test("usage errors in Chinese name the value and the next step; English keeps argument-parser's words")
    func usageErrors() throws {
        let missing = try run("fieldkit", ["trust", "import", "--home", "/tmp/nowhere"], env: Self.chineseDefault)
        #expect(missing.status == 64 && missing.stderr.contains("错误：缺少参数 <file>。")
            && missing.stderr.contains("用法：fieldkit trust import") && missing.stderr.contains("输入 fieldkit trust import --help 查看帮助。"),
            "\(missing.stderr)")
        let county = try run("fieldkit-county", ["voucher", "revoke", "--lang", "zh", "--home", "/tmp/nowhere"])
        #expect(county.status == 64 && county.stderr.contains("缺少参数") && county.stderr.contains("fieldkit-county voucher revoke --help"),
            "\(county.stderr)")
        let option = try run("fieldkit", ["scan", "--hme", "/tmp", "--lang", "zh"])
        #expect(option.status == 64 && option.stderr.contains("没有这个选项：--hme，是否要输入 --home？"), "\(option.stderr)")
        let value = try run("fieldkit", ["--lang", "zh", "manual", "x1", "--direction", "in", "--reason", "r", "--home", "/tmp"])
        #expect(value.status == 64 && value.stderr.contains("的取值“x1”无效"), "\(value.stderr)")
        let noValue = try run("fieldkit", ["status", "--home"], env: Self.chineseDefault)
        #expect(noValue.status == 64 && noValue.stderr.contains("--home <home> 后面缺少取值"), "\(noValue.stderr)")

        let en = try run("fieldkit", ["trust", "import", "--home", "/tmp/nowhere"])
        #expect(en.status == 64 && en.stderr.contains("Missing expected argument '<file>'")
            && en.stderr.contains("See 'fieldkit trust import --help' for more information."), "\(en.stderr)")
    }
}
