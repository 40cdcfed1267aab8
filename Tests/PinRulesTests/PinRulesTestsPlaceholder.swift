import XCTest
final class PinRulesTestsPlaceholder: XCTestCase { func testTargetBuilds() {} }
