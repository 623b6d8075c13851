"""An array of three fwsessiond nodes on one real PostgreSQL (a throwaway cluster per test):
failover after kill -9 under load, fencing of a paused owner, policy propagation (also after the
notification connection was killed), PostgreSQL crash-restarts under load, the If-Match race and
the address race across nodes. Timings are printed (pytest -s shows them) and bounded by asserts."""
import concurrent.futures
import json
import signal
import statistics
import threading
import time

import pytest
import requests

from conftest import FTP, Server, assert_problem, wait_until
from pgproxy import LossyProxy
from postgres import postgres  # noqa: F401 (fixture)
from test_events import EventReader

LEASE = 3.0
TIMEOUT = 10


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Array:
    """Nodes of one array; every node is killed at the end of the test."""

    def __init__(self, url):
        self.url = url
        self.nodes = {}

    def start(self, name, url=None, **env):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        node = Server(["--listen", f"127.0.0.1:{port}", "--store", "postgres", "--postgres-url", url or self.url,
                       "--node-id", name, "--advertise-url", base, "--log-level", "info"]).start()
        node.name = name
        self.nodes[name] = node
        return node

    def stop_all(self):
        for node in self.nodes.values():
            if node.process and node.process.poll() not in (None, 0):
                print(f"\nnode {node.name} exited with {node.process.returncode}:\n" + "\n".join(node.log_lines[-400:]))
            if node.process and node.process.poll() is None:
                try:
                    node.process.send_signal(signal.SIGCONT)
                except ProcessLookupError:
                    pass
            node.kill()


@pytest.fixture
def array(postgres):  # noqa: F811
    made = Array(postgres.url)
    made.postgres = postgres
    yield made
    made.stop_all()


def post(node, path, body, **kw):
    return node.http.post(node.url(path), data=json.dumps(body), headers={"Content-Type": "application/json", **kw},
                          timeout=TIMEOUT)


def allow_ftp(node):
    response = post(node, "/rules", {"name": "ftp", "action": "allow", "protocols": [FTP], "users": ["All Users"]})
    assert response.status_code == 201, response.text
    return response


class Load(threading.Thread):
    """Creates a session, a bind and its approval in a loop against one node; keeps what was acknowledged."""

    def __init__(self, node, prefix, port_base):
        super().__init__(daemon=True)
        self.node, self.prefix, self.port_base = node, prefix, port_base
        self.stop = threading.Event()
        self.sessions, self.binds, self.approvals = [], [], []
        self.errors = 0
        self.http = requests.Session()

    def call(self, path, body):
        try:
            return self.http.post(self.node.url(path), data=json.dumps(body), timeout=TIMEOUT,
                                  headers={"Content-Type": "application/json"})
        except requests.RequestException:
            self.errors += 1
            return None

    def run(self):
        k = 0
        while not self.stop.is_set():
            k += 1
            sid = f"{self.prefix}-{k}"
            address = f"203.0.{113 + self.port_base // 10000}.{k % 250 + 1}:{self.port_base + k}"
            response = self.call("/sessions", {"id": sid, "clientAddress": "10.1.2.3"})
            if response is None or response.status_code != 201:
                time.sleep(0.05)
                continue
            self.sessions.append(sid)
            response = self.call(f"/sessions/{sid}/binds", {"protocol": "tcp", "address": address})
            if response is None or response.status_code != 201:
                continue
            self.binds.append((sid, response.json()["id"], address))
            response = self.call(f"/sessions/{sid}/retroactive-binds",
                                 {"protocol": "tcp", "address": address, "protocolGuid": FTP})
            if response is not None and response.status_code == 200:
                self.approvals.append((sid, address))


