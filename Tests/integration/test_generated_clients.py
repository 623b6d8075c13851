"""Clients generated from openapi.yaml work out of the box, in Python and Swift (the README's
"Generated clients"), tested on the README's walk-through.

* Python: openapi-python-client (pinned in requirements.txt) generates a package from the
  repository's openapi.yaml into a temporary folder and must report nothing but that it did; the
  test imports it and walks through the README's FTP story with its typed models (session, rule,
  pending bind, discarded decision, S_OK, accepted decision, filtered decision, S_FALSE, the 400
  problem with its field), then a 409 with the holder, a 412 with If-Match, lifting a filter (`PUT`
  with `ipFilter=None`, and `DELETE`), and a token through `AuthenticatedClient`.
* Swift: `make test` builds clients/swift-example, whose target holds a link to openapi.yaml and
  runs swift-openapi-generator's build plugin on it, with its own scratch path .build-swift-client
  (so the server's build never carries the generator). The test runs the plugin's generator on
  openapi.yaml once more to see that it reports nothing (no unsupported schema, no skipped member)
  and that the members it used to drop are there, then runs the package's program, which does the
  same walk-through with the generated client and its types, against a server with tokens (the
  bearer token goes through a client middleware).
"""
import importlib
import json
import re
import subprocess
import sys

import pytest

from conftest import FTP, REPO, binary

SWIFT_SCRATCH = REPO / ".build-swift-client"
SWIFT_PROGRAM = SWIFT_SCRATCH / "debug" / "FirewallWalkthrough"
SWIFT_GENERATOR = SWIFT_SCRATCH / "debug" / "swift-openapi-generator-tool"
SWIFT_CONFIG = REPO / "clients" / "swift-example" / "Sources" / "FirewallWalkthrough" / "openapi-generator-config.yaml"
WALKTHROUGH = ["session", "rule", "pending bind", "discarded decision", "S_OK", "accepted decision",
               "filtered decision", "S_FALSE", "400 problem with its field", "409 with holder",
               "412 with If-Match", "lifted filter"]


def with_token(start_server):
    """A server with an admin token: (server, token)."""
    lines = subprocess.run([binary(), "token", "create", "--role", "admin", "--name", "generated-client"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return start_server(store="memory", config={"tokens": [json.loads(lines[1])]}), lines[0]


# --------------------------------------------------------------------------- Python

@pytest.fixture(scope="module")
def fwsessiond_client(tmp_path_factory):
    """The package openapi-python-client makes of openapi.yaml, imported."""
    folder = tmp_path_factory.mktemp("python-client")
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(REPO / "openapi.yaml"),
         "--output-path", str(folder / "fwsessiond_client"), "--meta", "none"],
        capture_output=True, text=True, timeout=300)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    # Anything beyond "Generating <path>" is a warning about a part of the document it skipped.
    assert [line for line in output.splitlines() if line.strip()] == [f"Generating {folder / 'fwsessiond_client'}"], output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("fwsessiond_client")
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == "fwsessiond_client"]:
            del sys.modules[name]


