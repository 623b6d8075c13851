/// The peers an allowed bind accepts traffic from (IFWXConnection::SetIpFilter).
///
/// No filter at all (nil where this type is optional) means every peer; an empty range set means none.
public enum BindIPFilter: Sendable, Equatable {
    /// A snapshot given with the call.
    case inline(IPRangeSet)
    /// A live reference to a stored filter: changes to it apply at once.
    case stored(id: String)
}