def test_kill_minus_nine_under_load_every_acknowledged_write_is_served_by_a_survivor(array):
    a, b, c = array.start("a"), array.start("b"), array.start("c")
    allow_ftp(a)
    loads = [Load(a, f"k{i}", 20000 + 5000 * i) for i in range(3)]
    for load in loads:
        load.start()
    time.sleep(3)
    a.kill()
    killed = time.monotonic()
    for load in loads:
        load.stop.set()
    for load in loads:
        load.join(TIMEOUT + 5)
    sessions = [sid for load in loads for sid in load.sessions]
    binds = [bind for load in loads for bind in load.binds]
    approvals = [approval for load in loads for approval in load.approvals]
    assert len(approvals) > 20, "the load acknowledged too little to mean anything"

    survivor = requests.Session()

    def decision(node, address):
        # A survivor that does not hold the bind redirects to the one that does (307, followed): to the
        # dead node until its lease ran out, then 503 until a survivor adopted it.
        try:
            response = survivor.post(node.url("/decisions"), timeout=TIMEOUT, json={
                "protocol": "tcp", "direction": "inbound", "source": "198.51.100.7:20", "destination": address})
        except requests.ConnectionError:
            return None
        return response.json() if response.status_code == 200 else None

    first_served = None
    deadline = killed + LEASE + 2 + 5
    while time.monotonic() < deadline:
        answer = decision(b, approvals[-1][1])
        if answer and answer.get("verdict") == "accept":
            first_served = time.monotonic() - killed
            break
        time.sleep(0.05)
    assert first_served is not None, b.log[-3000:]
    wait_until(lambda: "array.adopted" in b.log + c.log, timeout=5)
    adopter, other = (b, c) if "array.adopted" in b.log else (c, b)
    # The adopter took the whole shard in one transaction: everything acknowledged is there at once.
    missing = [sid for sid in sessions if survivor.get(adopter.url(f"/sessions/{sid}"), timeout=TIMEOUT).status_code != 200]
    assert not missing, f"acknowledged sessions missing on the adopter after failover: {missing[:5]}"
    for sid, bind_id, _ in binds:
        response = survivor.get(adopter.url(f"/sessions/{sid}/binds/{bind_id}"), timeout=TIMEOUT)
        assert response.status_code == 200, (sid, bind_id, response.text)
    for sid, address in approvals:
        answer = decision(adopter, address)
        assert answer and answer["verdict"] == "accept", (sid, address, answer)
    # The other survivor reads the adopter's shard from its mirror (refreshed every 0.25 s) and
    # redirects decisions to the adopter once it knows who holds the binds.
    def other_serves_all():
        if any(survivor.get(other.url(f"/sessions/{sid}"), timeout=TIMEOUT).status_code != 200 for sid in sessions):
            return False
        return all((decision(other, address) or {}).get("verdict") == "accept" for _, address in approvals)
    wait_until(other_serves_all, timeout=max(0.5, killed + LEASE + 2 - time.monotonic()) + 2)
    all_served = time.monotonic() - killed
    assert "from=a" in adopter.log
    print(f"\nfailover: {len(sessions)} sessions, {len(binds)} binds, {len(approvals)} approvals acknowledged by a; "
          f"first adopted approval served {first_served:.2f} s after kill -9, all verified {all_served:.2f} s after")
    assert first_served <= LEASE + 2, f"adoption took {first_served:.2f} s"


