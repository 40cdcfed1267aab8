// swift-tools-version:6.0
import PackageDescription

// Layers, one way only:
//   CPinRulesLua (system Lua 5.4) <- CPinRulesShims (C) <- LuaSandbox ----\
//   PinJSON <------------------------------------------ PinterestTag ---- PinRules <- pinrules (CLI)
let package = Package(
    name: "PinRules",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "PinRules", targets: ["PinRules"]),
        .library(name: "PinterestTag", targets: ["PinterestTag"]),
        .library(name: "LuaSandbox", targets: ["LuaSandbox"]),
        .library(name: "PinJSON", targets: ["PinJSON"]),
        .executable(name: "pinrules", targets: ["PinRulesCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // The system Lua 5.4 (Debian: liblua5.4-dev). A project-specific module name avoids
        // "redefinition of module" clashes with other packages that wrap Lua.
        .systemLibrary(
            name: "CPinRulesLua",
            path: "Sources/CLua",
            pkgConfig: "lua5.4 lua-5.4 lua54 lua",
            providers: [.apt(["liblua5.4-dev", "pkg-config"]), .brew(["lua"])]
        ),
        // C stand-ins for Lua's macros, and every operation that can raise, run protected.
        .target(
            name: "CPinRulesShims",
            dependencies: ["CPinRulesLua"],
            path: "Sources/CLuaShims"
        ),
        .target(name: "PinJSON"),
        .target(name: "LuaSandbox", dependencies: ["CPinRulesShims", "CPinRulesLua", "PinJSON"]),
        .target(
            name: "PinterestTag",
            dependencies: ["PinJSON", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "PinRules", dependencies: ["LuaSandbox", "PinterestTag", "PinJSON"]),
        .executableTarget(
            name: "PinRulesCLI",
            dependencies: ["PinRules", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "PinRulesBench", dependencies: ["PinRules", "LuaSandbox", "PinterestTag", "PinJSON"]),
        .testTarget(name: "PinJSONTests", dependencies: ["PinJSON"]),
        .testTarget(
            name: "LuaSandboxTests",
            dependencies: ["LuaSandbox", "PinJSON"],
            // Lua fixtures read through #filePath, and a standalone C developer harness (a Swift
            // target cannot mix languages).
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "PinterestTagTests", dependencies: ["PinterestTag", "PinJSON"]),
        .testTarget(name: "PinRulesTests", dependencies: ["PinRules", "LuaSandbox", "PinterestTag", "PinJSON"]),
    ]
)

for target in package.targets where target.type != .system {
    guard target.name != "CPinRulesShims" else { continue }
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("InternalImportsByDefault"),
        .enableUpcomingFeature("MemberImportVisibility"),
    ]
}
