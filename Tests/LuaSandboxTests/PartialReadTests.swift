import XCTest
import PinJSON
import LuaSandbox

/// Reading a field of a waiting argument object sets that member alone (docs/sandbox.md,
/// "On-demand tables"). Whatever a rule then does to the table, what it sees and what comes
/// back must be what a table built whole would give: removed members stay removed, changed ones
/// keep their place, and the rest comes back as it came. Each case runs through `call` (values)
/// and `callReturningTapes` (tapes), which must agree byte for byte.
final class PartialReadTests: XCTestCase {
    let event = OnDemandTableTests.event(3)

    func run(_ body: String, _ arguments: [JSONValue]? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> [JSONValue] {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function(e, ...) \(body) end", chunkName: "partial.lua")
        let values = try sandbox.call(rule, arguments: (arguments ?? [event]).map { .json($0) }).values
        let tapes = try sandbox.callReturningTapes(rule, arguments: (arguments ?? [event]).map { .tape(JSONTape($0)) }).tapes
        XCTAssertEqual(tapes.map { JSONWriter.string($0.value) }, values.map { JSONWriter.string($0) }, file: file, line: line)
        // The patched tapes are well formed: headers (counts, sizes, containers inside) as a
        // tape made from the values has them, byte for byte.
        XCTAssertEqual(tapes.map(\.bytes), values.map { JSONTape($0).bytes }, file: file, line: line)
        return values
    }

    /// `event` with `change` applied to its top-level object, keeping key order.
    func edited(_ change: (inout JSONObject) -> Void) -> String {
        var object = event.objectValue ?? JSONObject()
        change(&object)
        return JSONWriter.string(.object(object))
    }

    func testReadingFieldsGivesTheirValuesAndLeavesTheRestAlone() throws {
        let values = try run("return e.messageId, e.missing, e.properties.total, e.context.traits.email, e")
        XCTAssertEqual(values.prefix(4), ["msg-3", nil, 27.5, "zoë3@example.com"])
        XCTAssertEqual(JSONWriter.string(values[4]), JSONWriter.string(event))
    }

    /// A plain value read once is not set in the table; read again, it is. Either way the rule
    /// sees the same values, then and after whatever it does next.
    func testPlainValuesReadOnceThenAgainOrChanged() throws {
        let values = try run("""
            local a, b, c, d = e.channel, e.channel, e.userId, e.messageId
            e.userId = c .. "!"
            e.messageId = nil
            local t1, t2 = e.properties.total, e.properties.total
            local raw, id, big = rawget(e, "channel"), e.messageId, e.properties.big
            local seen = 0
            for k, v in pairs(e) do if k == "channel" or k == "userId" or k == "type" then seen = seen + 1 end end
            return a, b, c, d, t1, t2, raw, id, big, seen, e.type, e
            """)
        XCTAssertEqual(values.prefix(11), ["web", "web", "user-3", "msg-3", 27.5, 27.5, "web", nil, 9007199254740993, 3, "track"])
        XCTAssertEqual(JSONWriter.string(values[11]), edited { $0["userId"] = "user-3!"; $0["messageId"] = nil })
        // Read once and left alone: the event comes back as it came, untouched.
        let read = try run("local _ = e.channel, e.userId, e.properties.total; return e")
        XCTAssertEqual(JSONWriter.string(read[0]), JSONWriter.string(event))
    }

    func testARemovedMemberStaysRemoved() throws {
        let values = try run("""
            local before = e.event
            e.event = nil
            local after = e.event
            local seen = 0
            for k in pairs(e) do if k == "event" then seen = seen + 1 end end
            return before, after, seen, rawget(e, "event"), e
            """)
        XCTAssertEqual(values.prefix(4), ["Order Completed 3", nil, 0, nil])
        XCTAssertEqual(JSONWriter.string(values[4]), edited { $0["event"] = nil })
    }

    func testAChangedMemberKeepsItsPlace() throws {
        let values = try run(#"if e.event then e.event = "Renamed" end; e.type = e.type; return e"#)
        XCTAssertEqual(JSONWriter.string(values[0]), edited { $0["event"] = "Renamed" })
    }

    func testChangesThenIterationSeeEverythingOnce() throws {
        let values = try run("""
            e.channel = e.channel .. "!"
            local _ = e.userId
            e.userId = nil
            local keys, value = {}, nil
            for k, v in pairs(e) do keys[#keys + 1] = k; if k == "channel" then value = v end end
            table.sort(keys)
            return array(keys), value, e
            """)
        var expected = OnDemandTableTests.topKeys.filter { $0 != "userId" }
        expected.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        XCTAssertEqual(values[0], .array(expected.map { .string($0) }))
        XCTAssertEqual(values[1], "web!")
        XCTAssertEqual(JSONWriter.string(values[2]), edited { $0["channel"] = "web!"; $0["userId"] = nil })
    }

    func testAddingAKeyAfterReadsAndRemovals() throws {
        let values = try run(#"local _ = e.sentAt; e.sentAt = nil; e.extra = 1; e.properties.coupon = "X"; return e"#)
        XCTAssertEqual(JSONWriter.string(values[0]), edited {
            $0["sentAt"] = nil
            var properties = $0["properties"]?.objectValue ?? JSONObject()
            properties["coupon"] = "X"
            $0["properties"] = .object(properties)
            $0["extra"] = 1
        })
    }

    /// Assigning to a waiting object sets that key alone (docs/sandbox.md): nothing is read,
    /// and what comes back is what a table built whole would give.
    func testAssignmentsToAWaitingObjectSetThatKeyAlone() throws {
        // New keys come after the object's own, in sorted order; a changed member keeps its
        // place; a member set to nil is gone, also after a later read or iteration.
        var values = try run(#"e.zeta = 1; e.alpha = {x = array({1})}; e.event = "Renamed"; e.channel = nil; return e.channel, e"#)
        XCTAssertEqual(values[0], nil)
        XCTAssertEqual(JSONWriter.string(values[1]), edited {
            $0["event"] = "Renamed"
            $0["channel"] = nil
            $0["alpha"] = ["x": [1]]
            $0["zeta"] = 1
        })
        // Then the table is read, iterated and filled: everything once, as set.
        values = try run("""
            e.added = "new"; e.userId = nil; e.properties.coupon = "X"
            local seen, count = {}, 0
            for k, v in pairs(e) do count = count + 1; seen[k] = v end
            return count, seen.added, seen.userId, e.properties.total, e
            """)
        XCTAssertEqual(values[0], .integer(Int64(OnDemandTableTests.topKeys.count)))
        XCTAssertEqual(values.dropFirst().prefix(3), ["new", nil, 27.5])
        XCTAssertEqual(JSONWriter.string(values[4]), edited {
            $0["userId"] = nil
            var properties = $0["properties"]?.objectValue ?? JSONObject()
            properties["coupon"] = "X"
            $0["properties"] = .object(properties)
            $0["added"] = "new"
        })
        // A key added and removed again, and a member set to what it was: unchanged.
        values = try run(#"e.extra = 1; e.extra = nil; e.channel = "web"; e.properties.total = 27.5; return e"#)
        XCTAssertEqual(JSONWriter.string(values[0]), JSONWriter.string(event))
        // Adding with rawset, and non-string keys, fill the table first (an object with an
        // integer key is then a bad return, naming it).
        values = try run(#"rawset(e, "raw", true); return e"#)
        XCTAssertEqual(JSONWriter.string(values[0]), edited { $0["raw"] = true })
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function(e) e.properties[1] = 2; return e end", chunkName: "mixed.lua")
        XCTAssertThrowsError(try sandbox.callReturningTapes(rule, arguments: [.tape(JSONTape(event))])) { error in
            XCTAssertTrue("\(error)".contains("properties"), "\(error)")
        }
    }

    /// Added keys are listed as they are given, up to a limit (then the table is traversed when
    /// it is read back): a key given twice, an empty key, long keys and many keys come back
    /// once each, sorted after the object's own.
    func testAddedKeysGivenTwiceLongOrMany() throws {
        let long = String(repeating: "k", count: 40)
        var values = try run(#"e.twice = nil; e.twice = 1; e[""] = 2; e.\#(long) = 3; e.properties.x = 4; return e"#)
        XCTAssertEqual(JSONWriter.string(values[0]), edited {
            var properties = $0["properties"]?.objectValue ?? JSONObject()
            properties["x"] = 4
            $0["properties"] = .object(properties)
            $0[""] = 2
            $0[long] = 3
            $0["twice"] = 1
        })
        // Once on the tape itself, not only once in the value decoded from it.
        let sandbox = try LuaSandbox()
        func tape(_ body: String) throws -> JSONTape {
            let rule = try sandbox.load("return function(e) \(body) return e end", chunkName: "twice.lua")
            return try sandbox.callReturningTapes(rule, arguments: [.tape(JSONTape(event))]).tapes[0]
        }
        let twice = try tape("e.twice = nil; e.twice = 1; e.twice = nil; e.twice = 2;")
        XCTAssertEqual(twice, try tape("e.twice = 2;"))
        XCTAssertEqual(twice.count(of: twice.root), OnDemandTableTests.topKeys.count + 1)
        func key(_ i: Int) -> String { "k" + (i < 10 ? "0" : "") + String(i) }
        values = try run("for i = 1, 20 do e[string.format('k%02d', i)] = i end; e.k05 = nil; return e")
        XCTAssertEqual(JSONWriter.string(values[0]), edited {
            for i in 1...20 where i != 5 { $0[key(i)] = .integer(Int64(i)) }
        })
    }

    func testAKeptTableWithAnAddedKeyFillsLater() throws {
        let sandbox = try LuaSandbox()
        let keep = try sandbox.load("""
            local kept
            return function(e)
              if kept == nil then
                e.properties.added = 1
                e.properties.total = nil
                kept = e.properties
                return 0
              end
              local keys = {}
              for k in pairs(kept) do keys[#keys + 1] = k end
              table.sort(keys)
              return array(keys), kept.added, kept.total, kept
            end
            """, chunkName: "keep-added.lua")
        _ = try sandbox.callReturningTapes(keep, arguments: [.tape(JSONTape(event))])
        _ = try sandbox.call(keep, arguments: [.json(OnDemandTableTests.event(5))])
        let later = try sandbox.callReturningTapes(keep, arguments: [.tape(JSONTape(OnDemandTableTests.event(9)))]).tapes.map(\.value)
        var properties = event["properties"]?.objectValue ?? JSONObject()
        properties["total"] = nil
        properties["added"] = 1
        var keys = properties.keys
        keys.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        XCTAssertEqual(later[0], .array(keys.map { .string($0) }))
        XCTAssertEqual(later[1], 1)
        XCTAssertEqual(later[2], .null)
        XCTAssertEqual(later[3], JSONValue.object(properties))
    }

    func testNestedTablesReadThroughAWaitingParent() throws {
        let values = try run(#"e.properties.products[2].name = "Renamed"; e.context.traits.vip = nil; return e"#)
        XCTAssertEqual(values[0]["properties"]?["products"]?.arrayValue?[1]["name"], "Renamed")
        XCTAssertNil(values[0]["context"]?["traits"]?["vip"])
        XCTAssertEqual(values[0]["context"]?["traits"]?["email"], "zoë3@example.com")
        XCTAssertEqual(values[0]["receivedAt"], event["receivedAt"])
    }

    func testACycleThroughAReadMemberIsABadReturn() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load("return function(e) local _ = e.event; e.event = e; return e end", chunkName: "cycle.lua")
        XCTAssertThrowsError(try sandbox.call(rule, arguments: [.json(event)])) { error in
            XCTAssertTrue("\(error)".contains("cycle"), "\(error)")
            XCTAssertTrue("\(error)".contains("event"), "\(error)")
        }
        XCTAssertThrowsError(try sandbox.callReturningTapes(rule, arguments: [.tape(JSONTape(event))]))
    }

    func testKeptTablesRememberWhatWasReadAndRemoved() throws {
        let sandbox = try LuaSandbox()
        let keep = try sandbox.load("""
            local kept
            return function(e)
              if kept == nil then
                local _ = e.messageId
                e.messageId = nil
                kept = e
                return 0
              end
              return kept.messageId, kept.channel, kept
            end
            """, chunkName: "keep.lua")
        _ = try sandbox.call(keep, arguments: [.json(event)])
        let later = try sandbox.call(keep, arguments: [.json(OnDemandTableTests.event(9))]).values
        XCTAssertEqual(later.prefix(2), [nil, "web"])
        // A table kept from an earlier call comes back as a table made in Lua (keys sorted).
        let expected = try JSONParser().parse(edited { $0["messageId"] = nil })
        XCTAssertEqual(JSONWriter.string(later[2]), JSONWriter.string(expected.sortedByKey()))
    }

    /// Lookups remember the members of the object walked last (bridge.c, waiting_member): fields
    /// read backwards, again, missing, alternating between objects and between a kept table and
    /// the current call's give what walking each time gives.
    func testRepeatedLookupsInAnyOrderAndAcrossObjects() throws {
        let values = try run("""
            local a, b, c, d = e.type, e.messageId, e.type, e.missing
            local p = e.properties
            local t, m, q, u, t2 = p.total, e.userId, p.missing, e.channel, p.total
            return a, b, c, d, t, m, q, u, t2, e.event, e
            """)
        XCTAssertEqual(values.prefix(10), ["track", "msg-3", "track", nil, 27.5, "user-3", nil, "web", 27.5, "Order Completed 3"])
        XCTAssertEqual(JSONWriter.string(values[10]), JSONWriter.string(event))
        let sandbox = try LuaSandbox()
        let keep = try sandbox.load("""
            local kept
            return function(e)
              if kept == nil then kept = e; local _ = e.channel; return 0 end
              return kept.messageId, e.messageId, kept.userId, e.userId, kept.missing, e.channel
            end
            """, chunkName: "keep.lua")
        _ = try sandbox.call(keep, arguments: [.json(event)])
        let later = try sandbox.call(keep, arguments: [.json(OnDemandTableTests.event(9))]).values
        XCTAssertEqual(later, ["msg-3", "msg-9", "user-3", "user-9", nil, "web"])
    }

    func testLargeObjectsAreFilledWhole() throws {
        var object = JSONObject()
        for index in 0..<40 { object["k\(index)"] = .integer(Int64(index)) }
        let values = try run(#"local a = e.k7; e.k7 = nil; return a, e.k7, e"#, [.object(object)])
        XCTAssertEqual(values.prefix(2), [7, nil])
        object["k7"] = nil
        XCTAssertEqual(JSONWriter.string(values[2]), JSONWriter.string(.object(object)))
    }

    func testAFailedCallLeavesTheNextOneClean() throws {
        let sandbox = try LuaSandbox()
        let rule = try sandbox.load(#"return function(e, fail) local _ = e.event; e.event = nil; if fail then error("boom") end; return e end"#, chunkName: "fail.lua")
        XCTAssertThrowsError(try sandbox.call(rule, arguments: [.json(event), .json(true)]))
        let values = try sandbox.callReturningTapes(rule, arguments: [.tape(JSONTape(event)), .json(false)]).tapes
        XCTAssertEqual(JSONWriter.string(values[0].value), edited { $0["event"] = nil })
    }
}
