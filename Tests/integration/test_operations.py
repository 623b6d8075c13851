"""Running it: several listen addresses, SIGHUP reloads (tokens, log settings; TLS files are in
test_tls.py) without dropping `/events` streams, build and process metrics, the access log and
`X-Request-Id`, "permission denied" with the path, disconnected `/events` clients noticed at
once, `/` sending browsers to `/ui`, and 414/431 as problem+json."""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import REPO, assert_problem, binary, wait_until
from test_events import subscribe


def token(role, name):
    lines = subprocess.run([binary(), "token", "create", "--role", role, "--name", name],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return lines[0], json.loads(lines[1])


def json_lines(server):
    return [json.loads(line) for line in server.log_lines if line.startswith("{")]


# --------------------------------------------------------------------------- listening

def test_several_listen_addresses_serve_the_same_state(start_server):
    server = start_server("--listen", "[::1]:0", store="memory")
    urls = wait_until(lambda: [found for found in [re.findall(r"fwsessiond listening on (http://\S+)", server.log)]
                               if len(found) == 2], timeout=10)[0]
    assert len(urls) == 2 and urls[0].startswith("http://127.0.0.1:") and urls[1].startswith("http://[::1]:"), urls
    assert requests.post(urls[1] + "/sessions", json={"id": "v6", "clientAddress": "10.1.2.3"}, timeout=10).status_code == 201
    assert requests.get(urls[0] + "/sessions/v6", timeout=10).status_code == 200


def test_the_configuration_file_takes_several_listen_addresses(start_server):
    server = start_server(store="memory", config={"listen": ["127.0.0.1:0", "[::1]:0"]})
    # The flag (the fixture's --listen 127.0.0.1:0) wins over the file, so only one here ...
    assert len(re.findall(r"fwsessiond listening on ", server.log)) == 1
    # ... and without the flag the file's two addresses are used.
    path = pathlib.Path(server.args[server.args.index("--config") + 1])
    process = subprocess.Popen([binary(), "serve", "--store", "memory", "--config", str(path)],
                               stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 20
        while len([line for line in lines if "fwsessiond listening on" in line]) < 2 and time.monotonic() < deadline:
            lines.append(process.stderr.readline())
        urls = re.findall(r"fwsessiond listening on (http://\S+)", "".join(lines))
        assert len(urls) == 2, lines
        for url in urls:
            assert requests.get(url + "/healthz", timeout=10).status_code == 200
    finally:
        process.kill()
        process.wait()
    bad = subprocess.run([binary(), "serve", "--listen", "127.0.0.1:0,localhost:80", "--store", "memory"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "--listen must be HOST:PORT" in bad.stderr


# --------------------------------------------------------------------------- reload

def test_sighup_reloads_tokens_and_log_settings_and_keeps_event_streams(start_server, tmp_path):
    first, first_entry = token("admin", "first")
    second, second_entry = token("admin", "second")
    server = start_server(store="memory", config={"tokens": [first_entry]})
    config = pathlib.Path(server.args[server.args.index("--config") + 1])
    stream = subscribe(server, headers={"Authorization": "Bearer " + first})
    assert stream.status == 200

    config.write_text(json.dumps({"tokens": [second_entry], "logFormat": "json"}))
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "configuration reloaded" in server.log, timeout=10)
    assert server.get("/sessions", headers={"Authorization": "Bearer " + first}).status_code == 401
    created = server.post("/sessions", {"id": "after-reload", "clientAddress": "10.1.2.3"},
                          headers={"Authorization": "Bearer " + second})
    assert created.status_code == 201
    wait_until(lambda: "session.created" in stream.types(), timeout=10)
    assert not stream.ended.is_set(), "the reload dropped an /events stream"
    wait_until(lambda: any(line.get("log") == "access" and line.get("token") == "second" for line in json_lines(server)),
               timeout=10)

    # A bad file keeps every running setting, and says why.
    config.write_text('{"tokens": [')
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in server.log, timeout=10)
    assert server.get("/sessions", headers={"Authorization": "Bearer " + second}).status_code == 200
    assert server.process.poll() is None


# --------------------------------------------------------------------------- metrics

def test_metrics_carry_build_info_and_process_metrics(server):
    text = server.get("/metrics").text
    changelog = (REPO / "deploy" / "debian" / "changelog").read_text().split("\n", 1)[0]
    version = re.search(r"\(([^)]+)\)", changelog).group(1)
    build = re.search(r'^fwsessiond_build_info\{([^}]*)\} 1(\.0)?$', text, re.M)
    assert build, text[:2000]
    assert f'version="{version}"' in build.group(1) and 'libmicrohttpd="' in build.group(1) and 'sqlite="' in build.group(1)
    values = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(process_\w+) (\S+)$", text, re.M)}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
            "process_start_time_seconds", "process_open_fds", "process_max_fds"} <= set(values), values
    assert values["process_resident_memory_bytes"] > 1_000_000 and 0 < values["process_open_fds"] < values["process_max_fds"]
    assert abs(values["process_start_time_seconds"] - time.time()) < 600
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (make deps does)")
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


# --------------------------------------------------------------------------- access log

def test_answers_carry_a_request_id_and_the_access_log_names_token_client_and_id(start_server):
    viewer, viewer_entry = token("viewer", "dashboard")
    server = start_server("--log-format", "json", store="memory", config={"tokens": [viewer_entry]})
    auth = {"Authorization": "Bearer " + viewer}
    denied = server.post("/sessions", {"clientAddress": "10.1.2.3"}, headers=auth)
    assert_problem(denied, 403, "E_ACCESSDENIED")
    ours = denied.headers["X-Request-Id"]
    assert ours
    theirs = server.get("/sessions", headers={**auth, "X-Request-Id": "helper-7f3a.42"})
    assert theirs.headers["X-Request-Id"] == "helper-7f3a.42", "a client's request id is kept"
    odd = server.get("/sessions", headers={**auth, "X-Request-Id": "no spaces please"})
    assert odd.headers["X-Request-Id"] not in ("", "no spaces please")
    wait_until(lambda: len([r for r in json_lines(server) if r.get("log") == "access"]) >= 3, timeout=10)
    access = {r["request.id"]: r for r in json_lines(server) if r.get("log") == "access"}
    assert access[ours]["http.status"] == "403" and access[ours]["token"] == "dashboard", access[ours]
    assert access[ours]["client.address"].startswith("127.0.0.1:")
    assert access["helper-7f3a.42"]["token"] == "dashboard"


def test_root_sends_browsers_to_the_status_page(server):
    answer = server.http.get(server.url("/"), allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"] == "/ui"
    assert server.get("/").text.lstrip().lower().startswith("<!doctype html>")


def raw_request(server, head: bytes) -> bytes:
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head)
        data = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                header, _, body = data.partition(b"\r\n\r\n")
                length = re.search(rb"Content-Length: (\d+)", header, re.I)
                if length and len(body) >= int(length.group(1)):
                    break
        return data


def test_a_long_request_target_is_414_and_large_headers_431_as_problem_json(server):
    for head, status in ((b"GET /sessions/" + b"a" * 6000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
                         (b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 10000 + b"\r\n\r\n", 431)):
        answer = raw_request(server, head)
        header, _, body = answer.partition(b"\r\n\r\n")
        assert header.startswith(b"HTTP/1.1 %d" % status), header
        assert b"application/problem+json" in header
        problem = json.loads(body)
        assert problem["status"] == status and problem["hresult"] == "E_INVALIDARG" and "limit" in problem["detail"]
    assert server.get("/healthz").status_code == 200


# --------------------------------------------------------------------------- events

def test_a_disconnected_events_client_is_noticed_at_once(start_server):
    server = start_server(store="memory", config={"events": {"heartbeatSeconds": 25}})
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    gauge = lambda: re.search(r"^fwsessiond_event_subscribers (\S+)$", server.get("/metrics").text, re.M).group(1)
    client = socket.create_connection((host, int(port)))
    client.sendall(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    client.recv(4096)  # the stream has started
    wait_until(lambda: float(gauge()) == 1, timeout=5)
    client.close()
    started = time.monotonic()
    wait_until(lambda: float(gauge()) == 0, timeout=20)
    assert time.monotonic() - started < 3, "the closed stream was noticed only after %.1f s" % (time.monotonic() - started)


# --------------------------------------------------------------------------- permissions

def unprivileged():
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the server as nobody")
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def test_a_data_folder_the_server_may_not_write_says_permission_denied_with_the_path():
    import tempfile
    prefix = unprivileged()
    # Outside pytest's own temporary folder, which only root may enter.
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="fwsessiond-permissions-"))
    try:
        check_permission_messages(prefix, tmp_path)
    finally:
        shutil.rmtree(tmp_path)


def check_permission_messages(prefix, tmp_path):
    tmp_path.chmod(0o755)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "fwsessiond.sqlite3").write_bytes(b"")
    run = subprocess.run([*prefix, binary(), "serve", "--listen", "127.0.0.1:0", "--data", str(data)],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    assert "permission denied" in run.stderr.lower() and str(data) in run.stderr, run.stderr
    inner = tmp_path / "locked" / "data"
    (tmp_path / "locked").mkdir(mode=0o700)
    run = subprocess.run([*prefix, binary(), "serve", "--listen", "127.0.0.1:0", "--data", str(inner)],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode != 0
    assert "permission denied" in run.stderr.lower() and str(tmp_path / "locked") in run.stderr, run.stderr


# --------------------------------------------------------------------------- who holds an address

def test_who_holds_an_address_across_sessions(server):
    for session in ("ftp", "voip", "other"):
        server.create_session(id=session)
    specific = server.create_bind("ftp", "tcp", "203.0.113.10:21")
    wildcard = server.create_bind("voip", "udp", "0.0.0.0:21")
    elsewhere = server.create_bind("other", "tcp", "203.0.113.11:21")
    server.create_bind("other", "tcp", "203.0.113.10:2121")
    ids = lambda query: [b["id"] for b in server.get("/binds?" + query).json()["items"]]
    assert ids("address=203.0.113.10:21") == [specific["id"], wildcard["id"]], "the exact bind and the wildcard on its port"
    assert ids("address=203.0.113.10:21&protocol=tcp") == [specific["id"]]
    assert ids("address=0.0.0.0:21&protocol=tcp") == [specific["id"], elsewhere["id"]], "a wildcard address: every bind on the port"
    assert ids("address=%5B%3A%3A%5D%3A21") == [], "IPv6 is another family"
    assert ids("address=198.51.100.1:21&protocol=udp") == [wildcard["id"]]
    first = server.get("/binds?address=0.0.0.0:21&limit=1").json()
    assert [b["id"] for b in first["items"]] == [specific["id"]] and first["nextCursor"]
    rest = server.get(f"/binds?address=0.0.0.0:21&limit=1&cursor={first['nextCursor']}").json()
    assert [b["id"] for b in rest["items"]] == [wildcard["id"]]
    assert_problem(server.get("/binds?protocol=tcp"), 400, "E_INVALIDARG", field="address")
