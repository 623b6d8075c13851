"""Schemathesis hooks for test_schemathesis.py (loaded through `hooks` in schemathesis.toml).

openapi.yaml describes every request field as precisely as JSON Schema can: the address patterns
are exactly the server's grammar (RFC 3986 section 3.2.2 for IPv6). A few rules of the API are not
expressible in JSON Schema at all, and a schema-valid request that breaks one is rightly 400:

* a CIDR block's host bits must be zero (`198.51.100.0/24`, not `198.51.100.7/24`);
* an address range is from <= to, and so is a port range (`1024-65535`, not `65535-1024`);
* `PUT /protocols/{guid}`: a body `guid` must equal the path's;
* a rule's `protocols` must name protocol definitions that exist (state: which ones exist);
* a rule's `position` must be in 1..(user rules + 1) on create, 1..(user rules) on replace
  (state: how many rules exist);
* an integer is written as an integer literal: `5`, not `5.0`, although JSON Schema's
  `type: integer` holds `5.0` too (and Hypothesis generates it).

So that `positive_data_acceptance` keeps its full force on these operations (any other 400 is a
failure), `before_call` rewrites *positive* test cases to keep those rules, changing only the values
that break them: host bits are cleared, range ends ordered, the body GUID set to the path's,
unknown protocol GUIDs replaced by built-in ones (spelled the same way: case, braces), the
position set to 1, which always exists, and integral floats written as integers. Negative test
cases are left exactly as generated.

`filter_failure` drops two kinds of false alarm, each only when the server's answer shows it is one:

* ensure_resource_availability (ST302) calls a 404 right after the POST that created the path's
  resource "created resource not found"; but the 404 of IncludeFilter/ExcludeFilter (`filterId`),
  SetIpFilter and RetroactiveAllowBind (`ipFilterId`; "no ... bind matching" the body's protocol
  and address) is about a resource the *body* names. Dropped when the problem says so
  (`errors[].field`, `detail`).
* use_after_free (ST301) expects 404 after a successful DELETE; but API.md has
  `DELETE /sessions/{id}` and `DELETE /sessions/{id}/binds/{bindId}` answer 200 with the object now
  `terminating`, readable as such until the grace period purges it. Dropped when the answer is that
  terminating session or bind (or a page of its binds, all terminating).

Every other ST301 and ST302 stays a failure.

A stateful link may also merge the protocol of a recorded bind into a generated RetroactiveAllowBind
body; `bidirectional` is dropped when that makes it a TCP body (the schema's own if/then rule).
"""
import ipaddress
import re
import urllib.parse

import schemathesis

# The built-in protocol definitions (README: fixed GUIDs; they can never be deleted).
BUILT_IN_GUIDS = [
    "477d0251-8a01-4895-9727-ba1370e17366",  # FTP
    "389ce06c-a0e6-499a-8dc2-84761633c2ad",  # H.323
    "b7f58360-b6d5-4b30-a9eb-d9b745cf5261",  # RTSP
    "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21",  # SIP
    "2dd6f99f-5d60-4839-a4b6-deb5cba60bdf",  # PPTP
    "aab7a7dd-8a2c-45b2-a301-1aec1e852830",  # TFTP
]
OPERATIONS = {
    "PUT /protocols/{guid}": "replaceProtocol",
    "POST /rules": "createRule",
    "PUT /rules/{id}": "replaceRule",
    "POST /sessions/{id}/retroactive-binds": "retroactiveAllowBind",
    "GET /sessions": "listSessions",
}
RANGE_FIELDS = {"include", "exclude", "sourceAddresses", "range"}
PORT_RANGE = re.compile(r"^([0-9]+)-([0-9]+)$")
GUID = re.compile(r"^\{?([0-9A-Fa-f-]{36})\}?$")


def semantic_range(text):
    """An address range text with host bits cleared and ends ordered; others unchanged."""
    if not isinstance(text, str):
        return text
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            if network.network_address == ipaddress.ip_address(text.split("/")[0]):
                return text
            return f"{network.network_address}/{network.prefixlen}"
        if "-" in text:
            low, high = text.split("-", 1)
            if ipaddress.ip_address(low) > ipaddress.ip_address(high):
                return f"{high}-{low}"
    except ValueError:
        pass  # not schema-valid; positive cases never get here
    return text