def test_a_paused_owner_is_fenced_and_overwrites_nothing(array):
    a, b, c = array.start("a"), array.start("b"), array.start("c")
    allow_ftp(a)
    assert post(a, "/sessions", {"id": "paused", "clientAddress": "10.9.9.9"}).status_code == 201
    bind = post(a, "/sessions/paused/binds", {"protocol": "udp", "address": "203.0.113.50:5004"}).json()
    assert post(a, "/sessions/paused/retroactive-binds",
                {"protocol": "udp", "address": "203.0.113.50:5004", "protocolGuid": FTP}).status_code == 200

    a.process.send_signal(signal.SIGSTOP)
    stopped = time.monotonic()
    # A survivor adopts the paused node's state once its lease ran out and then serves it.
    wait_until(lambda: "array.adopted" in b.log + c.log, timeout=LEASE + 5)
    adopted_after = time.monotonic() - stopped
    adopter = b if "array.adopted" in b.log else c
    closed = adopter.delete(f"/sessions/paused/binds/{bind['id']}")
    assert closed.status_code == 200 and closed.json()["state"] == "terminating", closed.text

    a.process.send_signal(signal.SIGCONT)
    # Its next write is refused: the fence (epoch) no longer holds.
    refused = a.post("/sessions", {"id": "after-pause", "clientAddress": "10.9.9.8"})
    assert refused.status_code in (503, 307), refused.text
    if refused.status_code == 503:
        assert_problem(refused, 503, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)")
    wait_until(lambda: a.get("/readyz").status_code == 503, timeout=5)
    ready = a.get("/readyz").json()
    assert "fenced" in ready["detail"], ready
    wait_until(lambda: "array.fenced" in a.log, timeout=5)
    # What the adopter wrote stands, on every node, and in PostgreSQL.
    for node in (b, c):
        wait_until(lambda: node.get(f"/sessions/paused/binds/{bind['id']}").json()["state"] == "terminating", timeout=3)
    assert array.postgres.psql(f"SELECT state, shard FROM binds WHERE id = {bind['id'][2:]}") == f"terminating|{adopter.name}"
    assert array.postgres.psql("SELECT count(*) FROM sessions WHERE id = 'after-pause'") == "0"
    # The fenced node now serves the adopter's version (mirrored) and sends writes there.
    wait_until(lambda: a.get(f"/sessions/paused/binds/{bind['id']}").json().get("state") == "terminating", timeout=5)
    moved = a.http.delete(a.url("/sessions/paused"), allow_redirects=False, timeout=TIMEOUT)
    assert moved.status_code == 307 and moved.headers["Location"] == adopter.url("/sessions/paused"), moved.text
    assert set(moved.json()) == {"detail", "node", "location"} and moved.json()["node"] == adopter.name
    print(f"\nfencing: adopted {adopted_after:.2f} s after SIGSTOP; after SIGCONT the paused node's write got "
          f"{refused.status_code}, /readyz: {ready['detail'][:80]}")


def test_an_adoption_whose_commit_lost_its_answer_is_served_once_reconnected(array):
    """The adopter's COMMIT reaches PostgreSQL and commits, but its answer is lost (the proxy cuts
    the connection): after reconnecting, the adopter finds the rows under its shard and serves them."""
    proxy = LossyProxy(array.postgres.port)
    a = array.start("a")
    b = array.start("b", url=proxy.url())
    allow_ftp(a)
    assert post(a, "/sessions", {"id": "lost-answer", "clientAddress": "10.7.7.7"}).status_code == 201
    bind = post(a, "/sessions/lost-answer/binds", {"protocol": "udp", "address": "203.0.113.60:5060"}).json()
    assert post(a, "/sessions/lost-answer/retroactive-binds",
                {"protocol": "udp", "address": "203.0.113.60:5060", "protocolGuid": FTP}).status_code == 200
    proxy.lose_commit_answer_after(b"UPDATE sessions SET shard")
    a.kill()
    assert proxy.fired.wait(LEASE + 15), "no adoption was attempted"
    assert array.postgres.psql("SELECT shard FROM sessions WHERE id = 'lost-answer'") == "b", "the adoption did not commit"
    query = {"protocol": "udp", "direction": "inbound", "source": "198.51.100.7:20", "destination": "203.0.113.60:5060"}
    wait_until(lambda: b.get(f"/sessions/lost-answer/binds/{bind['id']}").status_code == 200
               and post(b, "/decisions", query).json().get("verdict") == "accept", timeout=10)
    assert "answer lost, found committed" in b.log
    proxy.close()


