import XCTest
import PinJSON
@testable import LuaSandbox

/// `reference(toField:of:)`: a function held by a table, called by its own reference, behaves
/// as the call that looks the field up each time.
final class FieldReferenceTests: XCTestCase {
    func testCallingAFieldReferenceIsCallingTheField() throws {
        let sandbox = try LuaSandbox()
        let module = try sandbox.load("return {twice = function(n) return n * 2 end, name = 'm'}", chunkName: "m.lua")
        let twice = try sandbox.reference(toField: "twice", of: module)
        XCTAssertEqual(try sandbox.call(twice, arguments: [.json(21)]).values, [42])
        XCTAssertEqual(try sandbox.callReturningTapes(twice, arguments: [.json(4)]).tapes.map(\.value),
                       try sandbox.call(module, field: "twice", arguments: [.json(4)]).values)
    }

    func testAMissingFieldOrAFieldOfANonTableIsAnError() throws {
        let sandbox = try LuaSandbox()
        let module = try sandbox.load("return {name = 'm'}", chunkName: "m.lua")
        XCTAssertThrowsError(try sandbox.reference(toField: "absent", of: module)) { error in
            guard case .host(let message)? = error as? SandboxError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("no field 'absent'"), message)
        }
        let function = try sandbox.load("return function() return 1 end", chunkName: "f.lua")
        XCTAssertThrowsError(try sandbox.reference(toField: "x", of: function)) { error in
            guard case .host(let message)? = error as? SandboxError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("not a table"), message)
        }
        // The sandbox carries on.
        XCTAssertEqual(try sandbox.call(function).values, [1])
    }

    func testAReferenceFromAnotherSandboxIsRefused() throws {
        let one = try LuaSandbox(), other = try LuaSandbox()
        let module = try one.load("return {f = function() end}", chunkName: "m.lua")
        XCTAssertThrowsError(try other.reference(toField: "f", of: module))
    }
}
