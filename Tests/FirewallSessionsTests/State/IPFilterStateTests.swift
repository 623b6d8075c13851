import Testing

@testable import FirewallSessions

/// Stored IP filters (IFWXIpFilter) through the state.
@Suite("IP filters")
struct IPFilterStateTests {
    @Test("create applies the includes, then the excludes, and normalises")
    func create() throws {
        var world = try makeWorld()
        world.advance(to: 3)
        let filter = try world.makeFilter(
            include: ["198.51.100.128/25", "198.51.100.0/24", "192.0.2.7-192.0.2.9", "2001:db8::/126"],
            exclude: ["198.51.100.13", "2001:db8::2"])
        #expect(filter.id.hasPrefix("f-"))
        #expect(filter.ranges.ranges.map(\.description) == [
            "192.0.2.7-192.0.2.9", "198.51.100.0-198.51.100.12", "198.51.100.14-198.51.100.255", "2001:db8::/127",
            "2001:db8::3",
        ])
        #expect(filter.createdAt == t0.adding(3))
        #expect(filter.updatedAt == t0.adding(3))
        #expect(world.state.ipFilter(filter.id) == filter)
        #expect(world.changes.changes.count == 2)
    }

    @Test("an exclude before any include still leaves nothing: excludes come after includes")
    func excludesAfterIncludes() throws {
        var world = try makeWorld()
        let filter = try world.makeFilter(include: ["10.0.0.0/8"], exclude: ["10.0.0.0/8"])
        #expect(filter.ranges.isEmpty)
        let empty = try world.makeFilter(include: [])
        #expect(empty.ranges.isEmpty)
        #expect(try world.state.ipFilterContains(empty.id, address("10.0.0.1")) == false)
    }

    @Test("include-range, exclude-range, include-filter and exclude-filter")
    func operations() throws {
        var world = try makeWorld()
        let target = try world.makeFilter(include: ["198.51.100.0/24"])
        let other = try world.makeFilter(include: ["192.0.2.0/24", "198.51.100.0/28"])
        world.advance(to: 5)

        func apply(_ operation: IPFilterOperation) throws -> [String] {
            try world.modifyIPFilter(target.id, operation).ranges.ranges.map(\.description)
        }

        #expect(try apply(.includeRange(range("203.0.113.0/24"))) == ["198.51.100.0/24", "203.0.113.0/24"])
        #expect(try apply(.excludeRange(range("198.51.100.0/25"))) == ["198.51.100.128/25", "203.0.113.0/24"])
        #expect(try apply(.includeFilter(id: other.id)) == ["192.0.2.0/24", "198.51.100.0/28", "198.51.100.128/25", "203.0.113.0/24"])
        #expect(try apply(.excludeFilter(id: other.id)) == ["198.51.100.128/25", "203.0.113.0/24"])
        #expect(world.state.ipFilter(target.id)?.updatedAt == t0.adding(5))
        #expect(world.state.ipFilter(target.id)?.createdAt == t0)
        // The operand is read, not changed.
        #expect(world.state.ipFilter(other.id) == other)
        // A filter minus itself is empty.
        #expect(try apply(.excludeFilter(id: target.id)) == [])
    }

    @Test("operations on missing filters are ERROR_NOT_FOUND and change nothing")
    func missing() throws {
        var world = try makeWorld()
        let target = try world.makeFilter(include: ["198.51.100.0/24"])
        world.clearChanges()
        let missingTarget = captureError {
            try world.modifyIPFilter("f-404", .includeRange(range("10.0.0.1")))
        }
        #expect(missingTarget?.hresult == .ERROR_NOT_FOUND)
        let missingOperand = captureError {
            try world.modifyIPFilter(target.id, .includeFilter(id: "f-404"))
        }
        #expect(missingOperand?.hresult == .ERROR_NOT_FOUND)
        #expect(missingOperand?.fieldErrors.map(\.field) == ["filterId"])
        #expect(captureError {
            try world.modifyIPFilter(target.id, .excludeFilter(id: "f-404"))
        }?.hresult == .ERROR_NOT_FOUND)
        #expect(captureError { try world.state.ipFilterContains("f-404", address("10.0.0.1")) }?.hresult == .ERROR_NOT_FOUND)
        #expect(captureError { try world.cloneIPFilter("f-404") }?.hresult == .ERROR_NOT_FOUND)
        #expect(captureError { try world.state.compareIPFilters("f-404", target.id) }?.hresult == .ERROR_NOT_FOUND)
        let other = captureError { try world.state.compareIPFilters(target.id, "f-404") }
        #expect(other?.hresult == .ERROR_NOT_FOUND)
        #expect(other?.fieldErrors.map(\.field) == ["other"])
        #expect(captureError { try world.deleteIPFilter("f-404") }?.hresult == .ERROR_NOT_FOUND)
        #expect(world.state.ipFilter(target.id) == target)
        #expect(world.changes.isEmpty)
    }

    @Test(
        "contains (IsIncluded)",
        arguments: [("198.51.100.7", true), ("198.51.100.13", false), ("198.51.101.0", false), ("2001:db8::5", true), ("2001:db8::1:0", false)])
    func contains(text: String, included: Bool) throws {
        var world = try makeWorld()
        let filter = try world.makeFilter(include: ["198.51.100.0/24", "2001:db8::/112"], exclude: ["198.51.100.13"])
        #expect(try world.state.ipFilterContains(filter.id, address(text)) == included)
    }

    @Test("clone makes an independent filter with the same addresses")
    func clone() throws {
        var world = try makeWorld()
        let original = try world.makeFilter(include: ["198.51.100.0/24"], exclude: ["198.51.100.13"])
        world.advance(to: 9)
        let copy = try world.cloneIPFilter(original.id)
        #expect(copy.id != original.id)
        #expect(copy.ranges == original.ranges)
        #expect(copy.createdAt == t0.adding(9))
        #expect(try world.state.compareIPFilters(original.id, copy.id) == .equal)
        _ = try world.modifyIPFilter(copy.id, .includeRange(range("10.0.0.1")))
        #expect(world.state.ipFilter(original.id) == original)
        #expect(try world.state.compareIPFilters(original.id, copy.id) == .subset)
    }

    static let compareCases: [([String], [String], IPRangeSetRelation)] = [
        (["198.51.100.0/24"], ["198.51.100.0-198.51.100.255"], .equal),
        ([], [], .equal),
        (["198.51.100.0/25"], ["198.51.100.0/24"], .subset),
        ([], ["198.51.100.0/24"], .subset),
        (["198.51.100.0/24"], ["198.51.100.7"], .superset),
        (["198.51.100.0/25"], ["198.51.100.64/26", "192.0.2.1"], .overlap),
        (["198.51.100.0/25"], ["198.51.100.128/25"], .disjoint),
        (["0.0.0.0/0"], ["::/0"], .disjoint),
    ]

    @Test("compare: equal (S_OK) or not, and how the sets relate", arguments: compareCases)
    func compare(first: [String], second: [String], relation: IPRangeSetRelation) throws {
        var world = try makeWorld()
        let a = try world.makeFilter(include: first)
        let b = try world.makeFilter(include: second)
        #expect(try world.state.compareIPFilters(a.id, b.id) == relation)
    }

    @Test("delete is ERROR_BUSY while an allowed bind references the filter, and allowed after the bind closes")
    func deleteWhileReferenced() throws {
        var world = try makeWorld()
        try world.makeSession()
        let filter = try world.makeFilter(include: ["198.51.100.0/24"])
        let first = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        let second = try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")

        // Pending binds hold no reference.
        let unreferenced = try world.makeFilter(include: ["192.0.2.0/24"])
        try world.deleteIPFilter(unreferenced.id)
        #expect(world.state.ipFilter(unreferenced.id) == nil)

        try world.allow(session: "s1", .udp, "0.0.0.0:40000", ipFilter: .stored(id: filter.id))
        try world.allow(session: "s1", .udp, "0.0.0.0:40001", ipFilter: .stored(id: filter.id))
        world.clearChanges()

        let busy = captureError { try world.deleteIPFilter(filter.id) }
        #expect(busy?.hresult == .ERROR_BUSY)
        #expect(world.state.ipFilter(filter.id) != nil)
        #expect(world.changes.isEmpty)

        try world.close(first.id)
        #expect(captureError { try world.deleteIPFilter(filter.id) }?.hresult == .ERROR_BUSY)
        try world.close(second.id)
        #expect(captureError { try world.deleteIPFilter(filter.id) } == nil)
        #expect(world.state.ipFilter(filter.id) == nil)
        #expect(world.state.listIPFilters(page: PageRequest()).items.isEmpty)
    }

    @Test("replacing a bind's stored filter, a revocation or an expiry releases the reference")
    func referencesReleased() throws {
        var world = try makeWorld()
        try world.makeSession()
        let replaced = try world.makeFilter(include: ["198.51.100.0/24"])
        let revoked = try world.makeFilter(include: ["198.51.100.0/24"])
        let bind = try world.makeBind(session: "s1", .udp, "203.0.113.10:40000")
        try world.makeBind(session: "s1", .udp, "203.0.113.10:40001")
        try world.allow(session: "s1", .udp, "203.0.113.10:40000", ipFilter: .stored(id: replaced.id))
        try world.allow(session: "s1", .udp, "203.0.113.10:40001", protocolGUID: ftpGUID, ipFilter: .stored(id: revoked.id))

        _ = try world.setIPFilter(sessionID: "s1", bindID: bind.id, filter: .inline(IPRangeSet()))
        #expect(captureError { try world.deleteIPFilter(replaced.id) } == nil)

        #expect(captureError { try world.deleteIPFilter(revoked.id) }?.hresult == .ERROR_BUSY)
        try world.addRule(makeRule(name: "No FTP", action: .deny, protocols: .only([ftpGUID]), position: 1))
        #expect(captureError { try world.deleteIPFilter(revoked.id) } == nil)
    }

    @Test("quotas: filters in all (FWX_E_IS_BUSY) and ranges per filter (E_INVALIDARG)")
    func quotas() throws {
        var world = try makeWorld(settings: makeSettings {
            $0.maxIPFilters = 2
            $0.maxRangesPerFilter = 2
        })
        let first = try world.makeFilter(include: ["10.0.0.1", "10.0.0.3"])
        #expect(captureError { try world.makeFilter(include: ["10.0.0.1", "10.0.0.3", "10.0.0.5"]) }?.hresult == .E_INVALIDARG)
        #expect(captureError { try world.makeFilter(include: ["10.0.0.0/24"], exclude: ["10.0.0.7", "10.0.0.9"]) }?.hresult == .E_INVALIDARG)
        #expect(captureError {
            try world.modifyIPFilter(first.id, .includeRange(range("10.0.0.5")))
        }?.hresult == .E_INVALIDARG)
        #expect(world.state.ipFilter(first.id)?.ranges == rangeSet("10.0.0.1", "10.0.0.3"))
        _ = try world.cloneIPFilter(first.id)
        let busy = captureError { try world.makeFilter(include: []) }
        #expect(busy?.hresult == .FWX_E_IS_BUSY)
        #expect(busy?.retryAfterSeconds == 1)
        #expect(world.state.listIPFilters(page: PageRequest()).items.count == 2)
    }
}
