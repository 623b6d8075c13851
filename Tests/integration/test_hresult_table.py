"""Every status/HRESULT pair of API.md's mapping table, produced by the real server.

401 and the role-based 403 belong to access control (tested with tokens); 500 E_FAIL cannot be
provoked through the API and is covered by FirewallAPITests with a failing route.
"""
import socket
import threading
import time

from conftest import FTP, SIP, assert_problem


def test_success_is_s_ok_with_200_or_201(server):
    created = server.post("/sessions", {"clientAddress": "10.1.2.3"})
    assert created.status_code == 201
    assert created.headers["Location"] == "/sessions/" + created.json()["id"]
    assert server.get("/sessions/" + created.json()["id"]).status_code == 200
    server.allow_protocol(FTP)
    server.create_bind(created.json()["id"])
    answer = server.retroactive(created.json()["id"])
    assert answer.status_code == 200
    assert answer.json()["hresult"] == "S_OK" and answer.json()["code"] == "0x00000000"


def test_already_allowed_is_s_false(server):
    session = server.create_session()
    server.create_bind(session["id"])
    server.allow_protocol(FTP)
    assert server.retroactive(session["id"]).json()["hresult"] == "S_OK"
    again = server.retroactive(session["id"], flags=[])
    assert again.status_code == 200
    assert again.json() | {"binds": None} == {"hresult": "S_FALSE", "code": "0x00000001", "binds": None}


def test_invalid_arguments_are_e_invalidarg(server):
    session = server.create_session()
    sid = session["id"]
    path = f"/sessions/{sid}/retroactive-binds"
    good = {"protocol": "udp", "address": "203.0.113.10:40000", "protocolGuid": SIP}
    cases = [
        (None, "{not json", ""),
        (good | {"address": "203.0.113.10"}, None, "address"),
        (good | {"address": "203.0.113.10:0"}, None, "address"),
        (good | {"address": "999.0.113.10:1"}, None, "address"),
        (good | {"protocol": "tcp", "flags": ["bidirectional"]}, None, "flags[0]"),
        (good | {"flags": ["bidirectionel"]}, None, "flags[0]"),
        (good | {"protocolGUID": SIP}, None, "protocolGUID"),
        (good | {"protocolGuid": "not-a-guid"}, None, "protocolGuid"),
        (good | {"protocol": 17}, None, "protocol"),
        ({k: v for k, v in good.items() if k != "address"}, None, "address"),
    ]
    for body, raw, field in cases:
        response = server.post(path, body, raw=raw, headers={"Content-Type": "application/json"})
        problem = assert_problem(response, 400, "E_INVALIDARG", "0x80070057")
        if field:
            assert problem["errors"][0]["field"] == field, (body, problem)


def test_rules_deny_is_fwx_e_protocol_rules_denied(server):
    session = server.create_session(user={"name": "CONTOSO\\bob", "groups": []})
    server.create_bind(session["id"])
    assert_problem(server.retroactive(session["id"]), 403, "FWX_E_PROTOCOL_RULES_DENIED", "0xC004000D")


def test_not_found_for_every_kind_of_object(server):
    session = server.create_session()
    for path in ["/sessions/nobody", f"/sessions/{session['id']}/binds/b-999999", "/rules/r-424242",
                 "/protocols/00000000-0000-4000-8000-000000000000", "/ip-filters/f-999999", "/no/such/path"]:
        assert_problem(server.get(path), 404, "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", "0x80070490")
    assert_problem(server.retroactive("nobody"), 404, "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)")
    assert_problem(server.retroactive(session["id"]), 404, "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)")


def test_terminating_is_fwx_e_terminating(server):
    session = server.create_session()
    bind = server.create_bind(session["id"])
    closed = server.delete(f"/sessions/{session['id']}/binds/{bind['id']}")
    assert closed.status_code == 200 and closed.json()["state"] == "terminating"
    server.allow_protocol(FTP)
    assert_problem(server.retroactive(session["id"]), 409, "FWX_E_TERMINATING", "0xC0040001")
    ended = server.delete(f"/sessions/{session['id']}")
    assert ended.json()["state"] == "terminating"
    assert_problem(server.post(f"/sessions/{session['id']}/binds", {"protocol": "udp", "address": "203.0.113.10:5"}),
                   409, "FWX_E_TERMINATING")


def test_existing_id_is_fwx_e_already_exists(server):
    server.create_session(id="ws17-1")
    assert_problem(server.post("/sessions", {"id": "ws17-1", "clientAddress": "10.0.0.1"}),
                   409, "FWX_E_ALREADY_EXISTS", "0x800700B7")


def test_address_in_use_names_the_holder(server):
    first = server.create_session()
    second = server.create_session()
    bind = server.create_bind(first["id"], "udp", "203.0.113.10:5004")
    problem = assert_problem(
        server.post(f"/sessions/{second['id']}/binds", {"protocol": "udp", "address": "0.0.0.0:5004"}),
        409, "HRESULT_FROM_WIN32(WSAEADDRINUSE)", "0x80072740")
    assert problem["conflict"] == {"sessionId": first["id"], "bindId": bind["id"]}


