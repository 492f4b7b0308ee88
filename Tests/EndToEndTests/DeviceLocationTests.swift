import Foundation
import Testing

@Suite("End to end: where a device stands")
struct DeviceLocationTests {
    @Test("device add --location goes with the enrolled PC; device list shows it; device locate changes it or refuses an unknown id in one line")
    func addLocateList() throws {
        let w = try World(trainees: 1)
        let server = try CountyServer(home: w.county, log: w.dir + "/serve.log")
        defer { server.stop() }

        // Given a code made with a location, when the station enrolls with it,
        let made = try run("fieldkit-county", [
            "device", "add", "--home", w.county, "--site", "S01", "--location", " 古县岳阳镇培训点 ", "--json",
        ])
        let code = try json(made) as! [String: Any]
        #expect(code["location"] as? String == "古县岳阳镇培训点")
        try expectOK(run("fieldkit", ["enroll", "--home", w.site, "--county", server.url, "--code", code["code"] as! String]))

        // then the county's device list shows where it stands, in words and in JSON.
        let listed = try run("fieldkit-county", ["device", "list", "--home", w.county])
        try expectOK(listed)
        #expect(listed.stdout.contains("at 古县岳阳镇培训点"), "\(listed.stdout)")
        let row = try json(run("fieldkit-county", ["device", "list", "--home", w.county, "--json"])) as! [String: Any]
        #expect(row["location"] as? String == "古县岳阳镇培训点")
        let device = try #require(row["device"] as? String)

        // device locate moves it; an empty location makes it unknown again.
        let moved = try run("fieldkit-county", ["device", "locate", device, "--home", w.county, "--location", "古县城关镇培训点"])
        try expectOK(moved)
        #expect(moved.stdout.contains(device) && moved.stdout.contains("古县城关镇培训点"), "\(moved.stdout)")
        let zh = try run("fieldkit-county", ["device", "list", "--home", w.county], env: ["LANG": "zh_CN.UTF-8"])
        #expect(zh.stdout.contains("位置 古县城关镇培训点"), "\(zh.stdout)")
        try expectOK(run("fieldkit-county", ["device", "locate", device, "--home", w.county, "--location", ""]))
        #expect(try run("fieldkit-county", ["device", "list", "--home", w.county]).stdout.contains("location unknown"))

        // An unknown device: exit 1, one line naming it and the next step; nothing changed.
        let unknown = try run("fieldkit-county", ["device", "locate", "S01-NOSUCH", "--home", w.county, "--location", "x"])
        #expect(unknown.status == 1, "\(unknown.stderr)")
        #expect(unknown.stderr.split(separator: "\n").count == 1, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("S01-NOSUCH") && unknown.stderr.contains("device list"), "\(unknown.stderr)")
        #expect(unknown.stdout.isEmpty)

        // Hidden control or bidi characters are refused as bad arguments (64), before anything is stored.
        let bidi = try run("fieldkit-county", ["device", "locate", device, "--home", w.county, "--location", "培训点\u{202E}"])
        #expect(bidi.status == 64 && bidi.stderr.contains("--location"), "\(bidi.stderr)")
        let addBidi = try run("fieldkit-county", ["device", "add", "--home", w.county, "--site", "S01", "--location", "a\u{1B}[2J"])
        #expect(addBidi.status == 64 && addBidi.stderr.contains("--location"), "\(addBidi.stderr)")
        #expect(try run("fieldkit-county", ["device", "list", "--home", w.county]).stdout.contains("location unknown"))
    }
}
