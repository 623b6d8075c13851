"""The decision path: every reason, bidirectional replies and the recent-peer window."""
import time

from conftest import FTP, SIP, assert_problem

GW = "203.0.113.10"


def test_every_inbound_reason(server):
    session = server.create_session()
    sid = session["id"]
    assert server.decide("tcp", "inbound", "198.51.100.7:20", f"{GW}:40000")["reason"] == "no-bind"
    bind = server.create_bind(sid, "tcp", f"{GW}:40000")
    pending = server.decide("tcp", "inbound", "198.51.100.7:20", f"{GW}:40000")
    assert pending == {"verdict": "discard", "reason": "bind-pending", "sessionId": sid, "bindId": bind["id"]}
    server.allow_protocol(FTP)
    assert server.retroactive(sid, ipFilter={"include": ["198.51.100.7"]}).json()["hresult"] == "S_OK"
    assert server.decide("tcp", "inbound", "198.51.100.7:20", f"{GW}:40000")["reason"] == "allowed"
    assert server.decide("tcp", "inbound", "198.51.100.8:20", f"{GW}:40000") | {"bindId": None} == {
        "verdict": "discard", "reason": "ip-filter", "sessionId": sid, "bindId": None}
    server.delete(f"/sessions/{sid}/binds/{bind['id']}")
    assert server.decide("tcp", "inbound", "198.51.100.7:20", f"{GW}:40000")["reason"] == "bind-terminating"
    counters = server.get(f"/sessions/{sid}/binds/{bind['id']}").json()["counters"]
    assert counters == {"accepted": 1, "discarded": 3}


def test_exact_address_before_wildcard_and_families_apart(server):
    a = server.create_session()
    b = server.create_session()
    wildcard = server.create_bind(a["id"], "udp", "0.0.0.0:5004")
    v6 = server.create_bind(b["id"], "udp", "[2001:db8::10]:5004")
    assert server.decide("udp", "inbound", "198.51.100.7:1", f"{GW}:5004")["bindId"] == wildcard["id"]
    assert server.decide("udp", "inbound", "[2001:db8::99]:1", "[2001:db8::10]:5004")["bindId"] == v6["id"]
    assert server.decide("udp", "inbound", "[2001:db8::99]:1", "[2001:db8::11]:5004")["reason"] == "no-bind"
    assert server.decide("tcp", "inbound", "198.51.100.7:1", f"{GW}:5004")["reason"] == "no-bind"


def test_bidirectional_replies_need_a_recent_peer(start_server):
    server = start_server(store="memory", config={"timers": {"bidirectionalWindowSeconds": 2}})
    session = server.create_session()
    sid = session["id"]
    server.create_bind(sid, "udp", f"{GW}:40000")
    server.create_bind(sid, "udp", f"{GW}:40002")
    server.allow_protocol(SIP)
    allowed = server.retroactive(sid, "udp", f"{GW}:40000", SIP, flags=["bidirectional", "increase-receive-buffer"])
    assert allowed.json()["binds"][0]["receiveBufferBytes"] == 65536
    assert allowed.json()["binds"][0]["flags"] == ["bidirectional", "increase-receive-buffer"]
    server.retroactive(sid, "udp", f"{GW}:40002", SIP)
    out = lambda src, dst: server.decide("udp", "outbound", src, dst)
    assert out(f"{GW}:40000", "198.51.100.7:5004")["reason"] == "not-recent-peer"
    assert server.decide("udp", "inbound", "198.51.100.7:5004", f"{GW}:40000")["verdict"] == "accept"
    assert out(f"{GW}:40000", "198.51.100.7:5004") | {"sessionId": None} == {
        "verdict": "accept", "reason": "bidirectional-reply", "sessionId": None, "bindId": allowed.json()["binds"][0]["id"]}
    assert out(f"{GW}:40000", "198.51.100.7:5005")["reason"] == "not-recent-peer", "the port must match too"
    assert out(f"{GW}:40002", "198.51.100.7:5004")["reason"] == "not-bidirectional"
    time.sleep(2.5)
    assert out(f"{GW}:40000", "198.51.100.7:5004")["reason"] == "not-recent-peer", "the window has passed"


def test_outbound_tcp_is_rejected(server):
    response = server.post("/decisions", {"protocol": "tcp", "direction": "outbound",
                                          "source": f"{GW}:1", "destination": "198.51.100.7:2"})
    assert_problem(response, 400, "E_INVALIDARG", field="direction")


def test_batch_keeps_order_and_fails_whole_on_one_bad_item(server):
    session = server.create_session()
    server.create_bind(session["id"], "udp", f"{GW}:7000")
    item = lambda port: {"protocol": "udp", "direction": "inbound", "source": "198.51.100.7:1",
                         "destination": f"{GW}:{port}"}
    results = server.post("/decisions/batch", {"decisions": [item(7000), item(7001), item(7000)]}).json()["results"]
    assert [r["reason"] for r in results] == ["bind-pending", "no-bind", "bind-pending"]
    bad = server.post("/decisions/batch", {"decisions": [item(7000), item(7000) | {"destination": "nope"}]})
    assert_problem(bad, 400, "E_INVALIDARG", field="decisions[1].destination")
    bind = server.get(f"/sessions/{session['id']}/binds").json()["items"][0]
    assert bind["counters"]["discarded"] == 2, "a failed batch decides nothing"
    too_many = server.post("/decisions/batch", {"decisions": [item(7000)] * 10001})
    assert_problem(too_many, 400, "E_INVALIDARG", field="decisions")
