"""Approvals and sessions that end by themselves: a lifetime given in RetroactiveAllowBind and
clamped by the configuration, renewal by calling again (S_FALSE with the new expiry), idle timeouts
from the decision counters, idle sessions, `bind.expired` / `session.expired` events, and the
deadlines kept across a restart. (With the data plane, idle timeouts read the kernel's counters:
test_dataplane.py.)"""
import datetime
import time

from conftest import FTP, assert_problem, wait_until
from test_events import subscribe


def seconds(timestamp):
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def pending_bind(server, session="s1", address="203.0.113.10:40000"):
    server.create_session(id=session)
    return server.create_bind(session, "tcp", address)


def test_an_approval_with_a_lifetime_expires_is_renewed_and_goes_through_the_change_path(start_server):
    server = start_server(store="memory")
    server.allow_protocol(FTP)
    bind = pending_bind(server)
    events = subscribe(server, "?types=bind.expired")

    first = server.retroactive("s1", lifetimeSeconds=2)
    assert first.status_code == 200 and first.json()["hresult"] == "S_OK", first.text
    allowed = first.json()["binds"][0]
    assert abs(seconds(allowed["expiresAt"]) - seconds(allowed["allowedAt"]) - 2) < 0.01

    time.sleep(1)
    renewed = server.retroactive("s1", lifetimeSeconds=3)
    assert renewed.status_code == 200 and renewed.json()["hresult"] == "S_FALSE"
    renewed_bind = renewed.json()["binds"][0]
    assert seconds(renewed_bind["expiresAt"]) > seconds(allowed["expiresAt"]) + 1.5, "the renewal moved the expiry"
    renewed_at = time.monotonic()
    assert server.get(f"/sessions/s1/binds/{bind['id']}").json()["expiresAt"] == renewed_bind["expiresAt"]

    time.sleep(1.5)  # past the first expiry, not the renewed one
    assert server.get(f"/sessions/s1/binds/{bind['id']}").json()["state"] == "allowed"
    assert server.decide("tcp", "inbound", "198.51.100.7:20", "203.0.113.10:40000")["reason"] == "allowed"

    wait_until(lambda: server.get(f"/sessions/s1/binds/{bind['id']}").status_code == 404, timeout=10)
    assert time.monotonic() - renewed_at >= 2.5
    assert server.decide("tcp", "inbound", "198.51.100.7:20", "203.0.113.10:40000")["reason"] == "no-bind"
    wait_until(lambda: events.types() == ["bind.expired"], timeout=5)
    assert server.get("/sessions/s1").json()["bindCount"] == 0
    assert 'fwsessiond_events_total{type="bind.expired"} 1' in server.get("/metrics").text


def test_lifetimes_are_clamped_by_the_configuration(start_server):
    server = start_server(store="memory", config={"timers": {
        "minApprovalLifetimeSeconds": 30, "maxApprovalLifetimeSeconds": 60}})
    server.allow_protocol(FTP)
    pending_bind(server)
    short = server.retroactive("s1", lifetimeSeconds=5).json()["binds"][0]
    assert seconds(short["expiresAt"]) - seconds(short["allowedAt"]) == 30
    long = server.retroactive("s1", lifetimeSeconds=3600).json()["binds"][0]
    assert 59 < seconds(long["expiresAt"]) - time.time() <= 60
    unasked = server.retroactive("s1").json()
    assert unasked["hresult"] == "S_FALSE"
    assert 59 < seconds(unasked["binds"][0]["expiresAt"]) - time.time() <= 60, "the maximum bounds every approval"


def test_by_default_approvals_do_not_end_and_calling_again_changes_nothing(server):
    server.allow_protocol(FTP)
    pending_bind(server)
    allowed = server.retroactive("s1").json()["binds"][0]
    assert allowed["expiresAt"] is None
    again = server.retroactive("s1").json()
    assert again["hresult"] == "S_FALSE" and again["binds"][0] == allowed | {"counters": again["binds"][0]["counters"]}
    assert server.get("/sessions/s1").json()["expiresAt"] is None


