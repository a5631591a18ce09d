// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "MailRelay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "relayd", targets: ["relayd"]),
        .executable(name: "relayctl", targets: ["relayctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // System library: OpenSSL from Debian's libssl-dev. Transport (TLS) and Authentication (scrypt) import it.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Linux-only calls Glibc does not expose (epoll, eventfd, syncfs).
        .systemLibrary(name: "CLinux"),
        // Pure protocol values: no I/O, no clock.
        .target(name: "SMTPProtocol"),
        // Threads and the lock the rest share: pthread-based, so ThreadSanitizer sees every hand-over.
        .target(name: "Threading"),
        // The I/O edge: sockets, epoll, TLS.
        .target(name: "Transport", dependencies: ["COpenSSL", "CLinux", "Threading"]),
        // Password hashing and the users file (SMTPProtocol for its base64); the second COpenSSL importer, for crypto (EVP_PBE_scrypt, CRYPTO_memcmp), not transport.
        .target(name: "Authentication", dependencies: ["COpenSSL", "SMTPProtocol"]),
        // The durable queue: the only hand-off between receiving and delivering.
        // JSON read and written byte by byte, for the spool's and the control channel's hot paths.
        .target(name: "FastJSON"),
        .target(name: "Spool", dependencies: [
            "SMTPProtocol", "CLinux", "FastJSON", "Threading",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // Receiving and Delivery never import each other; the spool is their contract.
        .target(name: "Receiving", dependencies: [
            "SMTPProtocol", "Transport", "Spool", "Authentication", "Threading",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "Delivery", dependencies: [
            "SMTPProtocol", "Transport", "Spool", "Threading",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // relayctl <-> relayd: JSON lines over a Unix socket, the server, the client, the read-only spool view.
        .target(name: "Control", dependencies: [
            "Spool", "Transport", "FastJSON",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The admin HTTP endpoint (/livez, /readyz, /metrics): its own tiny HTTP/1.1 on Transport, no SwiftNIO.
        // Besides relayd, the only module that knows the metrics backend (Prometheus).
        .target(name: "Admin", dependencies: [
            "Transport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .target(name: "RelayConfiguration", dependencies: [
            "Transport",
            .product(name: "Configuration", package: "swift-configuration"),
            // Reads the config file: swift-configuration's YAMLSnapshot rejects lists of mappings
            // (`upstreams:`), so the file's checked values reach ConfigReader through an InMemoryProvider.
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "relayd", dependencies: [
            "RelayConfiguration", "Receiving", "Delivery", "Control", "Admin", "Spool", "Transport", "SMTPProtocol", "CLinux", "Authentication", "Threading",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        // relayctl's output formats, argument values and test-message client, apart from its commands to be unit-tested.
        .target(name: "RelayctlCore", dependencies: ["Control", "Spool", "RelayConfiguration", "SMTPProtocol"]),
        .executableTarget(name: "relayctl", dependencies: [
            "RelayctlCore", "Control", "FastJSON", "RelayConfiguration", "Spool", "SMTPProtocol", "Authentication",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "RelayTesting", dependencies: ["SMTPProtocol", "Transport", "Spool", "Threading"]),
        .testTarget(name: "SMTPProtocolTests", dependencies: ["SMTPProtocol"]),
        .testTarget(name: "ThreadingTests", dependencies: ["Threading"]),
        .testTarget(name: "FastJSONTests", dependencies: ["FastJSON"]),
        .testTarget(name: "SpoolTests", dependencies: ["Spool", "FastJSON", "RelayTesting"]),
        .testTarget(name: "TransportTests", dependencies: ["Transport", "RelayTesting"]),
        .testTarget(name: "RelayConfigurationTests", dependencies: ["RelayConfiguration"]),
        .testTarget(name: "AuthenticationTests", dependencies: ["Authentication", "SMTPProtocol"]),
        .testTarget(name: "ReceivingTests", dependencies: [
            "Receiving", "Spool", "Transport", "RelayTesting",
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        .testTarget(name: "ControlTests", dependencies: [
            "Control", "FastJSON", "Spool", "Transport", "RelayTesting", "Threading",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "RelayctlCoreTests", dependencies: ["RelayctlCore", "Control", "Spool", "SMTPProtocol", "RelayTesting"]),
        .testTarget(name: "AdminTests", dependencies: [
            "Admin", "Transport", "RelayTesting", "Threading",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .testTarget(name: "DeliveryTests", dependencies: [
            "Delivery", "Spool", "SMTPProtocol", "Transport", "RelayTesting", "Threading",
            .product(name: "MetricsTestKit", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer harnesses that need more than one dependency-free module, for scripts/fuzz only: the YAML config parser
// (Fuzz/config: swift-configuration and Yams) and the spool's file decoders (Fuzz/envelope: Spool). SwiftPM builds
// them rather than bare swiftc; they exist only when MAILRELAY_FUZZ=1, so plain `swift build`, `swift test` and
// CI's normal build never compile them. FuzzDriver is their shared entry point and invariant helpers.
if Context.environment["MAILRELAY_FUZZ"] == "1" {
    package.targets += [
        .target(name: "FuzzDriver", path: "Fuzz", sources: ["driver", "common"]),
        .executableTarget(name: "ConfigFuzzer", dependencies: ["RelayConfiguration", "FuzzDriver"], path: "Fuzz/config"),
        .executableTarget(name: "EnvelopeFuzzer", dependencies: ["Spool", "FastJSON", "FuzzDriver"], path: "Fuzz/envelope"),
    ]
}