def repair_ranges(value, key=None):
    """Applies `semantic_range` to every string under a range-holding key, at any depth; orders port
    ranges; writes integral floats as integers."""
    if isinstance(value, dict):
        return {k: repair_ranges(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [repair_ranges(item, key) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if key in RANGE_FIELDS:
        return semantic_range(value)
    if key == "ports" and isinstance(value, str):
        match = PORT_RANGE.match(value)
        if match and int(match.group(1)) > int(match.group(2)):
            return f"{match.group(2)}-{match.group(1)}"
    return value


def known_guid(text):
    """A built-in GUID in the same spelling (case, braces) as `text`, unless it is one already."""
    match = GUID.match(text) if isinstance(text, str) else None
    if not match or match.group(1).lower() in BUILT_IN_GUIDS:
        return text
    guid = BUILT_IN_GUIDS[sum(map(ord, text)) % len(BUILT_IN_GUIDS)]
    if match.group(1) != match.group(1).lower():
        guid = guid.upper()
    return "{" + guid + "}" if text.startswith("{") else guid


@schemathesis.hook
def before_call(context, case, kwargs):
    # Here rather than in `map_case`: the stateful phase applies link values (a created protocol's
    # GUID in the path, a bind's protocol in the body) after generation, just before the call.
    # Schemathesis revalidates an edited case, so a repaired positive case stays a positive one.
    meta = case.meta
    if meta is None or meta.generation.mode.is_negative:
        return
    operation_id = OPERATIONS.get(f"{case.operation.method.upper()} {case.operation.path}")
    body = case.body
    if isinstance(body, dict):
        body = repair_ranges(body)
        if operation_id == "replaceProtocol" and "guid" in body and case.path_parameters:
            # Path parameters are percent-encoded by now (`{` is `%7B`).
            body["guid"] = urllib.parse.unquote(str(case.path_parameters.get("guid", body["guid"])))
        if operation_id in ("createRule", "replaceRule"):
            protocols = body.get("protocols")
            if isinstance(protocols, list):
                body["protocols"] = [known_guid(g) for g in protocols]
            elif isinstance(protocols, dict) and isinstance(protocols.get("except"), list):
                body["protocols"] = {**protocols, "except": [known_guid(g) for g in protocols["except"]]}
            if isinstance(body.get("position"), int) and body["position"] > 1:
                body["position"] = 1
        if operation_id == "retroactiveAllowBind" and body.get("protocol") == "tcp":
            if isinstance(body.get("flags"), list) and "bidirectional" in body["flags"]:
                body["flags"] = [flag for flag in body["flags"] if flag != "bidirectional"]
        case.body = body
    if case.query:
        query = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in case.query.items()}
        if operation_id == "listSessions" and "clientAddress" in query:
            query["clientAddress"] = semantic_range(query["clientAddress"])
        case.query = query


BODY_REFERENCES = {"filterId", "ipFilterId"}


def terminating(body):
    """Whether a 2xx body is a terminating session or bind, or a page of terminating binds."""
    if not isinstance(body, dict):
        return False
    if "items" in body and isinstance(body["items"], list):
        return all(isinstance(item, dict) and item.get("state") == "terminating" for item in body["items"])
    return body.get("state") == "terminating"


@schemathesis.hook
def filter_failure(context, failure, case, response):
    code = getattr(failure, "code", None)
    if code == "ST301":
        # Deleted session or bind: readable, terminating, until the grace period purges it.
        if not str(getattr(failure, "free", "")).startswith("DELETE /sessions/"):
            return True
        try:
            return not terminating(response.json())
        except ValueError:
            return True
    if code != "ST302" or response.status_code != 404:
        return True
    try:
        problem = response.json()
    except ValueError:
        return True
    if not isinstance(problem, dict):
        return True
    fields = {error.get("field") for error in problem.get("errors") or [] if isinstance(error, dict)}
    if fields & BODY_REFERENCES:
        return False
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    if operation == "POST /sessions/{id}/retroactive-binds" and " bind matching " in str(problem.get("detail")):
        return False
    return True