def test_python_client_walks_through_the_readme(server, fwsessiond_client):
    from fwsessiond_client import Client
    from fwsessiond_client.api.binds import create_bind, lift_bind_ip_filter, set_bind_ip_filter
    from fwsessiond_client.api.decisions import decide
    from fwsessiond_client.api.retroactive_binds import retroactive_allow_bind
    from fwsessiond_client.api.rules import create_rule, get_rule, list_rules, replace_rule
    from fwsessiond_client.api.sessions import create_session
    from fwsessiond_client.models import (
        Bind, BindFlag, BindState, ClientType, CreateBindRequest, CreateSessionRequest, Decision, DecisionReason,
        DecisionRequest, HResultName, InlineIpFilterType0, Problem, ProblemStatus, RetroactiveAllowBindRequest,
        RetroactiveAllowBindResult, RetroactiveAllowBindResultHresult, Rule, RuleAction, RuleInput, RulePage,
        RuleProtocolsAny, Session, SessionState, SessionUserInputType0, SetBindIpFilterRequest, TrafficDirection,
        TransportProtocol, Verdict)

    client = Client(base_url=server.base_url, raise_on_unexpected_status=True)

    def typed(response, status, model):
        assert response.status_code == status, (response.status_code, response.content)
        assert isinstance(response.parsed, model), response.parsed
        return response.parsed

    created = create_session.sync_detailed(client=client, body=CreateSessionRequest(
        id="ws17-1", client_address="10.1.2.3", client_machine_name="WS-17",
        user=SessionUserInputType0(name="CONTOSO\\alice", groups=["CONTOSO\\FTP Users"])))
    session = typed(created, 201, Session)
    assert created.headers["Location"] == "/sessions/ws17-1"
    assert session.state is SessionState.ACTIVE and session.client_type is ClientType.FIREWALL_CLIENT
    assert session.user.name == "CONTOSO\\alice" and session.user.groups == ["CONTOSO\\FTP Users"]
    assert session.created_at.tzinfo is not None and session.terminating_at is None

    rules = list_rules.sync_detailed(client=client)
    assert typed(rules, 200, RulePage).items[-1].protocols is RuleProtocolsAny.ANY
    rule = typed(create_rule.sync_detailed(client=client, if_match=rules.headers["ETag"], body=RuleInput(
        name="FTP for FTP Users", action=RuleAction.ALLOW, protocols=[FTP], users=["CONTOSO\\FTP Users"])), 201, Rule)
    assert rule.position == 1 and rule.protocols == [FTP] and rule.source_addresses is None

    bind = typed(create_bind.sync_detailed("ws17-1", client=client, body=CreateBindRequest(
        protocol=TransportProtocol.TCP, address="203.0.113.10:40000")), 201, Bind)
    assert bind.state is BindState.PENDING and bind.protocol_guid is None and bind.ip_filter is None
    assert bind.receive_buffer_bytes is None and bind.flags == []

    def syn(source, verdict, reason):
        decision = typed(decide.sync_detailed(client=client, body=DecisionRequest(
            protocol=TransportProtocol.TCP, direction=TrafficDirection.INBOUND, source=source,
            destination="203.0.113.10:40000")), 200, Decision)
        assert (decision.verdict, decision.reason, decision.session_id, decision.bind_id) == \
            (verdict, reason, "ws17-1", bind.id)

    syn("198.51.100.7:20", Verdict.DISCARD, DecisionReason.BIND_PENDING)

    allow = RetroactiveAllowBindRequest(protocol=TransportProtocol.TCP, address="203.0.113.10:40000", protocol_guid=FTP)
    allow.ip_filter = InlineIpFilterType0(include=["198.51.100.7"])
    first = typed(retroactive_allow_bind.sync_detailed("ws17-1", client=client, body=allow), 200, RetroactiveAllowBindResult)
    assert first.hresult is RetroactiveAllowBindResultHresult.S_OK and first.code == "0x00000000"
    assert first.binds[0].state is BindState.ALLOWED and first.binds[0].ip_filter.ranges == ["198.51.100.7"]

    syn("198.51.100.7:20", Verdict.ACCEPT, DecisionReason.ALLOWED)
    syn("192.0.2.66:20", Verdict.DISCARD, DecisionReason.IP_FILTER)

    again = typed(retroactive_allow_bind.sync_detailed("ws17-1", client=client, body=RetroactiveAllowBindRequest(
        protocol=TransportProtocol.TCP, address="203.0.113.10:40000", protocol_guid=FTP)), 200, RetroactiveAllowBindResult)
    assert again.hresult is RetroactiveAllowBindResultHresult.S_FALSE and again.code == "0x00000001"

    bad = typed(retroactive_allow_bind.sync_detailed("ws17-1", client=client, body=RetroactiveAllowBindRequest(
        protocol=TransportProtocol.TCP, address="203.0.113.10:40000", protocol_guid=FTP,
        flags=[BindFlag.BIDIRECTIONAL])), 400, Problem)
    assert bad.status is ProblemStatus.VALUE_400 and bad.hresult is HResultName.E_INVALIDARG and bad.code == "0x80070057"
    assert (bad.errors[0].field, bad.errors[0].reason) == ("flags[0]", "is only valid for protocol udp")

    # A second session on the same address: 409 naming the holder.
    typed(create_session.sync_detailed(client=client, body=CreateSessionRequest(id="ws22-4", client_address="10.1.2.4")),
          201, Session)
    taken = typed(create_bind.sync_detailed("ws22-4", client=client, body=CreateBindRequest(
        protocol=TransportProtocol.TCP, address="203.0.113.10:40000")), 409, Problem)
    assert taken.hresult is HResultName.HRESULT_FROM_WIN32WSAEADDRINUSE
    assert (taken.conflict.session_id, taken.conflict.bind_id) == ("ws17-1", bind.id)

    # If-Match: a stale policy version is 412, the current one applies.
    fetched = get_rule.sync_detailed(rule.id, client=client)
    replacement = RuleInput(name="FTP", action=RuleAction.ALLOW, protocols=[FTP], users=["CONTOSO\\FTP Users"])
    stale = typed(replace_rule.sync_detailed(rule.id, client=client, body=replacement, if_match='"999999"'), 412, Problem)
    assert stale.hresult is HResultName.HRESULT_FROM_WIN32ERROR_REVISION_MISMATCH and stale.status is ProblemStatus.VALUE_412
    current = replace_rule.sync_detailed(rule.id, client=client, body=replacement, if_match=fetched.headers["ETag"])
    assert typed(current, 200, Rule).name == "FTP" and current.headers["ETag"] != fetched.headers["ETag"]

    # Lifting the filter: `PUT` with an explicit null (Python can send one), and `DELETE`.
    path = ("ws17-1", bind.id)
    lifted = typed(set_bind_ip_filter.sync_detailed(*path, client=client, body=SetBindIpFilterRequest(ip_filter=None)), 200, Bind)
    assert lifted.ip_filter is None and lifted.ip_filter_id is None
    syn("192.0.2.66:20", Verdict.ACCEPT, DecisionReason.ALLOWED)
    restricted = typed(set_bind_ip_filter.sync_detailed(*path, client=client, body=SetBindIpFilterRequest(
        ip_filter=InlineIpFilterType0(include=["198.51.100.7"]))), 200, Bind)
    assert restricted.ip_filter.ranges == ["198.51.100.7"]
    syn("192.0.2.66:20", Verdict.DISCARD, DecisionReason.IP_FILTER)
    lifted = typed(lift_bind_ip_filter.sync_detailed(*path, client=client), 200, Bind)
    assert lifted.state is BindState.ALLOWED and lifted.ip_filter is None
    syn("192.0.2.66:20", Verdict.ACCEPT, DecisionReason.ALLOWED)