def test_policy_change_on_one_node_revokes_a_bind_on_another_within_a_second(array):
    a, b, c = array.start("a"), array.start("b"), array.start("c")
    assert post(b, "/sessions", {"id": "alice", "clientAddress": "10.1.2.3"}).status_code == 201
    assert post(b, "/sessions/alice/binds", {"protocol": "tcp", "address": "203.0.113.10:40000"}).status_code == 201
    reader = EventReader(b.url("/events?types=bind.revoked"))
    reader.start()
    reader.connected.wait(5)
    query = {"protocol": "tcp", "direction": "inbound", "source": "198.51.100.7:20", "destination": "203.0.113.10:40000"}

    def round_trip(kill_listener=False):
        rule = allow_ftp(a).json()
        wait_until(lambda: b.get("/rules").headers["ETag"] == a.get("/rules").headers["ETag"], timeout=2)
        approved = post(b, "/sessions/alice/retroactive-binds",
                        {"protocol": "tcp", "address": "203.0.113.10:40000", "protocolGuid": FTP})
        assert approved.status_code == 200, approved.text
        assert post(b, "/decisions", query).json()["verdict"] == "accept"
        seen = len(reader.events)
        if kill_listener:
            killed = array.postgres.psql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'fwsessiond-monitor-b'")
            assert killed == "1"
        started = time.monotonic()
        assert a.delete(f"/rules/{rule['id']}").status_code == 204
        wait_until(lambda: len(reader.events) > seen, timeout=2, interval=0.005)
        delay = time.monotonic() - started
        assert post(b, "/decisions", query).json()["reason"] == "bind-pending"
        return delay

    delays = [round_trip() for _ in range(15)]
    after_kill = [round_trip(kill_listener=True) for _ in range(3)]
    delays.sort()
    p50 = statistics.median(delays)
    p99 = delays[-1]
    print(f"\npolicy propagation a -> b (rule deleted to bind.revoked on b's /events): p50 {p50 * 1000:.0f} ms, "
          f"max of {len(delays)} {p99 * 1000:.0f} ms; with b's notification connection killed first: "
          f"{', '.join(f'{d * 1000:.0f} ms' for d in after_kill)}")
    assert p99 < 1.0 and max(after_kill) < 1.0
    assert "lost PostgreSQL" in b.log


def test_postgres_immediate_restart_twenty_times_under_load_loses_nothing_and_hangs_nothing(array):
    nodes = [array.start(name) for name in ("a", "b", "c")]
    allow_ftp(nodes[0])
    loads = [Load(node, f"r{i}", 30000 + 3000 * i) for i, node in enumerate(nodes)]
    for load in loads:
        load.start()
    cycles = []
    for _ in range(20):
        time.sleep(0.6)
        started = time.monotonic()
        array.postgres.stop("immediate")
        time.sleep(0.1)
        array.postgres.start()
        cycles.append(time.monotonic() - started)
    time.sleep(1)
    for load in loads:
        load.stop.set()
    for load in loads:
        load.join(TIMEOUT + 5)
        assert not load.is_alive(), "a writer hung"
    for node in nodes:
        wait_until(lambda: node.get("/readyz").status_code == 200, timeout=15)
        assert node.process.poll() is None
    acknowledged = [sid for load in loads for sid in load.sessions]
    approvals = [approval for load in loads for approval in load.approvals]
    assert len(acknowledged) > 30
    stored = set(array.postgres.psql("SELECT id FROM sessions").split())
    missing = [sid for sid in acknowledged if sid not in stored]
    assert not missing, f"acknowledged but not in PostgreSQL: {missing[:10]}"
    allowed = set(array.postgres.psql("SELECT address FROM binds WHERE state = 'allowed'").split())
    lost = [approval for approval in approvals if approval[1] not in allowed]
    assert not lost, f"acknowledged approvals not in PostgreSQL: {lost[:10]}"
    # A restart of PostgreSQL is not a reason to adopt anything.
    assert not any("array.adopted" in node.log for node in nodes)
    fresh = nodes[1].post("/sessions", {"id": "after-restarts", "clientAddress": "10.1.1.1"})
    assert fresh.status_code == 201, fresh.text
    print(f"\ncrash-restarts: 20 immediate stops and restarts ({min(cycles):.2f}-{max(cycles):.2f} s each), "
          f"{len(acknowledged)} sessions and {len(approvals)} approvals acknowledged, 0 missing, "
          f"{sum(load.errors for load in loads)} client timeouts or resets, no node hung, no adoption")


