import XCTest
import PinJSON
import LuaSandbox

/// Waiting argument tables share one lazy metatable per sandbox; each finds its own event's data
/// through its call's document (docs/sandbox.md, "Argument tables are filled on demand"). These
/// cases keep tables from several calls at once, fill them (and the children their fills make)
/// in later calls, and check that every table keeps the data of the event it came from.
final class SharedLazyMetatableTests: XCTestCase {
    static func event(_ n: Int) -> JSONValue { OnDemandTableTests.event(n) }

    static func at(_ path: [String], in root: JSONValue) -> JSONValue {
        var value = root
        for key in path {
            if let index = Int(key), let array = value.arrayValue, index >= 1, index <= array.count {
                value = array[index - 1]
            } else {
                value = value.objectValue?[key] ?? .null
            }
        }
        return value
    }

    static let keeper = """
        local kept = {}
        return function(e, op, slot)
          if op == "keep" then
            -- e read partly (one member set), properties waiting, context filled, traits waiting.
            local _ = e.messageId
            local c = e.context
            for _ in pairs(c) do end
            kept[slot] = {event = e, properties = e.properties, traits = c.traits}
            return jsontype(e)
          end
          if op == "fillProperties" then
            -- Fills a kept table in a later call; its children come from the kept event's data.
            local p = kept[slot].properties
            for _ in pairs(p) do end
            kept[slot].products = p.products
            kept[slot].second = p.products[2]
            return #p.products
          end
          if op == "read" then
            local k = kept[slot]
            return k.event.messageId, k.traits.email, k.second.attributes.color, k.products[3].name,
              getmetatable(k.traits), getmetatable(k.second.attributes), e.messageId
          end
          if op == "return" then
            local k = kept[slot]
            return k.event, k.products, k.traits
          end
          if op == "fail" then
            local _ = e.messageId
            kept[slot] = {event = e, properties = e.properties, traits = e.context.traits}
            if slot == "loop" then while true do end end
            error("failed after keeping")
          end
          if op == "coroutine" then
            local co = coroutine.wrap(function()
              local p = kept[slot].properties
              coroutine.yield(p.products[1].product_id)
              coroutine.yield(p.tags[3])
            end)
            return co(), co(), e.messageId
          end
          return e.messageId
        end
        """

    func testTablesKeptFromSeveralCallsFillFromTheirOwnEvents() throws {
        for tapes in [false, true] {
            let sandbox = try LuaSandbox.forTests()
            let rule = try sandbox.load(Self.keeper, chunkName: "keeper.lua")
            func call(_ n: Int, _ op: String, _ slot: String = "") throws -> [JSONValue] {
                let arguments: [LuaArgument] = [tapes ? .tape(JSONTape(Self.event(n))) : .json(Self.event(n)), .json(.string(op)), .json(.string(slot))]
                if tapes { return try sandbox.callReturningTapes(rule, arguments: arguments).tapes.map(\.value) }
                return try sandbox.call(rule, arguments: arguments).values
            }
            let slots = ["a": 1, "b": 2, "c": 3, "d": 4]
            for (slot, n) in slots.sorted(by: { $0.key < $1.key }) { XCTAssertEqual(try call(n, "keep", slot), ["object"]) }
            // Other events in between, so the collector runs and new tables take old addresses.
            for n in 100..<400 { XCTAssertEqual(try call(n, "pass"), [.string("msg-\(n)")]) }
            // Two kept events filled in the same later call's neighbours, in another order.
            XCTAssertEqual(try call(500, "fillProperties", "c"), [3])
            XCTAssertEqual(try call(501, "fillProperties", "a"), [3])
            for n in 600..<900 { XCTAssertEqual(try call(n, "pass"), [.string("msg-\(n)")]) }
            XCTAssertEqual(try call(902, "fillProperties", "b"), [3])
            for (slot, n) in [("a", 1), ("b", 2), ("c", 3)] {
                let event = Self.event(n)
                XCTAssertEqual(try call(1_000 + n, "read", slot), [
                    .string("msg-\(n)"), .string("zoë\(n)@example.com"), "red", "Café ☕ Mug", false, false, .string("msg-\(1_000 + n)"),
                ], "slot \(slot)")
                let returned = try call(2_000 + n, "return", slot)
                XCTAssertEqual(returned, [event, Self.at(["properties", "products"], in: event), Self.at(["context", "traits"], in: event)], "slot \(slot)")
            }
            // Slot d was never filled: read inside a coroutine, many calls after it was kept.
            XCTAssertEqual(try call(3_000, "coroutine", "d"), ["p1-4", "ünïcödé", "msg-3000"])
            Expect.usable(sandbox)
        }
    }

    func testTablesKeptByFailedCallsFillFromTheirOwnEvents() throws {
        let sandbox = try LuaSandbox.forTests(limits: SandboxLimits(memoryBytes: 64 << 20, instructions: 1_000_000, deadline: .seconds(5)))
        let rule = try sandbox.load(Self.keeper, chunkName: "keeper.lua")
        func run(_ n: Int, _ op: String, _ slot: String = "") -> Outcome {
            sandbox.run(rule, arguments: [Self.event(n), .string(op), .string(slot)])
        }
        _ = Expect.runtime("failed after keeping", run(7, "fail", "error"))
        Expect.limit(.instructions, run(8, "fail", "loop"))
        for n in 100..<300 { Expect.values([.string("msg-\(n)")], run(n, "pass")) }
        Expect.values([3], run(300, "fillProperties", "loop"))
        Expect.values([3], run(301, "fillProperties", "error"))
        for n in 400..<600 { Expect.values([.string("msg-\(n)")], run(n, "pass")) }
        for (slot, n) in [("error", 7), ("loop", 8)] {
            Expect.values([.string("msg-\(n)"), .string("zoë\(n)@example.com"), "red", "Café ☕ Mug", false, false, "msg-700"],
                          run(700, "read", slot))
            let event = Self.event(n)
            Expect.values([event, Self.at(["properties", "products"], in: event), Self.at(["context", "traits"], in: event)],
                          run(701, "return", slot))
        }
        Expect.usable(sandbox)
    }
}