def test_python_client_with_a_token(start_server, fwsessiond_client):
    from fwsessiond_client import AuthenticatedClient, Client
    from fwsessiond_client.api.sessions import list_sessions
    from fwsessiond_client.models import HResultName, Problem, SessionPage

    server, token = with_token(start_server)
    refused = list_sessions.sync_detailed(client=Client(base_url=server.base_url))
    assert refused.status_code == 401 and isinstance(refused.parsed, Problem)
    assert refused.parsed.hresult is HResultName.E_ACCESSDENIED
    listed = list_sessions.sync_detailed(client=AuthenticatedClient(base_url=server.base_url, token=token))
    assert listed.status_code == 200 and isinstance(listed.parsed, SessionPage)


# --------------------------------------------------------------------------- Swift

def swift_built(path):
    if not path.exists():
        pytest.fail(f"{path} not found: build the Swift client package first (make swift-client)")
    return str(path)


def test_swift_generator_takes_the_document_whole(tmp_path):
    result = subprocess.run(
        [swift_built(SWIFT_GENERATOR), "generate", str(REPO / "openapi.yaml"), "--config", str(SWIFT_CONFIG),
         "--output-directory", str(tmp_path)], capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    diagnostics = [line for line in output.splitlines() if re.match(r"\s*(warning|error|note)\b", line, re.I)]
    assert not diagnostics, "swift-openapi-generator reported:\n" + "\n".join(diagnostics)
    types = "\n".join(path.read_text() for path in sorted(tmp_path.glob("Types*.swift")))
    for member in ("var clientType: Components.Schemas.ClientTypeInput?", "var user: Components.Schemas.SessionUserInput?",
                   "var user: Components.Schemas.SessionUser?", "var protocolGuid: Swift.String?",
                   "var ipFilter: Components.Schemas.BindInlineIpFilter?", "var ipFilterId: Swift.String?",
                   "var receiveBufferBytes: Swift.Int?", "var ipFilter: Components.Schemas.InlineIpFilter?",
                   "var hresult: Components.Schemas.HResultName", "var conflict: Components.Schemas.Problem.ConflictPayload?",
                   "case RuleProtocolsAny(Components.Schemas.RuleProtocolsAny)", "func liftBindIpFilter("):
        assert member in types + (tmp_path / "Client.swift").read_text(), f"not generated: {member}"
    assert "value1" not in types, "an allOf/anyOf came out as untyped values"


def test_swift_client_walks_through_the_readme(start_server):
    server, token = with_token(start_server)
    result = subprocess.run([swift_built(SWIFT_PROGRAM), server.base_url], capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "FWSESSIOND_TOKEN": token})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"ok {step}" for step in WALKTHROUGH], result.stdout + result.stderr


def test_if_match_may_be_percent_encoded(server):
    # swift-openapi-runtime writes header values percent-encoded: `"7"` as `%227%22`, `*` as `%2A`.
    body = {"name": "x", "action": "allow", "protocols": [FTP], "users": ["All Users"]}
    version = server.get("/rules").headers["ETag"].strip('"')
    stale = server.post("/rules", body, headers={"If-Match": "%22999%22"})
    assert stale.status_code == 412 and stale.json()["hresult"] == "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)"
    created = server.post("/rules", body, headers={"If-Match": f"%22{version}%22"})
    assert created.status_code == 201, created.text
    version = created.headers["ETag"].strip('"')
    assert server.post("/rules", body, headers={"If-Match": f"W%2F%22{version}%22"}).status_code == 201
    assert server.post("/rules", body, headers={"If-Match": "%2A"}).status_code == 201
    assert server.post("/rules", body, headers={"If-Match": "%2"}).status_code == 412
