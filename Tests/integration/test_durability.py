"""A 2xx answer means the change is on disk: restarts, timers across restarts, and kill -9."""
import signal
import threading
import time

import pytest
import requests

from conftest import FTP, SIP, wait_until


def snapshot(server):
    """Everything the API shows, minus the approximate counters."""
    sessions = server.get("/sessions?limit=1000").json()["items"]
    binds = {}
    for session in sessions:
        for bind in server.get(f"/sessions/{session['id']}/binds?limit=1000").json()["items"]:
            bind.pop("counters")
            binds[bind["id"]] = bind
    rules = server.get("/rules")
    return {
        "sessions": sessions, "binds": binds, "rules": rules.json(), "etag": rules.headers["ETag"],
        "protocols": server.get("/protocols").json(), "filters": server.get("/ip-filters").json(),
    }


def test_everything_survives_a_restart(start_server, tmp_path):
    data = tmp_path / "data"
    server = start_server(data=data)
    alice = server.create_session(id="alice-1", clientMachineName="WS-17",
                                  user={"name": "CONTOSO\\alice", "groups": ["CONTOSO\\FTP Users", "Ünïcode"]})
    bob = server.create_session(clientAddress="2001:db8::7", clientType="securenat")
    server.allow_protocol(FTP)
    server.allow_protocol(SIP, users=["All Authenticated Users"], sourceAddresses=["10.0.0.0/8", "2001:db8::/32"])
    custom = server.post("/protocols", {"name": "Game", "primaryConnections": [
        {"protocol": "udp", "ports": "27000-27015", "direction": "send-receive"},
        {"protocol": "tcp", "ports": "27015", "direction": "outbound"}]}).json()
    stored = server.post("/ip-filters", {"include": ["198.51.100.0/24", "2001:db8:1::/48"], "exclude": ["198.51.100.13"]}).json()
    server.create_bind(alice["id"], "tcp", "203.0.113.10:40000")
    server.create_bind(alice["id"], "udp", "203.0.113.10:5004")
    server.create_bind(alice["id"], "udp", "[::]:5006")
    server.create_bind(bob["id"], "tcp", "203.0.113.10:40001")
    closing = server.create_bind(bob["id"], "udp", "203.0.113.10:7000")
    assert server.retroactive(alice["id"], "tcp", "203.0.113.10:40000", ipFilter={"include": ["198.51.100.7"]}).ok
    assert server.retroactive(alice["id"], "udp", "203.0.113.10:5004", SIP,
                              flags=["bidirectional", "increase-receive-buffer"], ipFilterId=stored["id"]).ok
    assert server.retroactive(alice["id"], "udp", "[2001:db8::1]:5006", SIP, flags=["bidirectional"]).ok
    server.delete(f"/sessions/{bob['id']}/binds/{closing['id']}")
    ended = server.create_session(id="ended")
    server.delete("/sessions/ended")
    before = snapshot(server)
    assert server.stop() == 0, server.log

    restarted = start_server(data=data)
    after = snapshot(restarted)
    assert after == before
    assert restarted.decide("udp", "inbound", "198.51.100.9:1", "203.0.113.10:5004")["reason"] == "allowed"
    assert restarted.decide("udp", "inbound", "198.51.100.13:1", "203.0.113.10:5004")["reason"] == "ip-filter"
    new = restarted.create_session()
    assert new["id"] not in {s["id"] for s in before["sessions"]}, "generated ids are never reused"
    bind = restarted.create_bind(new["id"], "tcp", "203.0.113.11:1")
    assert bind["id"] not in before["binds"]


def test_timers_continue_across_a_restart(start_server, tmp_path):
    config = {"timers": {"pendingTimeoutSeconds": 3, "gracePeriodSeconds": 3}}
    data = tmp_path / "data"
    server = start_server(data=data, config=config)
    session = server.create_session(id="s")
    pending = server.create_bind("s", "tcp", "203.0.113.10:1000")
    ending = server.create_session(id="ending")
    server.delete("/sessions/ending")
    created = time.monotonic()
    server.kill()
    restarted = start_server(data=data, config=config)
    assert time.monotonic() - created < 2.5, "the restart itself took too long for this test"
    assert restarted.get(f"/sessions/s/binds/{pending['id']}").status_code == 200
    assert restarted.get("/sessions/ending").json()["state"] == "terminating"
    wait_until(lambda: restarted.get(f"/sessions/s/binds/{pending['id']}").status_code == 404, timeout=10)
    wait_until(lambda: restarted.get("/sessions/ending").status_code == 404, timeout=10)
    # Deadlines count from when the objects changed state, not from the restart.
    assert time.monotonic() - created < 3 + 3, "expiry waited for a full timeout after the restart"
    assert restarted.get("/sessions/s").status_code == 200


class Writer(threading.Thread):
    """Creates a session, a bind and approves it, over and over, remembering what was acknowledged."""

    def __init__(self, base_url, index):
        super().__init__(daemon=True)
        self.base_url = base_url
        self.index = index
        self.sessions = set()
        self.binds = {}
        self.allowed = set()
        self.stop = False

    def run(self):
        http = requests.Session()
        n = 0
        while not self.stop:
            n += 1
            sid = f"w{self.index}-{n}"
            port = 1 + (self.index * 5000 + n) % 65535
            try:
                r = http.post(self.base_url + "/sessions", json={"id": sid, "clientAddress": "10.0.0.1"}, timeout=5)
                if r.status_code != 201:
                    continue
                self.sessions.add(sid)
                r = http.post(f"{self.base_url}/sessions/{sid}/binds", timeout=5,
                              json={"protocol": "udp", "address": f"203.0.{self.index}.1:{port}"})
                if r.status_code != 201:
                    continue
                self.binds[r.json()["id"]] = sid
                r = http.post(f"{self.base_url}/sessions/{sid}/retroactive-binds", timeout=5, json={
                    "protocol": "udp", "address": f"203.0.{self.index}.1:{port}", "protocolGuid": FTP})
                if r.status_code == 200 and r.json()["hresult"] == "S_OK":
                    self.allowed.add(r.json()["binds"][0]["id"])
            except requests.RequestException:
                return


@pytest.mark.parametrize("kill_after", [0.4, 1.1, 2.3])
def test_kill_9_during_a_write_burst_loses_nothing_acknowledged(start_server, tmp_path, kill_after):
    data = tmp_path / "data"
    server = start_server(data=data)
    server.allow_protocol(FTP)
    writers = [Writer(server.base_url, i) for i in range(8)]
    for writer in writers:
        writer.start()
    time.sleep(kill_after)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    for writer in writers:
        writer.stop = True
        writer.join(10)

    restarted = start_server(data=data)
    acknowledged = {"sessions": 0, "binds": 0, "allowed": 0}
    for writer in writers:
        for sid in writer.sessions:
            assert restarted.get(f"/sessions/{sid}").status_code == 200, f"lost session {sid}"
        for bind_id, sid in writer.binds.items():
            response = restarted.get(f"/sessions/{sid}/binds/{bind_id}")
            assert response.status_code == 200, f"lost bind {bind_id}"
            if bind_id in writer.allowed:
                assert response.json()["state"] == "allowed", f"lost approval of {bind_id}"
        acknowledged["sessions"] += len(writer.sessions)
        acknowledged["binds"] += len(writer.binds)
        acknowledged["allowed"] += len(writer.allowed)
    print(f"kill -9 after {kill_after}s: acknowledged {acknowledged}, all present after restart")
    assert acknowledged["sessions"] > 0, "the burst did not get going before the kill"
