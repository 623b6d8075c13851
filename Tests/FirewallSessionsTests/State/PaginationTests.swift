import Testing

@testable import FirewallSessions

/// Cursor pagination: the insertion-order index under removals and compaction, and the lists.
@Suite("Pagination")
struct PaginationTests {
    /// An index holding `count` keys `k1...` with sequences 10, 20, ...
    static func makeIndex(count: Int) -> InsertionOrderIndex<String> {
        var index = InsertionOrderIndex<String>()
        for number in 1...count { index.append("k\(number)", sequence: UInt64(number * 10)) }
        return index
    }

    /// Every key, following cursors page by page.
    static func walk(_ index: InsertionOrderIndex<String>, limit: Int, where include: (String) -> Bool = { _ in true }) -> (keys: [String], pages: Int) {
        var keys: [String] = []
        var cursor: UInt64?
        var pages = 0
        repeat {
            let page = index.page(after: cursor, limit: limit, where: include)
            keys += page.keys
            cursor = page.next
            pages += 1
            if pages > 10_000 { break }  // a cursor that does not advance must fail, not hang
        } while cursor != nil
        return (keys, pages)
    }

    @Test("pages follow insertion order; the last page has no cursor", arguments: [1, 3, 4, 10, 11, 1000])
    func pages(limit: Int) {
        let index = Self.makeIndex(count: 10)
        let walked = Self.walk(index, limit: limit)
        #expect(walked.keys == (1...10).map { "k\($0)" })
        #expect(walked.pages == max(1, (10 + limit - 1) / limit))
    }

    @Test("a page's cursor is the sequence of its last key")
    func cursorValue() {
        let index = Self.makeIndex(count: 10)
        let first = index.page(after: nil, limit: 3) { _ in true }
        #expect(first.keys == ["k1", "k2", "k3"])
        #expect(first.next == 30)
        let second = index.page(after: 30, limit: 3) { _ in true }
        #expect(second.keys == ["k4", "k5", "k6"])
        #expect(index.page(after: 25, limit: 2) { _ in true }.keys == ["k3", "k4"])
        let past = index.page(after: 100, limit: 3) { _ in true }
        #expect(past.keys.isEmpty)
        #expect(past.next == nil)
        #expect(index.page(after: .max, limit: 3) { _ in true }.keys.isEmpty)
        #expect(index.page(after: 0, limit: 1) { _ in true }.keys == ["k1"])
    }

    @Test("an exactly full last page has no cursor")
    func exactLastPage() {
        let index = Self.makeIndex(count: 6)
        let page = index.page(after: nil, limit: 6) { _ in true }
        #expect(page.keys.count == 6)
        #expect(page.next == nil)
        let filtered = index.page(after: nil, limit: 3) { Int($0.dropFirst())! % 2 == 0 }
        #expect(filtered.keys == ["k2", "k4", "k6"])
        #expect(filtered.next == nil)
        let smaller = index.page(after: nil, limit: 2) { Int($0.dropFirst())! % 2 == 0 }
        #expect(smaller.keys == ["k2", "k4"])
        #expect(smaller.next == 40)
    }

    @Test("removals between pages: the cursor still finds the next live key")
    func removalsBetweenPages() {
        var index = Self.makeIndex(count: 10)
        let first = index.page(after: nil, limit: 3) { _ in true }
        #expect(first.keys == ["k1", "k2", "k3"])
        // Remove the cursor's own key, the two after it and one before it.
        for sequence: UInt64 in [30, 40, 50, 20] { index.remove(sequence: sequence) }
        index.remove(sequence: 40)  // twice: no effect
        index.remove(sequence: 45)  // never there: no effect
        #expect(index.count == 6)
        let second = index.page(after: first.next, limit: 3) { _ in true }
        #expect(second.keys == ["k6", "k7", "k8"])
        #expect(Self.walk(index, limit: 4).keys == ["k1", "k6", "k7", "k8", "k9", "k10"])
    }

