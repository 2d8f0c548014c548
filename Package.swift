// swift-tools-version:6.0
// berth: a sidecar HTTP/1.1 forward proxy on libevent that keeps pooled upstream connections safe across container freezes.
import PackageDescription

/// The data path is single-threaded per event loop and its state is never reached re-entrantly through inout, so the
/// dynamic exclusivity checks (swift_beginAccess, ~6% of instructions per request) buy nothing in release builds.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

/// BerthCore calls the loop's small Channel methods (inputChunk, drainInput, moveInput, pendingInput, writeInPlace...)
/// several times per request; across the module boundary each became a call (+2.5% instructions per request).
/// Serialising every EventLoop body lets BerthCore inline them as when they were its own, with CLibevent still an
/// internal import. `-cross-module-optimization` and `-package-cmo` were tried and left them as calls.
let crossModule: [SwiftSetting] = [.unsafeFlags(["-enable-cmo-everything"], .when(configuration: .release))]

let package = Package(
    name: "berth",
    products: [
        .executable(name: "berth", targets: ["berth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent",
            providers: [.apt(["libevent-dev"])]
        ),
        // OpenSSL 3 (Debian's libssl-dev) for TLS to upstreams; like CLibevent, only EventLoop imports it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(name: "HTTP1", swiftSettings: hotPath),
        // Two C functions in the executable's .preinit_array, before any library initializer runs: SIGHUP, SIGTERM
        // and SIGINT blocked (EarlySignals unblocks them once it handles them), and /dev/null opened on a missing
        // stdin, stdout or stderr. Linked into `berth` alone, imported by nothing.
        .target(name: "CEarlySignals"),
        // berth's epoll_wait, which counts each poll of the loop its thread runs (EventLoop's LoopPass) and polls:
        // exported from the executable, so that libevent's call binds to it. Imported by EventLoop alone.
        .target(
            name: "CLoopPolls",
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic-symbol=epoll_wait"])]
        ),
        // The only importer of CLibevent and COpenSSL: BerthCore reaches libevent and OpenSSL through its types
        // (ModuleBoundaryTests checks it).
        .target(
            name: "EventLoop",
            dependencies: ["CLibevent", "COpenSSL", "CLoopPolls"],
            swiftSettings: hotPath + crossModule + [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        .target(
            name: "BerthCore",
            dependencies: [
                "HTTP1",
                "EventLoop",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: hotPath + [.enableUpcomingFeature("MemberImportVisibility")]
        ),
        .executableTarget(
            name: "berth",
            dependencies: [
                "BerthCore",
                "HTTP1",
                "CEarlySignals",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop", "CLibevent"]),
        .testTarget(name: "BerthCoreTests", dependencies: ["BerthCore", "HTTP1", "EventLoop"]),
        .testTarget(name: "IntegrationTests", dependencies: ["BerthCore", "HTTP1", "EventLoop"]),
    ],
    swiftLanguageModes: [.v6]
)
