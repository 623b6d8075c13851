"""Fixtures that run the real fwsessiond binary on an ephemeral loopback port.

Every test talks HTTP to a real server process (no mocks): `server` starts one with an
in-memory store, `start_server` starts any number with chosen options (SQLite data folders,
configuration files) and stops them at the end of the test.
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
FTP = "477d0251-8a01-4895-9727-ba1370e17366"
SIP = "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21"
H323 = "389ce06c-a0e6-499a-8dc2-84761633c2ad"


def binary() -> str:
    path = os.environ.get("FWSESSIOND_BIN", str(REPO / ".build" / "debug" / "fwsessiond"))
    if not os.path.exists(path):
        pytest.fail(f"fwsessiond binary not found at {path}; build it (make build) or set FWSESSIOND_BIN")
    return path


class Server:
    """One fwsessiond process and an HTTP client for it."""

    LISTENING = re.compile(r"listening on (https?://[0-9A-Za-z.:\[\]]+)")

    def __init__(self, args, env=None, command=None):
        self.args = args
        self.env = env
        self.command = command  # what runs `serve` (a sandbox launcher, say); the binary itself by default
        self.process = None
        self.base_url = None
        self.log_lines = []
        self.http = requests.Session()

    def started(self):
        """Called once the server logged its address (a subclass may set up how to reach it)."""

    def start(self, timeout=30.0):
        self.log_lines = []
        self.process = subprocess.Popen(
            [*(self.command or [binary(), "serve"]), *self.args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=self.env)
        found = threading.Event()

        def pump():
            for line in self.process.stderr:
                self.log_lines.append(line.rstrip("\n"))
                match = self.LISTENING.search(line)
                if match and not found.is_set():
                    self.base_url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(timeout) or self.base_url is None:
            self.kill()
            raise RuntimeError("fwsessiond did not start:\n" + "\n".join(self.log_lines))
        self.http = requests.Session()
        self.started()
        return self

    @property
    def log(self) -> str:
        return "\n".join(self.log_lines)

    def url(self, path: str) -> str:
        return self.base_url + path

    def request(self, method, path, body=None, headers=None, raw=None):
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        # verify is passed per request: requests lets REQUESTS_CA_BUNDLE override a session's verify.
        return self.http.request(method, self.url(path), data=data, headers=h, timeout=30, verify=self.http.verify)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def kill(self):
        return self.stop(signal.SIGKILL)

    # Domain shortcuts used by many tests.

    def create_session(self, **fields):
        body = {"clientAddress": "10.1.2.3", **fields}
        response = self.post("/sessions", body)
        assert response.status_code == 201, response.text
        return response.json()

    def create_bind(self, session_id, protocol="tcp", address="203.0.113.10:40000"):
        response = self.post(f"/sessions/{session_id}/binds", {"protocol": protocol, "address": address})
        assert response.status_code == 201, response.text
        return response.json()

    def allow_protocol(self, guid, users=("All Users",), **fields):
        body = {"name": f"allow {guid[:8]}", "action": "allow", "protocols": [guid], "users": list(users), **fields}
        response = self.post("/rules", body)
        assert response.status_code == 201, response.text
        return response.json()

    def retroactive(self, session_id, protocol="tcp", address="203.0.113.10:40000", guid=FTP, **fields):
        body = {"protocol": protocol, "address": address, "protocolGuid": guid, **fields}
        return self.post(f"/sessions/{session_id}/retroactive-binds", body)

    def decide(self, protocol, direction, source, destination):
        response = self.post("/decisions", {
            "protocol": protocol, "direction": direction, "source": source, "destination": destination})
        assert response.status_code == 200, response.text
        return response.json()


def assert_problem(response, status, hresult, code=None, field=None):
    """The response is problem+json with this status and HRESULT (and field error, if given)."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    problem = response.json()
    assert problem["status"] == status
    assert problem["hresult"] == hresult, problem
    assert re.fullmatch(r"0x[0-9A-F]{8}", problem["code"]), problem
    if code is not None:
        assert problem["code"] == code, problem
    assert problem["type"] == "urn:fwsessiond:hresult:" + hresult
    assert problem["title"] and problem["detail"] and problem["instance"].startswith("/")
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem


@pytest.fixture
def start_server(tmp_path):
    """Starts servers with given arguments; all are stopped when the test ends."""
    started = []

    def start(*args, config=None, data=None, store=None, env=None, verify=None, cert=None):
        argv = ["--listen", "127.0.0.1:0", *args]
        if store == "memory":
            argv += ["--store", "memory"]
        elif data is not None:
            argv += ["--data", str(data)]
        if config is not None:
            path = tmp_path / f"config-{len(started)}.json"
            path.write_text(json.dumps(config))
            argv += ["--config", str(path)]
        server = Server(argv, env=None if env is None else {**os.environ, **env}).start()
        if verify is not None:
            server.http.verify = verify
        if cert is not None:
            server.http.cert = cert
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def server(start_server):
    """A server with an in-memory store."""
    return start_server(store="memory")


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %.1fs" % timeout)