    @Test("compaction after more than 1024 removals keeps order, count and old cursors")
    func compaction() {
        var index = Self.makeIndex(count: 3000)
        let early = index.page(after: nil, limit: 10) { _ in true }
        #expect(early.next == 100)
        // Remove 2000 keys: every key but those divisible by 3 in the first 3000 ... keep exactly 1000.
        var removed = 0
        for number in 1...3000 where number % 3 != 0 {
            index.remove(sequence: UInt64(number * 10))
            removed += 1
        }
        #expect(removed == 2000)
        #expect(index.count == 1000)
        let expected = (1...3000).filter { $0 % 3 == 0 }.map { "k\($0)" }
        #expect(Self.walk(index, limit: 1000).keys == expected)
        #expect(Self.walk(index, limit: 7).keys == expected)
        // The cursor taken before compaction (k10) continues at k12.
        #expect(index.page(after: early.next, limit: 2) { _ in true }.keys == ["k12", "k15"])
        // Appending after compaction still works, and removals of compacted-away keys are no-ops.
        index.append("k3001", sequence: 30_010)
        index.remove(sequence: 10)
        #expect(index.count == 1001)
        #expect(index.page(after: 30_000, limit: 5) { _ in true }.keys == ["k3001"])
    }

    @Test("removing everything leaves an empty index")
    func removeAll() {
        var index = Self.makeIndex(count: 2100)
        for number in 1...2100 { index.remove(sequence: UInt64(number * 10)) }
        #expect(index.count == 0)
        let page = index.page(after: nil, limit: 100) { _ in true }
        #expect(page.keys.isEmpty)
        #expect(page.next == nil)
    }

