"""The nftables data plane with real packets: fwsessiond in a gateway namespace programs the
kernel, peers in another namespace send TCP and UDP, listeners in the gateway say what arrived.

The gateway has a host ruleset with a drop policy that lets through what fwsessiond's table
marked (the coexistence the README documents), so a packet fwsessiond does not accept is not
delivered, whether its table dropped it or left it alone.
"""
import json
import subprocess
import threading
import time

import pytest

from conftest import FTP, SIP, assert_problem, binary, wait_until
from netns import topology  # noqa: F401  (fixture)

GW = "10.77.0.1"
GW2 = "10.77.0.2"
PEER = "10.77.0.100"
OTHER = "10.77.0.101"


def delivered(topology, protocol="udp", settle=0.3):
    """(peer address, local port) of what reached the gateway's listeners since the last call."""
    return {(item[3], item[2]) for item in topology.gw.received(settle) if item[0] in (protocol, "tcp-accept")}


def udp_from(topology, peer, destination, port, data="x"):
    topology.pe.udp_send((peer, 40000 + hash(peer) % 1000), (destination, port), data)


def approve(server, session, protocol, address, guid=FTP, **fields):
    response = server.retroactive(session, protocol, address, guid, **fields)
    assert response.status_code == 200 and response.json()["hresult"] == "S_OK", response.text
    return response.json()["binds"][0]


def test_pending_drops_approval_opens_only_to_the_filter(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="ftp")
    bind = server.create_bind("ftp", "udp", f"{GW}:5000")
    topology.gw.listen("udp", GW, 5000)

    udp_from(topology, PEER, GW, 5000)
    assert delivered(topology) == set(), "a packet to a pending bind reached its listener"

    approve(server, "ftp", "udp", f"{GW}:5000", ipFilter={"include": [PEER]})
    udp_from(topology, PEER, GW, 5000)
    udp_from(topology, OTHER, GW, 5000)
    assert delivered(topology) == {(PEER, 5000)}, "only the filter's peer gets through"

    counters = server.get(f"/sessions/ftp/binds/{bind['id']}").json()["counters"]
    assert counters == {"accepted": 1, "discarded": 2}, "the bind's counters are the kernel's"


def test_tcp_connections_follow_the_bind(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="ftp")
    server.create_bind("ftp", "tcp", f"{GW}:2121")
    topology.gw.listen("tcp", GW, 2121)
    pair = ((PEER, 0), (GW, 2121))

    assert topology.pe.tcp_connect([pair], timeout=0.5) == [None], "a SYN to a pending bind was answered"
    approve(server, "ftp", "tcp", f"{GW}:2121", ipFilter={"include": [PEER]})
    [connection] = topology.pe.tcp_connect([pair], timeout=2)
    assert connection is not None, "the approved peer could not connect"
    assert topology.pe.tcp_connect([((OTHER, 0), (GW, 2121))], timeout=0.5) == [None]
    topology.pe.tcp_send(connection, "before")
    assert any(item[0] == "tcp" and item[5] == "before" for item in topology.gw.received(0.3))

    # A revocation stops the open connection too: every packet is checked, not only new ones.
    rule = server.get("/rules").json()["items"][0]
    assert server.delete(f"/rules/{rule['id']}").status_code == 204
    topology.pe.tcp_send(connection, "after")
    assert not any(item[0] == "tcp" and item[5] == "after" for item in topology.gw.received(1.0)), \
        "data on an established connection passed after the revocation"


def test_stored_filter_changes_take_effect(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="s")
    server.create_bind("s", "udp", f"{GW}:5001")
    topology.gw.listen("udp", GW, 5001)
    stored = server.post("/ip-filters", {"include": [PEER]}).json()
    approve(server, "s", "udp", f"{GW}:5001", ipFilterId=stored["id"])
    udp_from(topology, PEER, GW, 5001)
    udp_from(topology, OTHER, GW, 5001)
    assert delivered(topology) == {(PEER, 5001)}

    assert server.post(f"/ip-filters/{stored['id']}/include-range", {"range": "10.77.0.101-10.77.0.110"}).status_code == 200
    assert server.post(f"/ip-filters/{stored['id']}/exclude-range", {"range": PEER}).status_code == 200
    udp_from(topology, PEER, GW, 5001)
    udp_from(topology, OTHER, GW, 5001)
    assert delivered(topology) == {(OTHER, 5001)}, "the stored filter's change did not reach the kernel"

    # SetIpFilter: an empty inline filter accepts nobody; null lifts the restriction.
    bind_id = server.get("/sessions/s/binds").json()["items"][0]["id"]
    assert server.put(f"/sessions/s/binds/{bind_id}/ip-filter", {"ipFilter": {"include": []}}).status_code == 200
    udp_from(topology, OTHER, GW, 5001)
    assert delivered(topology) == set()
    assert server.put(f"/sessions/s/binds/{bind_id}/ip-filter", {"ipFilter": None}).status_code == 200
    udp_from(topology, PEER, GW, 5001)
    udp_from(topology, OTHER, GW, 5001)
    assert delivered(topology) == {(PEER, 5001), (OTHER, 5001)}


