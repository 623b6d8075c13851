"""GET /audit: the durable audit trail over HTTP (SQLite store), with tokens and a restart."""
import json
import subprocess
import time

import pytest

from conftest import FTP, assert_problem, binary
from postgres import postgres  # noqa: F401 (fixture)


def make_token(role, name):
    lines = subprocess.run([binary(), "token", "create", "--role", role, "--name", name],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return lines[0], json.loads(lines[1])


@pytest.fixture
def tokens():
    return {role: make_token(role, f"{role}-client") for role in ("viewer", "filter", "admin")}


def start(start_server, data, tokens):
    server = start_server(data=data, config={"tokens": [entry for _, entry in tokens.values()]})
    server.auth = {role: {"Authorization": "Bearer " + token} for role, (token, _) in tokens.items()}
    return server


def audit(server, role="viewer", **query):
    response = server.http.get(server.url("/audit"), params=query, headers=server.auth[role], timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_changes_are_recorded_with_the_token_name_and_survive_a_restart(start_server, tmp_path, tokens):
    server = start(start_server, tmp_path / "data", tokens)
    admin, filt = server.auth["admin"], server.auth["filter"]
    rule = server.post("/rules", {"name": "ftp", "action": "allow", "protocols": [FTP], "users": ["All Users"]},
                       headers=admin)
    assert rule.status_code == 201, rule.text
    session = server.post("/sessions", {"clientAddress": "10.1.2.3"}, headers=filt).json()
    bind = server.post(f"/sessions/{session['id']}/binds", {"protocol": "tcp", "address": "203.0.113.10:40000"},
                       headers=filt).json()
    body = {"protocol": "tcp", "address": "203.0.113.10:40000", "protocolGuid": FTP}
    time.sleep(0.01)  # the time filters below split at the approval's millisecond
    allowed = server.post(f"/sessions/{session['id']}/retroactive-binds", body,
                          headers={**filt, "X-Request-Id": "allow-1"})
    assert allowed.status_code == 200 and allowed.json()["hresult"] == "S_OK", allowed.text
    again = server.post(f"/sessions/{session['id']}/retroactive-binds", body, headers=filt)
    assert again.json()["hresult"] == "S_FALSE"
    metrics = server.get("/metrics", headers=server.auth["viewer"]).text
    assert "fwsessiond_retroactive_reapprovals_total 1" in metrics.splitlines(), "the re-approval is counted"
    denied = server.post(f"/sessions/{session['id']}/retroactive-binds", {**body, "protocolGuid": "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21"},
                         headers=filt)
    assert denied.status_code != 200

    page = audit(server)
    actions = [record["action"] for record in page["items"]]
    assert actions == ["rule.create", "session.create", "bind.create", "retroactive-allow-bind"], actions
    created_rule, _, _, allow = page["items"]
    assert created_rule["token"] == "admin-client" and created_rule["hresult"] == "S_OK"
    assert created_rule["details"]["ruleId"] == rule.json()["id"]
    assert created_rule["details"]["policyVersion"] == int(rule.headers["ETag"].strip('"'))
    assert allow["token"] == "filter-client" and allow["requestId"] == "allow-1"
    assert allow["sessionId"] == session["id"] and allow["bindId"] == bind["id"]
    assert allow["details"]["protocolGuid"] == FTP and allow["details"]["bindIds"] == [bind["id"]]
    ids = [int(record["id"]) for record in page["items"]]
    assert ids == sorted(ids)
    tokens_seen = {record["token"] for record in page["items"]}
    assert not any(token in json.dumps(page) for token, _ in tokens.values()), "never the token itself"
    assert tokens_seen == {"admin-client", "filter-client"}

    # Filters.
    assert [r["action"] for r in audit(server, action="rule.create")["items"]] == ["rule.create"]
    assert [r["action"] for r in audit(server, token="admin-client")["items"]] == ["rule.create"]
    assert [r["action"] for r in audit(server, session=session["id"])["items"]] == \
        ["session.create", "bind.create", "retroactive-allow-bind"]
    assert [r["action"] for r in audit(server, bind=bind["id"])["items"]] == ["bind.create", "retroactive-allow-bind"]
    assert audit(server, hresult="E_FAIL")["items"] == []
    assert len(audit(server, since=allow["time"])["items"]) == 1
    assert [r["action"] for r in audit(server, until=allow["time"])["items"]] == \
        ["rule.create", "session.create", "bind.create"]
    assert audit(server, since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00+02:00")["items"] == []

    # Paging: one at a time, oldest first, the cursor follows.
    first = audit(server, limit="2")
    assert len(first["items"]) == 2 and first["nextCursor"]
    second = audit(server, limit="2", cursor=first["nextCursor"])
    assert [r["id"] for r in first["items"] + second["items"]] == [r["id"] for r in page["items"]]
    assert second["nextCursor"] is None

    # Bad filters name the parameter.
    for name, value in [("since", "yesterday"), ("until", "2026-13-01T00:00:00Z"), ("bind", "7"),
                        ("hresult", "NOPE"), ("limit", "0"), ("colour", "red")]:
        response = server.http.get(server.url("/audit"), params={name: value}, headers=server.auth["viewer"], timeout=30)
        assert_problem(response, 400, "E_INVALIDARG", field=name)

    # A viewer may read but not write; without a token nothing.
    assert server.get("/audit").status_code == 401

    server.stop()
    restarted = start(start_server, tmp_path / "data", tokens)
    assert audit(restarted)["items"] == page["items"]


def test_memory_store_has_no_trail(start_server):
    server = start_server(store="memory")
    assert_problem(server.get("/audit"), 409, "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)")


def test_audit_log_lines_stay(start_server, tmp_path, tokens):
    server = start(start_server, tmp_path / "data", tokens)
    response = server.post("/rules", {"name": "ftp", "action": "allow", "protocols": [FTP], "users": ["All Users"]},
                           headers=server.auth["admin"])
    assert response.status_code == 201
    server.stop()
    lines = [line for line in server.log_lines if "audit.action=rule.create" in line]
    assert len(lines) == 1 and "token=admin-client" in lines[0], server.log


def test_array_nodes_share_one_trail_with_their_node_ids(postgres):  # noqa: F811
    from test_array import Array, allow_ftp, post
    array = Array(postgres.url)
    try:
        a, b = array.start("a"), array.start("b")
        allow_ftp(a)
        assert post(b, "/sessions", {"id": "alice", "clientAddress": "10.1.2.3"}).status_code == 201
        bind = post(b, "/sessions/alice/binds", {"protocol": "tcp", "address": "203.0.113.10:40000"}).json()
        body = {"protocol": "tcp", "address": "203.0.113.10:40000", "protocolGuid": FTP}
        from conftest import wait_until
        wait_until(lambda: post(b, "/sessions/alice/retroactive-binds", body).json().get("hresult") == "S_FALSE", timeout=5)
        for node in (a, b):
            response = node.get("/audit")
            assert response.status_code == 200, response.text
            records = response.json()["items"]
            assert [(r["action"], r["node"]) for r in records] == [
                ("rule.create", "a"), ("session.create", "b"), ("bind.create", "b"), ("retroactive-allow-bind", "b")], records
            assert records[3]["bindId"] == bind["id"] and records[3]["token"] == "anonymous-loopback"
        assert [r["action"] for r in a.get("/audit?session=alice&action=bind.create").json()["items"]] == ["bind.create"]
        assert postgres.psql("SELECT count(*) FROM audit") == "4"
    finally:
        array.stop_all()
