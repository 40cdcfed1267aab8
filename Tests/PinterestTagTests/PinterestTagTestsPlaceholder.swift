import XCTest
final class PinterestTagTestsPlaceholder: XCTestCase { func testTargetBuilds() {} }