def test_deleted_and_expired_binds_stop_accepting(topology):
    server = topology.start_server(config={"timers": {"pendingTimeoutSeconds": 2, "gracePeriodSeconds": 2}})
    server.allow_protocol(FTP)
    server.create_session(id="s")
    bind = server.create_bind("s", "tcp", f"{GW}:2122")
    topology.gw.listen("tcp", GW, 2122)
    approve(server, "s", "tcp", f"{GW}:2122")
    [connection] = topology.pe.tcp_connect([((PEER, 0), (GW, 2122))], timeout=2)
    assert connection is not None
    assert server.delete(f"/sessions/s/binds/{bind['id']}").status_code == 200
    topology.pe.tcp_send(connection, "while-terminating")
    assert not any(item[5] == "while-terminating" for item in topology.gw.received(1.0)), \
        "a terminating bind still accepted an established connection"
    wait_until(lambda: server.get(f"/sessions/s/binds/{bind['id']}").status_code == 404, timeout=10)
    assert topology.set_elements("bound4") == [], "the purged bind left elements behind"
    assert topology.pe.tcp_connect([((PEER, 0), (GW, 2122))], timeout=0.5) == [None], \
        "after removal the host's ruleset decides, and it does not accept unmarked packets"

    # A pending bind that expires leaves the table too.
    server.create_bind("s", "udp", f"{GW}:5002")
    assert len(topology.set_elements("bound4")) == 1
    wait_until(lambda: topology.set_elements("bound4") == [], timeout=10)


def test_bidirectional_replies_go_only_to_recent_peers_the_filter_allows(topology):
    server = topology.start_server()
    server.allow_protocol(SIP)
    server.create_session(id="sip")
    server.create_bind("sip", "udp", f"{GW}:5060")
    server.create_bind("sip", "udp", f"{GW}:5062")
    topology.gw.listen("udp", GW, 5060)
    topology.gw.listen("udp", GW, 5062)
    topology.pe.listen("udp", PEER, 7000)
    topology.pe.listen("udp", OTHER, 7000)
    approve(server, "sip", "udp", f"{GW}:5060", SIP, flags=["bidirectional"],
            ipFilter={"include": ["10.77.0.100-10.77.0.101"]})
    approve(server, "sip", "udp", f"{GW}:5062", SIP)

    assert topology.gw.udp_send((GW, 5060), (PEER, 7000))["errno"] == "EPERM", "a send to a peer that never sent"
    topology.pe.udp_send((PEER, 7000), (GW, 5060))
    assert delivered(topology) == {(PEER, 5060)}
    assert topology.gw.udp_send((GW, 5060), (PEER, 7000)) == {"sent": True}
    assert topology.gw.udp_send((GW, 5060), (OTHER, 7000))["errno"] == "EPERM", "OTHER never sent"
    assert topology.gw.udp_send((GW, 5060), (PEER, 7001))["errno"] == "EPERM", "the peer's port counts too"
    assert [(item[1], item[5]) for item in topology.pe.received(0.3)] == [(PEER, "x")]

    # Not bidirectional: no reply at all, even to a peer that sent.
    topology.pe.udp_send((PEER, 7000), (GW, 5062))
    assert delivered(topology) == {(PEER, 5062)}
    assert topology.gw.udp_send((GW, 5062), (PEER, 7000))["errno"] == "EPERM"

    # The filter still decides replies: narrowed to OTHER, the recent PEER gets none.
    bind_id = [b for b in server.get("/sessions/sip/binds").json()["items"] if b["address"].endswith(":5060")][0]["id"]
    assert server.put(f"/sessions/sip/binds/{bind_id}/ip-filter", {"ipFilter": {"include": [OTHER]}}).status_code == 200
    assert topology.gw.udp_send((GW, 5060), (PEER, 7000))["errno"] == "EPERM"