def hold_shards_locked(postgres, seconds, sql=""):
    """Starts a psql session that runs `sql` and keeps the shards table locked (ACCESS EXCLUSIVE:
    every read and write of it waits) for `seconds`, then commits; returns once the lock is held."""
    import os
    import subprocess
    locker = subprocess.Popen(
        [os.path.join(postgres.bin, "psql"), "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-d", "postgres",
         "-Atqc", f"BEGIN; LOCK TABLE shards IN ACCESS EXCLUSIVE MODE; {sql} SELECT pg_sleep({seconds}); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: postgres.psql(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'shards' AND l.mode = 'AccessExclusiveLock' AND l.granted") == "1", timeout=10)
    return locker


def test_a_policy_write_of_a_node_whose_shard_was_adopted_is_refused(array):
    """A policy change is fenced like every other write. The shard is retired (as an adoption does)
    while the shards table stays locked, so the node cannot have noticed when its request runs."""
    a = array.start("a")
    locker = hold_shards_locked(array.postgres, 2, "UPDATE shards SET holder = NULL, epoch = epoch + 1, adopted_by = 'z', "
                                                   "adopted_at = clock_timestamp(), lease_expires_at = NULL WHERE id = 'a';")
    response = post(a, "/rules", {"name": "late", "action": "allow", "protocols": [FTP], "users": ["All Users"]})
    assert locker.wait(15) == 0, locker.stderr.read()
    assert array.postgres.psql("SELECT count(*) FROM rules") == "0", "the retired node committed a policy change"
    assert_problem(response, 503, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)")
    assert "fenced" in response.json()["detail"], response.text
    wait_until(lambda: "array.fenced" in a.log, timeout=5)


def test_a_store_connection_whose_first_fence_failed_keeps_working(array):
    """The first fws_fence on a fresh store connection fails without breaking the connection (it
    waits for the shards table past lock_timeout): the statement stays prepared, later batches work."""
    a = array.start("a")
    assert post(a, "/sessions", {"id": "before", "clientAddress": "10.3.3.3"}).status_code == 201
    # Held for longer than a reconnect plus lock_timeout (a lease), so a fence on the fresh
    # connection times out while it is held.
    locker = hold_shards_locked(array.postgres, 2 * LEASE + 1)
    killed = array.postgres.psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'fwsessiond-store-a'")
    assert killed == "1"
    assert locker.wait(15) == 0, locker.stderr.read()
    wait_until(lambda: post(a, "/sessions", {"id": "after", "clientAddress": "10.3.3.4"}).status_code in (201, 409), timeout=10)
    wait_until(lambda: array.postgres.psql("SELECT count(*) FROM sessions WHERE id = 'after'") == "1", timeout=10)
    assert "42P05" not in a.log


def test_if_match_race_across_nodes_has_exactly_one_winner(array):
    nodes = [array.start(name) for name in ("a", "b", "c")]
    etag = nodes[0].get("/rules").headers["ETag"]
    body = {"name": "race", "action": "allow", "protocols": [FTP], "users": ["All Users"]}

    def attempt(i):
        node = nodes[i % 3]
        return post(node, "/rules", {**body, "name": f"race-{i}"}, **{"If-Match": etag}).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(attempt, range(50)))
    assert statuses.count(201) == 1, statuses
    assert statuses.count(412) == 49, statuses
    rules = [rule for rule in nodes[2].get("/rules").json()["items"] if not rule["isDefault"]]
    assert len(rules) == 1
    print(f"\nIf-Match race: 50 writes with ETag {etag} across 3 nodes: {statuses.count(201)} x 201, "
          f"{statuses.count(412)} x 412")


