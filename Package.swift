// swift-tools-version:6.0
import PackageDescription

/// Release builds leave out the run-time exclusivity checks (each access to a class's stored
/// property or a global: a call into the runtime and a thread-local look-up, ~300 instructions
/// an event on the `.pgcopy` path). Debug builds keep them, so the tests and the fuzz loop, which
/// run debug builds, still trap on an overlapping access; the compile-time checks hold in both.
let releaseSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "ledger-audit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ledger-audit", targets: ["ledger-audit"]),
        .library(name: "LedgerAuditCore", targets: ["LedgerAuditCore"]),
    ],
    dependencies: [
        // Subcommands, options and validation for the CLI.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The event catalog is YAML; Yams keeps line numbers for config errors.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // SHA-256 for digests and seals (BoringSSL, SHA-NI), Ed25519 for signed evidence packs.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // HTML reports from templates a compliance team can rebrand.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Evidence packs as one .zip an auditor can archive or mail.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // libpq, the PostgreSQL C client: same connection rules as psql (PG* env, .pgpass, services).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // libxml2: XML reports written and validated against their XSD before they are renamed into place.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // OpenSSL's libcrypto (Debian libssl-dev, which libpq already loads): RFC 3161 time-stamp requests and their verification.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // mimalloc (Debian libmimalloc-dev), the executable's malloc: events made on one thread
        // and let go on another (a reader, the fold, the checks' worker) cost glibc's allocator its
        // slow cross-thread paths. `verify` and `evidence` from an extract ran ~18 % faster with it.
        .systemLibrary(
            name: "CMimalloc",
            providers: [.apt(["libmimalloc-dev"])]
        ),
        // One inline C function: the CPU's prefetch hint, which Swift cannot spell (the checks'
        // tables ask for an event's slots a few events before they read them).
        .systemLibrary(name: "CPrefetch"),
        // Pure value types and functions: money, events, catalog model, replay, findings, report model.
        .target(name: "LedgerAuditCore", dependencies: ["CPrefetch"], swiftSettings: releaseSettings),
        // Reads the YAML catalog into the core's Catalog.
        .target(
            name: "LedgerAuditConfig",
            dependencies: ["LedgerAuditCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: releaseSettings
        ),
        // Every integrity check behind one protocol, in one closed registry (store checks included).
        .target(name: "LedgerAuditChecks", dependencies: ["LedgerAuditCore", "LedgerAuditEvidence"], swiftSettings: releaseSettings),
        // The audit engine: session, plan, and the one pipeline function every command calls.
        .target(
            name: "LedgerAuditEngine",
            dependencies: [
                "LedgerAuditCore", "LedgerAuditConfig", "LedgerAuditSources", "LedgerAuditReports", "LedgerAuditEvidence", "LedgerAuditChecks",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: releaseSettings
        ),
        // Source adapters: PostgreSQL (libpq, binary COPY) and file extracts (JSONL, COPY-CSV).
        .target(name: "LedgerAuditSources", dependencies: ["LedgerAuditCore", "CLibPQ", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: releaseSettings),
        // Renderers (CSV, HTML, XML, run.json), the events digest, and atomic report files.
        .target(
            name: "LedgerAuditReports",
            dependencies: [
                "LedgerAuditCore", "CLibXML2",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: releaseSettings
        ),
        // Evidence packs (BagIt, Ed25519 signatures, zip) and seals (RFC 6962 Merkle trees).
        .target(
            name: "LedgerAuditEvidence",
            dependencies: [
                "LedgerAuditCore", "LedgerAuditReports", "CLibCrypto",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: releaseSettings
        ),
        // The realistic auction-ledger generator behind samples/ and the benchmark.
        .target(name: "LedgerAuditGenerator", dependencies: ["LedgerAuditCore"], swiftSettings: releaseSettings),
        .executableTarget(
            name: "ledger-audit",
            dependencies: [
                "LedgerAuditCore", "LedgerAuditEngine", "LedgerAuditChecks", "LedgerAuditReports", "LedgerAuditEvidence",
                "LedgerAuditGenerator", "LedgerAuditSources",
                .target(name: "CMimalloc", condition: .when(platforms: [.linux])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: releaseSettings
        ),
        // Every reader of outside bytes as one fuzz target, for libFuzzer and the tests' mutation loop.
        .target(
            name: "LedgerAuditFuzzTargets",
            dependencies: ["LedgerAuditCore", "LedgerAuditConfig", "LedgerAuditSources", "LedgerAuditEvidence"],
            path: "Fuzz/Targets"
        ),
        // libFuzzer's driver (scripts/fuzz builds it with --sanitize=fuzzer); built plainly it replays crashers.
        .executableTarget(name: "ledger-audit-fuzz", dependencies: ["LedgerAuditFuzzTargets"], path: "Fuzz/Driver"),
        // Inline ledgers, the built binary and a scratch database for the tests.
        .target(
            name: "LedgerAuditTestSupport",
            dependencies: ["LedgerAuditCore", "LedgerAuditConfig", "LedgerAuditChecks", "CLibPQ"],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "LedgerAuditCoreTests",
            dependencies: ["LedgerAuditCore", "LedgerAuditConfig", "LedgerAuditReports", "LedgerAuditGenerator", "LedgerAuditSources", "LedgerAuditEvidence", "LedgerAuditChecks", "LedgerAuditEngine", "LedgerAuditFuzzTargets", "LedgerAuditTestSupport"]
        ),
        .testTarget(
            name: "LedgerAuditIntegrationTests",
            dependencies: ["LedgerAuditCore", "LedgerAuditConfig", "LedgerAuditSources", "LedgerAuditGenerator", "LedgerAuditReports", "LedgerAuditEvidence", "LedgerAuditChecks", "LedgerAuditEngine", "LedgerAuditTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
