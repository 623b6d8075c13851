/// How two IP range sets relate: the answer behind the API's filter compare,
/// which says more than IFWXIpFilter::Compare's equal / not equal.
///
/// The raw values are the wire words.
public enum IPRangeSetRelation: String, Sendable {
    /// The same addresses (two empty sets are equal).
    case equal
    /// Every address of the first is in the second, which has more. The
    /// empty set is a subset of every non-empty set.
    case subset
    /// Every address of the second is in the first, which has more.
    case superset
    /// Some shared addresses, and each has some the other lacks.
    case overlap
    /// Both non-empty, with no address in common.
    case disjoint
}