def test_ipv6_and_wildcard_binds(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="s")
    server.create_bind("s", "udp", "[::]:6000")
    server.create_bind("s", "tcp", "0.0.0.0:6001")
    server.create_bind("s", "tcp", "[fd77::1]:6002")
    topology.gw.listen("udp", "::", 6000)
    topology.gw.listen("tcp", "0.0.0.0", 6001)
    topology.gw.listen("tcp", "fd77::1", 6002)
    peer6 = "fd77::100"
    for address in ("fd77::1", "fd77::2"):
        topology.pe.udp_send((peer6, 7000), (address, 6000))
    assert delivered(topology) == set()
    approve(server, "s", "udp", "[::]:6000")
    approve(server, "s", "tcp", "0.0.0.0:6001", ipFilter={"include": [PEER]})
    approve(server, "s", "tcp", "[fd77::1]:6002", ipFilter={"include": ["fd77::100/127"]})
    for address in ("fd77::1", "fd77::2"):
        topology.pe.udp_send((peer6, 7000), (address, 6000))
    assert delivered(topology) == {(peer6, 6000)} and len(topology.gw.received(0)) == 0
    connected = topology.pe.tcp_connect([
        ((PEER, 0), (GW, 6001)), ((PEER, 0), (GW2, 6001)), ((OTHER, 0), (GW, 6001)),
        ((peer6, 0), ("fd77::1", 6002)), (("fd77::102", 0), ("fd77::1", 6002)),
    ], timeout=1)
    assert [c is not None for c in connected] == [True, True, False, True, False]


def pending_and_approved(server, topology):
    """Bind udp GW:5100 pending and GW:5101 approved for every peer, each with a listener."""
    server.allow_protocol(FTP)
    server.create_session(id="s")
    server.create_bind("s", "udp", f"{GW}:5100")
    server.create_bind("s", "udp", f"{GW}:5101")
    approve(server, "s", "udp", f"{GW}:5101")
    topology.gw.listen("udp", GW, 5100)
    topology.gw.listen("udp", GW, 5101)


def kernel_view(topology):
    """What the gateway delivers now: (pending bind, approved bind from PEER)."""
    udp_from(topology, PEER, GW, 5100)
    udp_from(topology, PEER, GW, 5101)
    got = delivered(topology)
    return (PEER, 5100) in got, (PEER, 5101) in got


def test_the_table_outlives_restarts_and_kill_9(topology, tmp_path):
    data = tmp_path / "data"
    server = topology.start_server(data=data)
    pending_and_approved(server, topology)
    assert kernel_view(topology) == (False, True)

    assert server.stop() == 0, server.log
    assert kernel_view(topology) == (False, True), "a clean stop must keep the table (approved flows survive an upgrade)"
    server = topology.start_server(data=data)
    assert kernel_view(topology) == (False, True)

    server.kill()
    assert kernel_view(topology) == (False, True), "after kill -9 pending binds must stay blocked and approvals open"
    server = topology.start_server(data=data)
    assert kernel_view(topology) == (False, True)
    approve(server, "s", "udp", f"{GW}:5100")
    assert kernel_view(topology) == (True, True)

    # dataplane.onShutdown = remove: the table goes with a clean stop; the host's ruleset decides.
    server.stop()
    server = topology.start_server(data=data, config={"dataplane": {"kind": "nftables", "onShutdown": "remove"}})
    assert server.stop() == 0
    assert topology.table() is None
    assert topology.table("host") is not None, "another table was touched"


