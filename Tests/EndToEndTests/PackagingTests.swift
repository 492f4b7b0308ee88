import Foundation
import Testing

/// The files the Debian packages install besides the binaries (Assets/debian), checked with the
/// real tools on the built binaries. Scripts/test-install checks the packages themselves in a
/// clean Debian root; these run in seconds with the unit tests.
@Suite struct PackagingTests {
    /// The repository's root folder.
    static let repository: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()
    static let assets = repository + "/Assets/debian"

    /// A root laid out as the packages install it: the built binaries, the units, the config
    /// files, and this machine's own systemd units (the targets ours name).
    static func installedRoot() throws -> String {
        let root = temporaryDirectory()
        for folder in ["usr/bin", "usr/lib/systemd", "lib/systemd/system", "etc/default", "etc/fieldkit-county"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        try expectOK(try run("/bin/cp", ["-a", "/usr/lib/systemd/system", "\(root)/usr/lib/systemd/"]))
        let copies = [
            ("\(binDirectory)/fieldkit", "usr/bin/fieldkit"),
            ("\(binDirectory)/fieldkit-county", "usr/bin/fieldkit-county"),
            ("\(assets)/fieldkit/fieldkit-sync.service", "lib/systemd/system/fieldkit-sync.service"),
            ("\(assets)/fieldkit/fieldkit-sync.timer", "lib/systemd/system/fieldkit-sync.timer"),
            ("\(assets)/fieldkit/default", "etc/default/fieldkit"),
            ("\(assets)/fieldkit-county/fieldkit-county.service", "lib/systemd/system/fieldkit-county.service"),
            ("\(assets)/fieldkit-county/serve.conf", "etc/fieldkit-county/serve.conf"),
        ]
        for (from, to) in copies { try expectOK(try run("/bin/cp", [from, "\(root)/\(to)"])) }
        return root
    }

    @Test("systemd-analyze verify finds nothing to say about the units", arguments: [
        "fieldkit-county.service", "fieldkit-sync.service", "fieldkit-sync.timer",
    ])
    func unitsVerify(unit: String) throws {
        let root = try Self.installedRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let r = try run("/usr/bin/systemd-analyze", ["verify", "--man=no", "--root=\(root)", unit])
        // An unknown key or a bad value is only a warning (exit 0): any output fails too.
        #expect(r.status == 0 && (r.stdout + r.stderr).isEmpty, "\(unit): \(r.stdout)\(r.stderr)")
    }

    @Test("a unit whose program is missing fails verify (the check above can fail)")
    func verifyCatchesAMissingProgram() throws {
        let root = try Self.installedRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + "/usr/bin/fieldkit-county")
        let r = try run("/usr/bin/systemd-analyze", ["verify", "--man=no", "--root=\(root)", "fieldkit-county.service"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/usr/bin/fieldkit-county"))
    }

    @Test("the county's server unit runs as its user, hardened, from serve.conf")
    func countyUnitHardening() throws {
        let unit = try String(contentsOfFile: Self.assets + "/fieldkit-county/fieldkit-county.service", encoding: .utf8)
        for line in [
            "User=fieldkit-county", "EnvironmentFile=/etc/fieldkit-county/serve.conf",
            "ExecStart=/usr/bin/fieldkit-county serve --host ${HOST} --port ${PORT}", "Restart=on-failure",
            "ProtectSystem=strict", "ReadWritePaths=/var/lib/fieldkit-county", "NoNewPrivileges=yes", "PrivateTmp=yes",
            "ProtectHome=yes",
        ] {
            #expect(unit.split(separator: "\n").contains(Substring(line)), "missing: \(line)")
        }
        let conf = try String(contentsOfFile: Self.assets + "/fieldkit-county/serve.conf", encoding: .utf8)
        for key in ["FIELDKIT_COUNTY_HOME=/var/lib/fieldkit-county", "HOST=", "PORT="] {
            #expect(conf.contains("\n" + key), "serve.conf: missing \(key)")
        }
    }

    @Test("the kiosk's desktop launcher is named in Chinese and runs the launcher script")
    func desktopLauncher() throws {
        let entry = try String(contentsOfFile: Self.assets + "/fieldkit/fieldkit-kiosk.desktop", encoding: .utf8)
        let lines = entry.split(separator: "\n").map(String.init)
        #expect(lines.first == "[Desktop Entry]")
        #expect(lines.contains("Name[zh_CN]=电子券签到"))
        #expect(lines.contains("Exec=/usr/share/fieldkit/kiosk-launch"))
        #expect(lines.contains("Type=Application"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/desktop-file-validate") {
            let r = try run("/usr/bin/desktop-file-validate", [Self.assets + "/fieldkit/fieldkit-kiosk.desktop"])
            #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stdout)\(r.stderr)")
        }
    }

    @Test("maintainer scripts and the kiosk launcher are valid POSIX shell", arguments: [
        "fieldkit/postinst", "fieldkit/prerm", "fieldkit/postrm", "fieldkit/kiosk-launch",
        "fieldkit-county/postinst", "fieldkit-county/prerm", "fieldkit-county/postrm",
    ])
    func scriptsParse(script: String) throws {
        let path = Self.assets + "/" + script
        #expect(FileManager.default.isExecutableFile(atPath: path), "\(script) is not executable")
        let r = try run("/bin/sh", ["-n", path])
        #expect(r.status == 0, "\(script): \(r.stderr)")
    }

    @Test("the man page made from the binary's help names every subcommand", arguments: [
        ("fieldkit", "en_US.UTF-8"), ("fieldkit-county", "zh_CN.UTF-8"),
    ])
    func manPage(program: String, lang: String) throws {
        let dump = try run(program, ["--experimental-dump-help"], env: ["LANG": lang])
        try expectOK(dump)
        let folder = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try dump.stdout.write(toFile: folder + "/dump.json", atomically: true, encoding: .utf8)
        let extra = Self.assets + "/\(program)/man.\(lang.hasPrefix("zh") ? "zh" : "en").json"
        let page = try run("/usr/bin/python3", [Self.assets + "/manpage.py", folder + "/dump.json", "0.1.0", "2026-12-05", extra])
        try expectOK(page)
        try page.stdout.write(toFile: folder + "/\(program).1", atomically: true, encoding: .utf8)
        let shown = try run("/usr/bin/man", ["-l", folder + "/\(program).1"], env: ["MANWIDTH": "100", "LANG": "C.UTF-8", "MAN_KEEP_FORMATTING": ""])
        try expectOK(shown)
        let tree = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
        let subcommands = ((tree?["command"] as? [String: Any])?["subcommands"] as? [[String: Any]] ?? [])
            .compactMap { $0["commandName"] as? String }.filter { $0 != "help" }
        #expect(subcommands.count >= 10)
        for name in subcommands {
            #expect(shown.stdout.contains("\(program) \(name)"), "\(program)(1) lacks \(name)")
        }
        #expect(shown.stdout.contains(program == "fieldkit" ? "/var/lib/fieldkit" : "/var/lib/fieldkit-county"))
    }
}