def test_a_bad_lifetime_is_400_naming_the_field(server):
    server.allow_protocol(FTP)
    pending_bind(server)
    for bad in (0, -1, 1.5, "60", 31536001):
        assert_problem(server.retroactive("s1", lifetimeSeconds=bad), 400, "E_INVALIDARG", field="lifetimeSeconds")


def test_an_idle_approval_expires_and_accepted_traffic_keeps_it(start_server):
    server = start_server(store="memory", config={"timers": {"approvalIdleTimeoutSeconds": 2}})
    server.allow_protocol(FTP)
    bind = pending_bind(server)
    allowed = server.retroactive("s1", ipFilter={"include": ["198.51.100.7"]}).json()["binds"][0]
    assert abs(seconds(allowed["expiresAt"]) - seconds(allowed["allowedAt"]) - 2) < 0.01
    started = time.monotonic()
    while time.monotonic() - started < 4:
        assert server.decide("tcp", "inbound", "198.51.100.7:20", "203.0.113.10:40000")["verdict"] == "accept"
        time.sleep(0.4)
    answer = server.get(f"/sessions/s1/binds/{bind['id']}").json()
    assert answer["state"] == "allowed" and seconds(answer["expiresAt"]) > time.time() + 1, "traffic moves the deadline"
    # Discarded traffic (a peer the filter refuses) is no activity.
    stopped = time.monotonic()
    while server.get(f"/sessions/s1/binds/{bind['id']}").status_code == 200:
        assert time.monotonic() - stopped < 10, "the idle approval did not expire"
        server.decide("tcp", "inbound", "192.0.2.66:20", "203.0.113.10:40000")
        time.sleep(0.2)
    assert time.monotonic() - stopped >= 1.0


def test_an_idle_session_expires_and_ends_like_a_deleted_one(start_server):
    server = start_server(store="memory", config={"timers": {"sessionIdleTimeoutSeconds": 2, "gracePeriodSeconds": 30}})
    events = subscribe(server, "?sessionId=s1")
    session = server.create_session(id="s1")
    assert abs(seconds(session["expiresAt"]) - seconds(session["createdAt"]) - 2) < 0.01
    time.sleep(1)
    bind = server.create_bind("s1", "tcp", "203.0.113.10:40000")
    moved = server.get("/sessions/s1").json()["expiresAt"]
    assert seconds(moved) > seconds(session["expiresAt"]) + 0.5, "a new bind is activity"
    wait_until(lambda: server.get("/sessions/s1").json()["state"] == "terminating", timeout=10)
    assert server.get(f"/sessions/s1/binds/{bind['id']}").json()["state"] == "terminating"
    wait_until(lambda: "session.expired" in events.types(), timeout=5)
    assert events.types() == ["session.created", "bind.created", "session.expired", "bind.terminating"]
    assert server.get("/sessions/s1").json()["expiresAt"] is None


def test_deadlines_survive_a_restart(start_server, tmp_path):
    data = tmp_path / "data"
    config = {"timers": {"maxApprovalLifetimeSeconds": 3600}}
    server = start_server(data=data, config=config)
    server.allow_protocol(FTP)
    bind = pending_bind(server)
    allowed = server.retroactive("s1", lifetimeSeconds=4).json()["binds"][0]
    assert server.stop() == 0
    restarted = start_server(data=data, config=config)
    again = restarted.get(f"/sessions/s1/binds/{bind['id']}").json()
    assert again["state"] == "allowed" and again["expiresAt"] == allowed["expiresAt"]
    wait_until(lambda: restarted.get(f"/sessions/s1/binds/{bind['id']}").status_code == 404, timeout=10)
    assert time.time() >= seconds(allowed["expiresAt"]) - 0.1
