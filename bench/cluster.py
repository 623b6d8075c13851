"""The cluster group of `make bench` (`bench/run --groups cluster`): durable writes on PostgreSQL
(one array node) against SQLite in the same run, the failover time (kill -9 of a node to the first
successful read of an adopted session on a survivor) and the policy propagation delay (a rule
change answered on one node to `policy.changed` on another node's /events). PostgreSQL is a
throwaway cluster made like the tests' (Tests/integration/postgres.py)."""
import http.client
import json
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "integration"))
from postgres import PostgresCluster  # noqa: E402


def run_cluster_group(bench, runner, config, pending_binds=30_000):
    """Returns (rows for the throughput table, lines for the cluster section)."""
    cluster = PostgresCluster().start()
    results, lines = [], []
    # Only this group's servers are stopped at its end: the C baseline keeps running for the rest.
    already_running = set(bench.Process.running)
    try:
        for store in ("sqlite", "postgres"):
            results += durable_rows(bench, runner, config, store, cluster, pending_binds)
        # Each on a PostgreSQL of its own: survivors adopt every shard whose lease ran out, also
        # those of the nodes the scenarios above stopped, which would be measured along.
        failovers, delays = [], []
        for k in range(3):
            own = PostgresCluster().start()
            try:
                failovers.append(failover_once(bench, config, own, k))
            finally:
                own.destroy()
        own = PostgresCluster().start()
        try:
            delays = propagation(bench, config, own, changes=50)
        finally:
            own.destroy()
        delays.sort()
        p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
        lines = [
            f"- failover (kill -9 of the node holding a session to the first 200 of `GET /sessions/ID/binds/BID` "
            f"answered by the adopting survivor itself, lease 3 s, 3 runs): "
            + ", ".join(f"{seconds:.2f} s" for seconds in failovers),
            f"- policy propagation (`POST /rules` answered on node a to `policy.changed` on node b's /events, "
            f"{len(delays)} changes): p50 {statistics.median(delays) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {delays[-1] * 1000:.1f} ms",
        ]
    finally:
        for process in [p for p in bench.Process.running if p not in already_running]:
            process.stop()
        cluster.destroy()
    return results, lines


def start_node(bench, name, config, cluster, node_id):
    port = bench.free_port()
    argv = [bench.SERVER_BIN, "serve", "--listen", f"127.0.0.1:{port}", "--config", config, "--log-level", "notice",
            "--store", "postgres", "--postgres-url", cluster.url, "--node-id", node_id,
            "--advertise-url", f"http://127.0.0.1:{port}"]
    return bench.Process(name, argv, port, bench.WORK / f"{name}.log")


def start(bench, name, config, store, cluster, node_id="bench-a"):
    if store == "postgres":
        return start_node(bench, name, config, cluster, node_id)
    return bench.start_fwsessiond(name, "sqlite", bench.fresh(name), config)


