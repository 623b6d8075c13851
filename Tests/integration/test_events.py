"""GET /events: Server-Sent Events with resume, filters, heartbeats and dropping slow subscribers."""
import socket
import threading
import time

import requests

from conftest import FTP, wait_until


class EventReader(threading.Thread):
    """Reads an SSE stream into a list of (id, event, data) and comments."""

    def __init__(self, url, headers=None):
        super().__init__(daemon=True)
        self.url = url
        self.headers = headers or {}
        self.events = []
        self.comments = 0
        self.connected = threading.Event()
        self.ended = threading.Event()

    def run(self):
        try:
            with requests.get(self.url, headers=self.headers, stream=True, timeout=30) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("Content-Type")
                self.connected.set()
                current = {}
                for line in response.iter_lines(decode_unicode=True):
                    if line == "":
                        if "event" in current:
                            self.events.append((current.get("id"), current["event"], current.get("data")))
                        current = {}
                    elif line.startswith(":"):
                        self.comments += 1
                    else:
                        key, _, value = line.partition(": ")
                        current[key] = value
        except requests.RequestException:
            pass
        finally:
            self.connected.set()
            self.ended.set()

    def types(self):
        return [event for _, event, _ in self.events]


def subscribe(server, query="", headers=None):
    reader = EventReader(server.url("/events" + query), headers)
    reader.start()
    reader.connected.wait(10)
    time.sleep(0.2)
    return reader


def test_every_state_change_is_an_event_in_order(server):
    reader = subscribe(server)
    assert reader.status == 200 and reader.content_type == "text/event-stream"
    session = server.create_session(id="s1")
    bind = server.create_bind("s1", "tcp", "203.0.113.10:40000")
    server.allow_protocol(FTP)
    server.retroactive("s1")
    server.delete(f"/sessions/s1/binds/{bind['id']}")
    server.delete("/sessions/s1")
    expected = ["session.created", "bind.created", "policy.changed", "bind.allowed", "bind.terminating",
                "session.terminating"]
    wait_until(lambda: reader.types() == expected, timeout=10)
    ids = [int(i) for i, _, _ in reader.events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "ids increase monotonically"
    import json
    allowed = json.loads(reader.events[3][2])
    assert allowed["bind"]["state"] == "allowed" and allowed["sessionId"] == "s1" and allowed["type"] == "bind.allowed"


def test_filters_by_session_and_type(server):
    only_s2 = subscribe(server, "?sessionId=s2")
    only_binds = subscribe(server, "?types=bind.created,bind.allowed")
    server.create_session(id="s1")
    server.create_session(id="s2")
    server.create_bind("s1", "udp", "203.0.113.10:1")
    server.create_bind("s2", "udp", "203.0.113.10:2")
    wait_until(lambda: len(only_binds.events) == 2 and len(only_s2.events) == 2, timeout=10)
    assert only_s2.types() == ["session.created", "bind.created"]
    assert only_binds.types() == ["bind.created", "bind.created"]
    bad = server.get("/events?types=bind.created,bind.exploded")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "types"


def test_last_event_id_resumes_and_too_old_gets_reset(start_server):
    server = start_server(store="memory", config={"events": {"ringBufferSize": 5}})
    reader = subscribe(server)
    for i in range(3):
        server.create_session(id=f"s{i}")
    wait_until(lambda: len(reader.events) == 3, timeout=10)
    first_id = reader.events[0][0]
    resumed = subscribe(server, headers={"Last-Event-ID": first_id})
    wait_until(lambda: len(resumed.events) == 2, timeout=10)
    assert [e[0] for e in resumed.events] == [e[0] for e in reader.events[1:]], "exactly the events after the id"
    for i in range(3, 10):
        server.create_session(id=f"s{i}")
    wait_until(lambda: len(reader.events) == 10, timeout=10)
    too_old = subscribe(server, headers={"Last-Event-ID": first_id})
    server.create_session(id="after-reset")
    wait_until(lambda: len(too_old.events) == 2, timeout=10)
    assert too_old.types() == ["reset", "session.created"]
    in_range = subscribe(server, f"?lastEventId={reader.events[6][0]}")
    wait_until(lambda: len(in_range.events) == 4, timeout=10)
    assert in_range.events[0][0] == reader.events[7][0]


def test_heartbeats_keep_idle_streams_alive(start_server):
    server = start_server(store="memory", config={"events": {"heartbeatSeconds": 1}})
    reader = subscribe(server)
    wait_until(lambda: reader.comments >= 2, timeout=10)


def test_a_slow_subscriber_is_dropped_and_never_slows_the_api(start_server):
    server = start_server(store="memory", config={"events": {"subscriberBufferBytes": 16384}})
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect((host, int(port)))
    slow.sendall(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    time.sleep(0.3)
    started = time.monotonic()
    groups = [f"group-{g}-" + "x" * 240 for g in range(40)]
    for i in range(600):  # about 6 MB of events: more than the kernel's socket buffers hold
        server.create_session(id=f"flood-{i}", user={"name": "u", "groups": groups})
    elapsed = time.monotonic() - started
    assert elapsed < 30, "writes were held up by a subscriber that does not read"
    data = b""
    slow.settimeout(5)
    while True:
        try:
            chunk = slow.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    slow.close()
    assert b"event: dropped" in data, "the slow subscriber is told it was dropped"
    assert data.count(b"event: session.created") < 600
    wait_until(lambda: 'fwsessiond_event_subscribers 0' in server.get("/metrics").text, timeout=20)


def test_shutdown_ends_streams_and_the_server_exits(start_server, tmp_path):
    server = start_server(data=tmp_path / "data")
    reader = subscribe(server)
    server.create_session(id="x")
    wait_until(lambda: len(reader.events) == 1, timeout=10)
    assert server.stop() == 0
    reader.ended.wait(10)
    assert reader.types()[-1] == "shutdown"