def test_deleting_referenced_objects_is_error_busy(server):
    created = server.post("/protocols", {"name": "Custom", "primaryConnections": [
        {"protocol": "tcp", "ports": "7000", "direction": "outbound"}]}).json()
    server.allow_protocol(created["guid"])
    assert_problem(server.delete("/protocols/" + created["guid"]), 409, "HRESULT_FROM_WIN32(ERROR_BUSY)", "0x800700AA")
    session = server.create_session()
    server.create_bind(session["id"])
    server.allow_protocol(FTP)
    stored = server.post("/ip-filters", {"include": ["198.51.100.0/24"]}).json()
    assert server.retroactive(session["id"], ipFilterId=stored["id"]).json()["hresult"] == "S_OK"
    assert_problem(server.delete("/ip-filters/" + stored["id"]), 409, "HRESULT_FROM_WIN32(ERROR_BUSY)")


def test_if_match_mismatch_is_412(server):
    etag = server.get("/rules").headers["ETag"]
    body = {"name": "x", "action": "allow", "protocols": "any", "users": ["All Users"]}
    assert server.post("/rules", body, headers={"If-Match": etag}).status_code == 201
    assert_problem(server.post("/rules", body, headers={"If-Match": etag}), 412,
                   "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)", "0x8007051A")


def test_body_over_the_limit_is_413(start_server):
    server = start_server(store="memory", config={"limits": {"maxBodyBytes": 2048}})
    big = '{"clientAddress": "10.0.0.1", "clientMachineName": "' + "x" * 4096 + '"}'
    response = server.post("/sessions", raw=big, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "E_INVALIDARG")


def test_quota_is_429_with_retry_after(start_server):
    server = start_server(store="memory", config={"limits": {"maxPendingBindsPerSession": 2, "maxSessions": 3}})
    session = server.create_session()
    server.create_bind(session["id"], address="203.0.113.10:1001")
    server.create_bind(session["id"], address="203.0.113.10:1002")
    response = server.post(f"/sessions/{session['id']}/binds", {"protocol": "tcp", "address": "203.0.113.10:1003"})
    assert_problem(response, 429, "FWX_E_IS_BUSY", "0xC0040011")
    assert int(response.headers["Retry-After"]) >= 1
    assert server.get(f"/sessions/{session['id']}").json()["bindCount"] == 2
    server.create_session()
    server.create_session()
    assert_problem(server.post("/sessions", {"clientAddress": "10.0.0.9"}), 429, "FWX_E_IS_BUSY")


def test_wrong_method_is_405_with_allow(server):
    response = server.request("PATCH", "/sessions")
    assert_problem(response, 405, "HRESULT_FROM_WIN32(ERROR_INVALID_FUNCTION)")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_body_without_json_content_type_is_415(server):
    response = server.post("/sessions", raw='{"clientAddress": "10.0.0.1"}', headers={"Content-Type": "text/plain"})
    assert_problem(response, 415, "E_INVALIDARG")


def test_requests_during_shutdown_get_503_and_in_flight_ones_finish(start_server, tmp_path):
    server = start_server(data=tmp_path / "data")
    host, port = server.base_url.removeprefix("http://").split(":")
    body = b'{"clientAddress": "10.9.9.9", "id": "in-flight"}'
    slow = socket.create_connection((host, int(port)))
    slow.sendall(b"POST /sessions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.3)
    server.process.send_signal(15)
    time.sleep(0.5)
    assert server.process.poll() is None, "the server must wait for the in-flight request"
    assert_problem(server.get("/healthz"), 503, "FWX_E_TERMINATING", "0xC0040001")
    slow.sendall(body[10:])
    answer = slow.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 201"), answer
    slow.close()
    assert server.process.wait(20) == 0
    restarted = start_server(data=tmp_path / "data")
    assert restarted.get("/sessions/in-flight").status_code == 200


def test_the_example_configuration_starts_and_bad_keys_stop_the_start(start_server, tmp_path):
    import json
    import subprocess
    from conftest import REPO, binary
    example = json.loads((REPO / "deploy" / "fwsessiond.example.json").read_text())
    server = start_server(store="memory", config=example)
    assert server.get("/healthz").status_code == 200
    for bad, named in [({"limits": {"maxBind": 5}}, "limits.maxBind"), ({"timers": {"pendingTimeoutSeconds": 0}},
                       "timers.pendingTimeoutSeconds"), ({"listen": "localhost:80"}, "listen"), ({"colour": 1}, "colour")]:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        result = subprocess.run([binary(), "serve", "--store", "memory", "--config", str(path)],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0 and named in result.stderr, (bad, result.stderr)
