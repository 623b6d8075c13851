"""Bearer tokens with roles, secure defaults, and the token name in the access log."""
import hashlib
import subprocess

import pytest

from conftest import FTP, assert_problem, binary, wait_until


def make_token(role, name):
    lines = subprocess.run([binary(), "token", "create", "--role", role, "--name", name],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    token, entry = lines[0], lines[1]
    assert token.startswith("fws_") and len(token) >= 4 + 22, "at least 128 bits"
    return token, entry


@pytest.fixture
def secured(start_server):
    import json
    tokens = {role: make_token(role, f"{role}-client") for role in ("viewer", "filter", "admin")}
    server = start_server(store="memory", config={"tokens": [json.loads(entry) for _, entry in tokens.values()]})
    server.tokens = {role: token for role, (token, _) in tokens.items()}
    return server


def auth(server, role):
    return {"Authorization": "Bearer " + server.tokens[role]}


def test_token_entry_holds_only_the_hash():
    import json
    token, entry = make_token("filter", "ftp-helper")
    parsed = json.loads(entry)
    assert parsed == {"name": "ftp-helper", "role": "filter", "sha256": hashlib.sha256(token.encode()).hexdigest()}
    assert token not in entry


def test_missing_or_wrong_token_is_401_with_a_bearer_challenge(secured):
    missing = secured.get("/sessions")
    assert_problem(missing, 401, "E_ACCESSDENIED", "0x80070005")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = secured.get("/sessions", headers={"Authorization": "Bearer fws_not-a-real-token"})
    assert_problem(wrong, 401, "E_ACCESSDENIED")
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    basic = secured.get("/sessions", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(basic, 401, "E_ACCESSDENIED")


def test_health_probes_stay_open(secured):
    assert secured.get("/healthz").status_code == 200
    assert secured.get("/readyz").status_code == 200


def test_roles(secured):
    viewer, filt, admin = (auth(secured, r) for r in ("viewer", "filter", "admin"))
    assert secured.get("/sessions", headers=viewer).status_code == 200
    assert_problem(secured.post("/sessions", {"clientAddress": "10.0.0.1"}, headers=viewer), 403, "E_ACCESSDENIED")
    session = secured.post("/sessions", {"clientAddress": "10.0.0.1"}, headers=filt)
    assert session.status_code == 201
    sid = session.json()["id"]
    assert secured.post(f"/sessions/{sid}/binds", {"protocol": "tcp", "address": "203.0.113.10:1"},
                        headers=filt).status_code == 201
    rule = {"name": "ftp", "action": "allow", "protocols": [FTP], "users": ["All Users"]}
    assert_problem(secured.post("/rules", rule, headers=filt), 403, "E_ACCESSDENIED")
    assert secured.post("/rules", rule, headers=admin).status_code == 201
    allowed = secured.post(f"/sessions/{sid}/retroactive-binds", {
        "protocol": "tcp", "address": "203.0.113.10:1", "protocolGuid": FTP}, headers=filt)
    assert allowed.json()["hresult"] == "S_OK"
    assert secured.post("/decisions", {"protocol": "tcp", "direction": "inbound", "source": "198.51.100.7:2",
                                       "destination": "203.0.113.10:1"}, headers=filt).status_code == 200
    assert secured.post("/ip-filters", {"include": ["10.0.0.0/8"]}, headers=filt).status_code == 201
    assert_problem(secured.post("/protocols", {"name": "x", "primaryConnections": [
        {"protocol": "tcp", "ports": "1", "direction": "outbound"}]}, headers=filt), 403, "E_ACCESSDENIED")
    assert secured.delete(f"/sessions/{sid}", headers=admin).status_code == 200


def test_the_access_log_names_the_token_never_the_token_itself(secured):
    secured.get("/sessions", headers=auth(secured, "viewer"))
    secured.get("/sessions")
    wait_until(lambda: "token=viewer-client" in secured.log, timeout=5)  # access lines are flushed every 200 ms
    log = secured.log
    for token in secured.tokens.values():
        assert token not in log


def test_without_tokens_only_loopback_is_allowed(tmp_path):
    result = subprocess.run([binary(), "serve", "--listen", "0.0.0.0:0", "--store", "memory"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "token create" in result.stderr and "0.0.0.0" in result.stderr


def test_loopback_without_tokens_warns(server):
    assert "no access tokens configured" in server.log


RULE = {"name": "ftp", "action": "allow", "protocols": [FTP], "users": ["All Users"]}


def rule_names(server):
    return [rule["name"] for rule in server.get("/rules").json()["items"]]


def test_without_tokens_a_rebound_host_name_is_refused(server):
    """DNS rebinding: a page on attacker.example, its name rebound to 127.0.0.1, calls the API as
    its own origin, so the browser sends `Host: attacker.example:PORT`."""
    port = server.base_url.rsplit(":", 1)[1]
    for host in [f"attacker.example:{port}", "attacker.example", f"127.0.0.1.nip.io:{port}"]:
        created = server.post("/rules", RULE, headers={"Host": host})
        problem = assert_problem(created, 403, "E_ACCESSDENIED", "0x80070005")
        assert "Host" in problem["detail"]
        assert_problem(server.get("/sessions", headers={"Host": host}), 403, "E_ACCESSDENIED")
    assert rule_names(server) == ["Default rule"]
    for host in [f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost"]:
        assert server.post("/rules", {**RULE, "name": host}, headers={"Host": host}).status_code == 201, host
    assert server.get("/healthz", headers={"Host": "attacker.example"}).status_code == 200, "probes stay open"


def test_without_tokens_cross_site_browser_requests_are_refused(server):
    port = server.base_url.rsplit(":", 1)[1]
    for headers in [{"Origin": "http://attacker.example"}, {"Origin": "null"},
                    {"Sec-Fetch-Site": "cross-site"}, {"Origin": f"http://10.0.0.1:{port}"}]:
        problem = assert_problem(server.post("/rules", RULE, headers=headers), 403, "E_ACCESSDENIED")
        assert "browser" in problem["detail"], headers
    assert rule_names(server) == ["Default rule"]
    same_origin = {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}
    assert server.post("/rules", RULE, headers=same_origin).status_code == 201


def test_with_tokens_the_token_decides_whatever_the_host(secured):
    created = secured.post("/rules", RULE, headers={**auth(secured, "admin"), "Host": "gateway.example:8080",
                                                    "Origin": "https://dashboard.example"})
    assert created.status_code == 201, created.text


def test_two_token_entries_with_one_hash_stop_the_start(tmp_path):
    import json
    token, entry = make_token("viewer", "viewer-client")
    viewer = json.loads(entry)
    admin = {**viewer, "name": "admin-client", "role": "admin"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"tokens": [viewer, admin]}))
    result = subprocess.run([binary(), "serve", "--listen", "127.0.0.1:0", "--store", "memory", "--config", str(path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert "tokens[1].sha256" in result.stderr and "viewer-client" in result.stderr, result.stderr
    assert token not in result.stderr
