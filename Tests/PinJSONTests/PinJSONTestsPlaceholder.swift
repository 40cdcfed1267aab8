import XCTest
final class PinJSONTestsPlaceholder: XCTestCase { func testTargetBuilds() {} }
