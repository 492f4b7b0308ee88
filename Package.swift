// swift-tools-version:6.1
import PackageDescription

/// Settings every target shares: the upcoming features the style guide asks for.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// For the classroom binary's own targets: optimised for size in release, so `fieldkit` stays
/// within its 20 MiB. The scan's time goes to fsync and Ed25519 (C), not to Swift code; the
/// bench measures the scan path with these settings.
let small: [SwiftSetting] = strict + [.unsafeFlags(["-Osize"], .when(configuration: .release))]

let package = Package(
    name: "fieldkit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fieldkit", targets: ["fieldkit"]),
        .executable(name: "fieldkit-county", targets: ["fieldkit-county"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
    ],
    targets: [
        // System libraries: a module map and a shim header, nothing else.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // No pkgConfig: ncursesw.pc adds -D_XOPEN_SOURCE=600, which SwiftPM refuses (a warning on
        // every build); the shim defines what it needs and the module map links ncursesw + tinfo.
        .systemLibrary(
            name: "CNcurses",
            providers: [.apt(["libncurses-dev"])]
        ),
        // No pkgConfig and no link: the shim opens libcurl when the first request is made, so a
        // scan does not map libcurl and the ~35 libraries it needs (see shim.h).
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // FreeType draws the words under a voucher's phone PNG; only fieldkit-county links it.
        .systemLibrary(
            name: "CFreeType",
            pkgConfig: "freetype2",
            providers: [.apt(["libfreetype-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),

        // The domain, pure: codecs, bundle, rules, event model. No files, no sockets.
        .target(
            name: "FieldKitCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: small
        ),
        // The thin SQLite wrapper (statements, transactions, migrations, online backup) and the
        // careful file helpers. Only the store targets (FieldKitStore, CountyKit) run SQL on it;
        // the hygiene test keeps it that way.
        .target(
            name: "FieldKitSQLite",
            dependencies: ["CSQLite", "FieldKitCore"],
            swiftSettings: small
        ),
        // The classroom station, on the SQLite wrapper.
        .target(
            name: "FieldKitStore",
            dependencies: [
                "FieldKitSQLite", "FieldKitCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: small
        ),
        // The county office: keys, sites, classes, vouchers, trust bundles.
        .target(
            name: "CountyKit",
            dependencies: [
                "FieldKitCore", "FieldKitSQLite", "FieldKitStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // The subsidy policies as data (Assets/policies, embedded) and attendance → days, hours, money.
        .target(
            name: "FieldKitPolicy",
            dependencies: ["FieldKitCore"],
            swiftSettings: small
        ),
        // QR codes (libqrencode) and their renderers: SVG, PNG (zlib), terminal.
        .target(
            name: "FieldKitQR",
            dependencies: ["CQRencode", "CZlib", "FieldKitCore"],
            swiftSettings: small
        ),
        // Words drawn under a QR code (FreeType, a CJK font found at run time): the county's phone
        // PNGs. Never linked by the classroom binary, whose size is tight.
        .target(
            name: "FieldKitLabel",
            dependencies: ["CFreeType", "FieldKitQR", "FieldKitCore"],
            swiftSettings: strict
        ),
        // Printable pages: voucher cards (county) and the day's sign-in sheet (site).
        .target(
            name: "FieldKitPrint",
            dependencies: ["FieldKitCore", "FieldKitQR", "FieldKitPolicy"],
            swiftSettings: small
        ),
        // The instructor's full-screen kiosk (ncursesw).
        .target(
            name: "FieldKitKiosk",
            dependencies: ["CNcurses", "FieldKitCore", "FieldKitStore"],
            swiftSettings: small
        ),
        // The site's side of sync: HTTP through libcurl, batches, backoff, receipts, USB transfer files.
        .target(
            name: "FieldKitSync",
            dependencies: [
                "CCurl", "FieldKitCore", "FieldKitStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: small
        ),
        // The county's HTTP application (Hummingbird): enrollment, uploads, receipts, bundles.
        .target(
            name: "CountyServer",
            dependencies: [
                "CountyKit", "FieldKitCore", "FieldKitStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // openapi.yaml is built in (Scripts/gen-openapi): an installed server has no resource bundle.
            exclude: ["openapi.yaml"],
            swiftSettings: strict
        ),
        // The evidence archive: BagIt bags of a class's records (and video), signed by the device.
        .target(
            name: "FieldKitEvidence",
            dependencies: [
                "FieldKitCore", "FieldKitSQLite", "FieldKitStore", "FieldKitPrint",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: small
        ),
        // What both command-line tools share: error lines, exit codes, output.
        .target(
            name: "FieldKitCLI",
            dependencies: [
                "FieldKitCore", "FieldKitSQLite", "FieldKitStore", "FieldKitPolicy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: small
        ),

        .executableTarget(
            name: "fieldkit",
            dependencies: [
                "FieldKitCore", "FieldKitSQLite", "FieldKitStore", "FieldKitCLI", "FieldKitPrint", "FieldKitKiosk", "FieldKitSync",
                "FieldKitEvidence", "FieldKitPolicy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: small
        ),
        .executableTarget(
            name: "fieldkit-county",
            dependencies: [
                "FieldKitCore", "FieldKitSQLite", "FieldKitStore", "CountyKit", "CountyServer", "FieldKitCLI", "FieldKitPrint", "FieldKitQR",
                "FieldKitLabel", "FieldKitPolicy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmark driver used by Scripts/bench (never by the tests).
        .executableTarget(
            name: "fieldkit-bench",
            dependencies: [
                "FieldKitCore", "FieldKitSQLite", "FieldKitStore", "CountyKit", "CountyServer", "FieldKitSync",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/fieldkit-bench",
            swiftSettings: strict
        ),
        // Fuzzing harnesses (Scripts/fuzz): replays inputs in this build, libFuzzer in .build-fuzz.
        .executableTarget(
            name: "fieldkit-fuzz",
            dependencies: [
                "FieldKitCore", "FieldKitPolicy", "FieldKitEvidence",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/fieldkit-fuzz",
            swiftSettings: strict
        ),

        .testTarget(
            name: "FieldKitCoreTests",
            dependencies: ["FieldKitCore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FieldKitPolicyTests",
            dependencies: ["FieldKitPolicy", "FieldKitCore", "FieldKitPrint"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FieldKitStoreTests",
            dependencies: ["FieldKitSQLite", "FieldKitStore", "FieldKitCore", "CountyKit"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CountyKitTests",
            dependencies: ["CountyKit", "FieldKitCore", "FieldKitSQLite", "FieldKitStore"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FieldKitQRTests",
            dependencies: ["FieldKitQR", "FieldKitLabel", "FieldKitCore", "FieldKitPrint"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FieldKitSyncTests",
            dependencies: [
                "FieldKitSync", "FieldKitSQLite", "FieldKitStore", "FieldKitCore", "CountyKit", "CountyServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CountyServerTests",
            dependencies: [
                "CountyServer", "CountyKit", "FieldKitSQLite", "FieldKitStore", "FieldKitCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "FieldKitEvidenceTests",
            dependencies: ["FieldKitEvidence", "FieldKitSQLite", "FieldKitStore", "FieldKitCore", "CountyKit"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["FieldKitCore"],
            swiftSettings: strict
        ),
    ]
)
