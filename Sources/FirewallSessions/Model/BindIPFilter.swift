/// The peers an allowed bind accepts traffic from (IFWXConnection::SetIpFilter).
///
/// No filter at all (nil where this type is optional) means every peer; an empty range set means none.
public enum BindIPFilter: Sendable, Equatable {
    /// A snapshot given with the call.
    case inline(IPRangeSet)
    /// A live reference to a stored filter: changes to it apply at once.
    case stored(id: String)
}

extension BindIPFilter {
    /// The inline filter of a RetroactiveAllowBind or SetIpFilter call (`ipFilter`): the includes,
    /// then the excludes, applied to the empty set; at most `limit` ranges.
    public static func building(include: [IPRange], exclude: [IPRange], limit: Int) throws(FirewallError) -> BindIPFilter {
        .inline(try FirewallState.buildRanges(include: include, exclude: exclude, limit: limit, field: "ipFilter.include"))
    }
}