    @Test("wire cursors", arguments: [("42", UInt64(42) as UInt64?), ("0", 0), ("18446744073709551615", .max), ("", nil), ("abc", nil), ("-1", nil), ("+1", nil), ("18446744073709551616", nil), (" 1", nil), ("1.0", nil)])
    func wireCursors(text: String, value: UInt64?) {
        #expect(PageRequest.parseCursor(text) == value)
        if let value { #expect(PageRequest.cursor(value) == text) }
    }

    // MARK: Lists

    @Test("sessions: filters by state, user (case-insensitive) and client address, across pages")
    func sessionFilters() throws {
        var world = try makeWorld()
        try world.makeSession(id: "a", clientAddress: "10.0.0.1", user: makeUser(name: "CONTOSO\\alice"))
        try world.makeSession(id: "b", clientAddress: "10.0.0.2", user: makeUser(name: "CONTOSO\\bob"))
        try world.makeSession(id: "c", clientAddress: "192.0.2.1", user: makeUser(name: "contoso\\ALICE"))
        try world.makeSession(id: "d", clientAddress: "10.0.0.3", user: nil)
        try world.makeSession(id: "e", clientAddress: "2001:db8::1", user: makeUser(name: "CONTOSO\\alice"))
        try world.terminate(session: "b")

        func ids(_ filter: SessionFilter, limit: Int = 100) -> [String] {
            var all: [String] = []
            var cursor: UInt64?
            var pages = 0
            repeat {
                let page = world.state.listSessions(filter, page: PageRequest(after: cursor, limit: limit))
                all += page.items.map(\.id)
                cursor = page.nextCursor.flatMap(PageRequest.parseCursor)
                pages += 1
            } while cursor != nil && pages < 100  // a cursor that does not advance must fail, not hang
            return all
        }

        #expect(ids(SessionFilter()) == ["a", "b", "c", "d", "e"])
        #expect(ids(SessionFilter(), limit: 2) == ["a", "b", "c", "d", "e"])
        #expect(ids(SessionFilter(state: .active)) == ["a", "c", "d", "e"])
        #expect(ids(SessionFilter(state: .terminating)) == ["b"])
        #expect(ids(SessionFilter(user: "contoso\\Alice")) == ["a", "c", "e"])
        #expect(ids(SessionFilter(user: "contoso\\Alice"), limit: 1) == ["a", "c", "e"])
        #expect(ids(SessionFilter(clientAddress: range("10.0.0.0/24"))) == ["a", "b", "d"])
        #expect(ids(SessionFilter(state: .active, user: "CONTOSO\\ALICE", clientAddress: range("10.0.0.0/8"))) == ["a"])
        #expect(ids(SessionFilter(clientAddress: range("2001:db8::/32"))) == ["e"])

        let firstPage = world.state.listSessions(SessionFilter(state: .active), page: PageRequest(limit: 2))
        #expect(firstPage.items.map(\.id) == ["a", "c"])
        #expect(firstPage.nextCursor != nil)
    }

    @Test("sessions: purged ones leave the list; a cursor survives the purge")
    func sessionsAfterPurge() throws {
        var world = try makeWorld()
        for id in ["a", "b", "c", "d"] { try world.makeSession(id: id) }
        let first = world.state.listSessions(SessionFilter(), page: PageRequest(limit: 2))
        #expect(first.items.map(\.id) == ["a", "b"])
        try world.terminate(session: "b")
        try world.terminate(session: "c")
        world.advance(to: 30)
        let after = try #require(first.nextCursor.flatMap(PageRequest.parseCursor))
        let second = world.state.listSessions(SessionFilter(), page: PageRequest(after: after, limit: 2))
        #expect(second.items.map(\.id) == ["d"])
        #expect(second.nextCursor == nil)
    }

    @Test("binds of a session: creation order, state filter, cursor")
    func binds() throws {
        var world = try makeWorld()
        try world.makeSession()
        try world.makeSession(id: "s2")
        var ids: [BindID] = []
        for port in 1...5 {
            ids.append(try world.makeBind(session: "s1", .udp, "203.0.113.10:\(port)").id)
            try world.makeBind(session: "s2", .udp, "203.0.113.20:\(port)")
        }
        try world.allow(session: "s1", .udp, "203.0.113.10:2")
        try world.allow(session: "s1", .udp, "203.0.113.10:4")

        let first = try world.state.listBinds(sessionID: "s1", state: nil, page: PageRequest(limit: 2))
        #expect(first.items.map(\.id) == Array(ids[0..<2]))
        let cursor = try #require(first.nextCursor.flatMap(PageRequest.parseCursor))
        let second = try world.state.listBinds(sessionID: "s1", state: nil, page: PageRequest(after: cursor, limit: 3))
        #expect(second.items.map(\.id) == Array(ids[2..<5]))
        #expect(second.nextCursor == nil)

        let allowed = try world.state.listBinds(sessionID: "s1", state: .allowed, page: PageRequest(limit: 1))
        #expect(allowed.items.map(\.id) == [ids[1]])
        let next = try #require(allowed.nextCursor.flatMap(PageRequest.parseCursor))
        let rest = try world.state.listBinds(sessionID: "s1", state: .allowed, page: PageRequest(after: next, limit: 1))
        #expect(rest.items.map(\.id) == [ids[3]])
        #expect(rest.nextCursor == nil)
        #expect(try world.state.listBinds(sessionID: "s1", state: .terminating, page: PageRequest()).items.isEmpty)
        #expect(captureError { try world.state.listBinds(sessionID: "ghost", state: nil, page: PageRequest()) }?.hresult == .ERROR_NOT_FOUND)
    }

    @Test("rules page by position, the default rule last")
    func rules() throws {
        let world = try makeWorld(rules: [makeRule(name: "A"), makeRule(name: "B"), makeRule(name: "C")])
        let first = world.state.listRules(page: PageRequest(limit: 2))
        #expect(first.items.map(\.rule.name) == ["A", "B"])
        #expect(first.nextCursor == "2")
        let second = world.state.listRules(page: PageRequest(after: 2, limit: 2))
        #expect(second.items.map(\.rule.name) == ["C", "Default rule"])
        #expect(second.items.map(\.position) == [3, 4])
        #expect(second.nextCursor == nil)
    }

    @Test("protocols list built-ins first, then the rest by name")
    func protocols() throws {
        let world = try makeWorld(protocols: [
            makeProtocol("11111111-2222-4333-8444-555555555555", name: "zeta"),
            makeProtocol("11111111-2222-4333-8444-555555555556", name: "Alpha"),
        ])
        let names = world.state.listProtocols(page: PageRequest(limit: 1000)).items.map(\.name)
        #expect(Array(names.prefix(6)).sorted() == BuiltInProtocols.all.map(\.name).sorted())
        #expect(Array(names.suffix(2)) == ["Alpha", "zeta"])
    }
}