def durable_rows(bench, runner, config, store, cluster, pending_binds):
    rows = []
    server = start(bench, f"cluster-{store}-sessions", config, store, cluster, f"s-{store}")
    try:
        server.wait_http()
        bench.log(f"cluster: session create on {store}")
        result = runner.scenario(server.port, "session_create.lua", [f"w{store[0]}"], [f"r{store[0]}"], server=server)
        result.update(name="session create (durable)", store=store, kind="durable")
        rows.append(result)
    finally:
        server.stop()
    server = start(bench, f"cluster-{store}-binds", config, store, cluster, f"b-{store}")
    try:
        server.wait_http()
        sessions = 100
        bench.parallel(server.port, [
            (lambda index: lambda client: client.call(
                "POST", "/sessions", {"id": f"c{store[0]}{index}", "clientAddress": f"10.8.{index // 256}.{index % 256 + 1}"},
                expect=201))(index) for index in range(sessions)])
        bench.log(f"cluster: bind create on {store}")
        offset = 0 if store == "sqlite" else 5_000_000
        result = runner.scenario(server.port, "bind_create.lua", [f"c{store[0]}", sessions, offset],
                                 [f"c{store[0]}", sessions, offset + 2_000_000], server=server)
        result.update(name="bind create (durable, unique addresses)", store=store, kind="durable")
        rows.append(result)
    finally:
        server.stop()
    server = start(bench, f"cluster-{store}-approvals", config, store, cluster, f"p-{store}")
    try:
        server.wait_http()
        per_session = 1000
        prefix = f"q{store[0]}"
        bench.log(f"cluster: seeding {pending_binds:,} pending binds through the API on {store}")
        started = time.monotonic()
        bench.parallel(server.port, [
            (lambda index: lambda client: client.call(
                "POST", "/sessions", {"id": f"{prefix}{index}", "clientAddress": "10.9.0.1"}, expect=201))(index)
            for index in range(pending_binds // per_session)])
        bench.parallel(server.port, [
            (lambda k: lambda client: client.call(
                "POST", f"/sessions/{prefix}{k // per_session}/binds", {"protocol": "tcp", "address": bench.bind_address(k)},
                expect=201))(k) for k in range(pending_binds)])
        seeded = time.monotonic() - started
        client = bench.Client(server.port)
        client.call("POST", "/rules", {"name": "ftp", "action": "allow", "protocols": [bench.FTP_GUID],
                                       "users": ["All Users"]}, expect=201)
        client.close()
        bench.log(f"cluster: first approvals on {store}")
        slack = 4 * runner.options.connections + 1000
        result = runner.scenario(server.port, "approve.lua", [prefix, per_session, 0],
                                 lambda warm: [prefix, per_session, int(warm["requests"] + slack)], server=server)
        used = result["warmup_requests"] + slack + result["requests"]
        result.update(name="RetroactiveAllowBind first approvals (S_OK, durable)", store=store, kind="durable",
                      note=f"{pending_binds:,} pending binds created through the API in {seeded:.0f} s; {used:,.0f} used"
                           + (" -- RAN OUT" if used > pending_binds else ""))
        rows.append(result)
    finally:
        server.stop()
    return rows


def failover_once(bench, config, cluster, k):
    a = start_node(bench, f"cluster-failover-{k}-a", config, cluster, f"f{k}-a")
    b = start_node(bench, f"cluster-failover-{k}-b", config, cluster, f"f{k}-b")
    a.wait_http()
    b.wait_http()
    client = bench.Client(a.port)
    client.call("POST", "/sessions", {"id": f"failover-{k}", "clientAddress": "10.7.0.1"}, expect=201)
    _, bind = client.call("POST", f"/sessions/failover-{k}/binds", {"protocol": "udp", "address": f"203.0.113.{k + 1}:6000"},
                          expect=201)
    client.close()
    time.sleep(1)
    a.popen.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    path = f"/sessions/failover-{k}/binds/{bind['id']}"
    while time.monotonic() - killed < 20:
        # Served by b itself: its reads answer from the mirror before adoption too, so ask for a
        # write it would redirect while another node holds the session (a DELETE of a missing bind
        # id on the adopted session: 404 from the holder, 307 from anyone else).
        try:
            connection = http.client.HTTPConnection("127.0.0.1", b.port, timeout=5)
            connection.request("DELETE", f"/sessions/failover-{k}/binds/b-1")
            status = connection.getresponse().status
            connection.close()
        except OSError:
            status = 0
        if status == 404:
            connection = http.client.HTTPConnection("127.0.0.1", b.port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                elapsed = time.monotonic() - killed
                connection.close()
                b.stop()
                return elapsed
        time.sleep(0.01)
    b.stop()
    raise RuntimeError("no adoption within 20 s")


def propagation(bench, config, cluster, changes):
    a = start_node(bench, "cluster-policy-a", config, cluster, "pol-a")
    b = start_node(bench, "cluster-policy-b", config, cluster, "pol-b")
    a.wait_http()
    b.wait_http()
    seen = []
    ready = threading.Event()

    def listen():
        connection = http.client.HTTPConnection("127.0.0.1", b.port, timeout=60)
        connection.request("GET", "/events?types=policy.changed")
        response = connection.getresponse()
        ready.set()
        while len(seen) < changes:
            line = response.fp.readline()
            if not line:
                break
            if line.startswith(b"event: policy.changed"):
                seen.append(time.monotonic())

    threading.Thread(target=listen, daemon=True).start()
    ready.wait(10)
    time.sleep(0.3)
    client = bench.Client(a.port)
    delays = []
    for k in range(changes):
        before = len(seen)
        client.call("POST", "/rules", {"name": f"p{k}", "action": "deny", "protocols": [bench.FTP_GUID],
                                       "users": [f"user{k}"]}, expect=201)
        answered = time.monotonic()
        deadline = answered + 5
        while len(seen) == before and time.monotonic() < deadline:
            time.sleep(0.0005)
        if len(seen) > before:
            delays.append(max(0.0, seen[before] - answered))
        time.sleep(0.05)
    client.close()
    a.stop()
    b.stop()
    return delays