def test_a_table_deleted_or_flushed_by_hand_is_repaired(topology):
    server = topology.start_server()
    pending_and_approved(server, topology)
    for damage in (lambda: ["flush", "table", "inet", "fwsessiond"], lambda: ["delete", "table", "inet", "fwsessiond"],
                   lambda: ["flush", "set", "inet", "fwsessiond", topology.in_use("open4")],
                   lambda: ["flush", "chain", "inet", "fwsessiond", topology.in_use("in4")],
                   lambda: ["flush", "chain", "inet", "fwsessiond", "input"]):
        damage = damage()
        topology.nft(*damage)
        started = time.monotonic()
        wait_until(lambda: kernel_view(topology) == (False, True), timeout=10)
        print(f"{' '.join(damage)}: repaired within {time.monotonic() - started:.1f} s")
    metrics = server.get("/metrics").text
    assert "fwsessiond_dataplane_repairs_total 5" in metrics, metrics
    assert "dataplane.repair" in server.log


def test_a_transaction_the_kernel_refuses_is_503_until_fwsessiond_makes_the_kernel_match(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="s")
    bind = server.create_bind("s", "udp", f"{GW}:5100")
    approve(server, "s", "udp", f"{GW}:5100")
    topology.gw.listen("udp", GW, 5100)
    # Taken out by hand, so the next transaction (which deletes it) fails as a whole.
    topology.nft("delete", "element", "inet", "fwsessiond", topology.in_use("open4"), "{ 10.77.0.1 . udp . 5100 }")
    closed = server.delete(f"/sessions/s/binds/{bind['id']}")
    assert_problem(closed, 503, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)")
    assert "kernel's firewall table" in closed.json()["detail"]
    # The failed batch is retried after a second: until then /readyz names the data plane.
    not_ready = server.get("/readyz")
    assert_problem(not_ready, 503, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)")
    assert "kernel's firewall table" in not_ready.json()["detail"]
    # fwsessiond retries (loading the whole table again) until the kernel holds its state.
    wait_until(lambda: server.get("/readyz").status_code == 200, timeout=10)
    assert server.get(f"/sessions/s/binds/{bind['id']}").json()["state"] == "terminating"
    udp_from(topology, PEER, GW, 5100)
    assert delivered(topology) == set(), "the terminating bind still accepts"
    assert 'fwsessiond_sink_failures_total{sink="dataplane"} 1' in server.get("/metrics").text
    assert "pipeline.apply failed" in server.log