def test_two_nodes_racing_for_one_address_get_one_201_and_one_409(array):
    a, b, c = array.start("a"), array.start("b"), array.start("c")
    assert post(a, "/sessions", {"id": "on-a", "clientAddress": "10.0.0.1"}).status_code == 201
    assert post(b, "/sessions", {"id": "on-b", "clientAddress": "10.0.0.2"}).status_code == 201
    results = []
    ids = set()
    for k in range(20):
        address = f"203.0.113.77:{41000 + k}" if k % 2 else f"0.0.0.0:{41000 + k}"

        def bind(node, sid, address=address):
            return post(node, f"/sessions/{sid}/binds", {"protocol": "udp", "address": address})

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.map(lambda args: bind(*args), [(a, "on-a"), (b, "on-b")])
        statuses = sorted([first.status_code, second.status_code])
        results.append(statuses)
        assert statuses == [201, 409], (first.text, second.text)
        loser = first if first.status_code == 409 else second
        problem = assert_problem(loser, 409, "HRESULT_FROM_WIN32(WSAEADDRINUSE)")
        assert problem["conflict"]["sessionId"] in ("on-a", "on-b")
        ids.add((first if first.status_code == 201 else second).json()["id"])
    # A wildcard bind on a port conflicts with an address on it held by another node, and back.
    assert post(a, "/sessions/on-a/binds", {"protocol": "tcp", "address": "203.0.113.9:42000"}).status_code == 201
    assert post(c, "/sessions", {"id": "on-c", "clientAddress": "10.0.0.3"}).status_code == 201
    assert_problem(post(c, "/sessions/on-c/binds", {"protocol": "tcp", "address": "0.0.0.0:42000"}),
                   409, "HRESULT_FROM_WIN32(WSAEADDRINUSE)")
    # A session id is unique across the array too.
    assert_problem(post(c, "/sessions", {"id": "on-a", "clientAddress": "10.0.0.3"}), 409, "FWX_E_ALREADY_EXISTS")
    assert len(ids) == 20
    print(f"\naddress race: 20 races between two nodes (exact and wildcard addresses): 20 x [201, 409]")


def test_an_approval_lifetime_is_mirrored_and_its_adopter_expires_it_on_time(array):
    import datetime
    a, b = array.start("a"), array.start("b")
    allow_ftp(a)
    assert post(a, "/sessions", {"id": "life", "clientAddress": "10.1.2.3"}).status_code == 201
    bind = post(a, "/sessions/life/binds", {"protocol": "tcp", "address": "203.0.113.10:40000"}).json()
    answer = post(a, "/sessions/life/retroactive-binds", {
        "protocol": "tcp", "address": "203.0.113.10:40000", "protocolGuid": FTP, "lifetimeSeconds": 9})
    expires_at = answer.json()["binds"][0]["expiresAt"]
    deadline = datetime.datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
    path = f"/sessions/life/binds/{bind['id']}"
    wait_until(lambda: b.get(path).json().get("expiresAt") == expires_at, timeout=TIMEOUT)
    a.kill()
    wait_until(lambda: b.get(path).status_code == 404, timeout=30)
    assert time.time() >= deadline - 0.1, "the adopter expired the approval before its stored end"
    assert time.time() < deadline + 5, "the adopter did not expire the approval at its stored end"


def test_nodes_of_different_schema_versions_refuse_to_run_together(array, tmp_path):
    a = array.start("a")
    array.postgres.psql("INSERT INTO schema_migrations (name) VALUES ('9999_from_the_future')")
    import subprocess
    from conftest import binary
    result = subprocess.run([binary(), "serve", "--listen", "127.0.0.1:0", "--store", "postgres", "--postgres-url",
                             array.postgres.url, "--node-id", "z", "--advertise-url", "http://127.0.0.1:1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "9999_from_the_future" in result.stderr and "newer fwsessiond" in result.stderr, result.stderr
    assert a.get("/readyz").status_code == 200


def test_the_example_array_configurations_are_accepted(tmp_path):
    """deploy/array/gw-*.json parse and name a complete array node (checked without connecting)."""
    import pathlib
    import subprocess
    from conftest import binary
    for path in sorted((pathlib.Path(__file__).resolve().parents[2] / "deploy" / "array").glob("gw-*.json")):
        config = json.loads(path.read_text())
        config["listen"] = "127.0.0.1:0"
        config["postgres"]["url"] = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
        local = tmp_path / path.name
        local.write_text(json.dumps(config))
        result = subprocess.run([binary(), "serve", "--config", str(local)], capture_output=True, text=True, timeout=30)
        # The configuration is accepted; the start stops only at the unreachable PostgreSQL.
        assert result.returncode != 0 and "cannot connect to PostgreSQL" in result.stderr, (path.name, result.stderr)