def test_without_cap_net_admin_the_start_fails_saying_so(topology, tmp_path):
    shown = subprocess.run(
        ["ip", "netns", "exec", topology.gateway, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         "--inh-caps=-all", "--bounding-set=-all", binary(), "serve", "--store", "memory", "--dataplane", "nftables",
         "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert shown.returncode != 0
    assert "CAP_NET_ADMIN" in shown.stderr, shown.stderr
    assert topology.table() is None


def test_counters_and_metrics_come_from_the_kernel(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="s")
    bind = server.create_bind("s", "udp", f"{GW}:5100")
    topology.gw.listen("udp", GW, 5100)
    for _ in range(3):
        udp_from(topology, PEER, GW, 5100)
    approve(server, "s", "udp", f"{GW}:5100", ipFilter={"include": [PEER]})
    for _ in range(2):
        udp_from(topology, PEER, GW, 5100)
    udp_from(topology, OTHER, GW, 5100)
    assert len(delivered(topology)) == 1
    # /decisions only answer with a data plane: they do not add to the kernel's counts.
    server.decide("udp", "inbound", f"{PEER}:1", f"{GW}:5100")
    expected = {"accepted": 2, "discarded": 4}
    assert server.get(f"/sessions/s/binds/{bind['id']}").json()["counters"] == expected
    assert server.get("/sessions/s/binds").json()["items"][0]["counters"] == expected
    metrics = server.get("/metrics").text
    assert 'fwsessiond_dataplane_packets_total{verdict="accept"} 2' in metrics
    assert 'fwsessiond_dataplane_packets_total{verdict="discard"} 4' in metrics
    # The state's copy (for /ui and the durable store) catches up within a second or two.
    wait_until(lambda: any(b["counters"] == expected for b in server.get("/sessions/s/binds").json()["items"]))


def test_a_revoked_bidirectional_bind_approved_again_starts_with_no_recent_peers(topology):
    server = topology.start_server()
    rule = server.allow_protocol(SIP)
    server.allow_protocol(FTP)
    server.create_session(id="sip")
    server.create_bind("sip", "udp", f"{GW}:5060")
    topology.gw.listen("udp", GW, 5060)
    topology.pe.listen("udp", PEER, 7000)
    approve(server, "sip", "udp", f"{GW}:5060", SIP, flags=["bidirectional"])
    topology.pe.udp_send((PEER, 7000), (GW, 5060))
    assert delivered(topology) == {(PEER, 5060)}
    assert topology.gw.udp_send((GW, 5060), (PEER, 7000)) == {"sent": True}
    assert server.delete(f"/rules/{rule['id']}").status_code == 204  # revokes the SIP approval
    approve(server, "sip", "udp", f"{GW}:5060", FTP, flags=["bidirectional"])
    decision = server.decide("udp", "outbound", f"{GW}:5060", f"{PEER}:7000")
    assert decision["reason"] == "not-recent-peer"
    assert topology.gw.udp_send((GW, 5060), (PEER, 7000))["errno"] == "EPERM", \
        "the kernel still remembered a peer from before the revocation"


def test_a_restart_with_many_binds_lets_no_packet_through_to_a_pending_bind_and_keeps_approvals_open(topology, tmp_path):
    """The load at start fills the unused generation while the one in use decides: packets sent to
    a pending bind all through a restart are never delivered, and an approved bind never stops."""
    data = tmp_path / "data"
    config = {"limits": {"maxPendingBindsPerSession": 5000}}
    server = topology.start_server(data=data, config=config)
    pending_and_approved(server, topology)
    # Enough binds that loading the table takes a while (the sender keeps sending through it).
    server.create_session(id="bulk", clientAddress="10.1.2.4")
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda k: server.post("/sessions/bulk/binds", {
            "protocol": "udp", "address": f"10.77.0.2:{20000 + k}"}).status_code, range(3000)))
    assert made.count(201) == 3000
    assert server.stop() == 0

    sent = {"pending": 0, "approved": 0}
    stop = threading.Event()

    def send():
        while not stop.is_set():
            udp_from(topology, PEER, GW, 5100, "to-pending")
            udp_from(topology, PEER, GW, 5101, "to-approved")
            sent["pending"] += 1
            sent["approved"] += 1
            time.sleep(0.002)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    started = time.monotonic()
    server = topology.start_server(data=data, config=config)
    loaded = time.monotonic() - started
    time.sleep(0.3)
    stop.set()
    sender.join(5)
    got = topology.gw.received(0.3)
    pending = [item for item in got if item[5] == "to-pending"]
    approved = [item for item in got if item[5] == "to-approved"]
    print(f"restart with 3,002 binds: ready after {loaded:.2f} s; {sent['pending']} packets each way, "
          f"{len(pending)} reached the pending bind, {len(approved)} the approved one")
    assert pending == [], "a packet reached a pending bind during the reload"
    assert len(approved) >= sent["approved"] - 2, "the approved bind stopped accepting during the reload"
    assert server.get("/readyz").status_code == 200


def test_an_idle_timeout_follows_the_kernels_counters_and_expiry_closes_the_kernels_hole(topology):
    server = topology.start_server(config={"timers": {"approvalIdleTimeoutSeconds": 3}})
    server.allow_protocol(FTP)
    server.create_session(id="s")
    bind = server.create_bind("s", "udp", f"{GW}:5010")
    topology.gw.listen("udp", GW, 5010)
    approve(server, "s", "udp", f"{GW}:5010", ipFilter={"include": [PEER]})
    # More than twice the idle timeout, kept open only by packets the kernel accepted: with a data
    # plane /decisions count nothing, and none is asked here.
    started = time.monotonic()
    while time.monotonic() - started < 7:
        udp_from(topology, PEER, GW, 5010)
        time.sleep(0.5)
    assert delivered(topology) == {(PEER, 5010)}
    answer = server.get(f"/sessions/s/binds/{bind['id']}").json()
    assert answer["state"] == "allowed" and answer["counters"]["accepted"] >= 10
    # Packets the kernel drops (a peer the filter refuses) are no activity.
    stopped = time.monotonic()
    while server.get(f"/sessions/s/binds/{bind['id']}").status_code == 200:
        assert time.monotonic() - stopped < 15, "the idle approval did not expire"
        udp_from(topology, OTHER, GW, 5010)
        time.sleep(0.3)
    assert time.monotonic() - stopped >= 2
    assert topology.set_elements("bound4") == [], "the expired approval left elements in the kernel's table"
    udp_from(topology, PEER, GW, 5010)
    assert delivered(topology) == set(), "the kernel still accepted traffic to the expired approval"
