"""An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is a second name for the IPv4 address: the
server reads it as that address wherever an address is parsed, so one address has one identity
(binds and their conflicts, decisions, client addresses and their filter, IP filters, rules)."""
import urllib.parse

from conftest import FTP, assert_problem


def test_a_mapped_bind_address_is_the_ipv4_bind(server):
    first = server.create_session(id="v4")
    held = server.create_bind("v4", address="203.0.113.10:40000")
    other = server.create_session(id="mapped")
    response = server.post("/sessions/mapped/binds", {"protocol": "tcp", "address": "[::ffff:203.0.113.10]:40000"})
    problem = assert_problem(response, 409, "HRESULT_FROM_WIN32(WSAEADDRINUSE)", "0x80072740")
    assert problem["conflict"] == {"sessionId": first["id"], "bindId": held["id"]}
    # Written mapped first, it is stored and shown as the IPv4 address, and the IPv4 name conflicts.
    mapped = server.create_bind(other["id"], protocol="udp", address="[::FFFF:cb00:710a]:5060")
    assert mapped["address"] == "203.0.113.10:5060"
    response = server.post("/sessions/v4/binds", {"protocol": "udp", "address": "203.0.113.10:5060"})
    assert_problem(response, 409, "HRESULT_FROM_WIN32(WSAEADDRINUSE)")
    # The mapped wildcard is the IPv4 wildcard, which conflicts with every IPv4 bind on the port.
    response = server.post("/sessions/mapped/binds", {"protocol": "tcp", "address": "[::ffff:0.0.0.0]:40000"})
    assert_problem(response, 409, "HRESULT_FROM_WIN32(WSAEADDRINUSE)")


def test_decisions_and_retroactive_binds_find_the_ipv4_bind_by_its_mapped_name(server):
    server.allow_protocol(FTP)
    server.create_session(id="ftp")
    bind = server.create_bind("ftp", address="203.0.113.10:40000")
    pending = server.decide("tcp", "inbound", "[::ffff:198.51.100.7]:20", "[::ffff:203.0.113.10]:40000")
    assert (pending["reason"], pending["bindId"]) == ("bind-pending", bind["id"])
    approved = server.retroactive("ftp", address="[::ffff:203.0.113.10]:40000",
                                  ipFilter={"include": ["::ffff:198.51.100.7"]})
    assert approved.status_code == 200, approved.text
    assert approved.json()["hresult"] == "S_OK"
    assert approved.json()["binds"][0]["ipFilter"] == {"ranges": ["198.51.100.7"]}
    assert server.decide("tcp", "inbound", "198.51.100.7:20", "203.0.113.10:40000")["reason"] == "allowed"
    assert server.decide("tcp", "inbound", "[::ffff:198.51.100.7]:20", "203.0.113.10:40000")["reason"] == "allowed"
    assert server.decide("tcp", "inbound", "[::ffff:198.51.100.8]:20", "203.0.113.10:40000")["reason"] == "ip-filter"
    batch = server.post("/decisions/batch", {"decisions": [
        {"protocol": "tcp", "direction": "inbound", "source": "[::ffff:198.51.100.7]:20",
         "destination": "[::ffff:203.0.113.10]:40000"}]})
    assert batch.status_code == 200, batch.text
    assert batch.json()["results"][0]["reason"] == "allowed"


def test_a_mapped_client_address_is_the_ipv4_address_in_filters(server):
    session = server.create_session(id="dual-stack", clientAddress="::ffff:10.9.9.9")
    assert session["clientAddress"] == "10.9.9.9"
    server.create_session(id="ipv6", clientAddress="2001:db8::9")
    for query in ["10.9.9.0/24", "10.9.9.9", "10.9.9.1-10.9.9.9", "::ffff:10.9.9.0/120", "::ffff:10.9.9.9"]:
        listed = server.get("/sessions?clientAddress=" + urllib.parse.quote(query, safe=""))
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["items"]] == ["dual-stack"], query
    # ::/0 holds IPv6 addresses only; the IPv4 address is IPv4 whichever way it was written.
    listed = server.get("/sessions?clientAddress=" + urllib.parse.quote("::/0", safe=""))
    assert [item["id"] for item in listed.json()["items"]] == ["ipv6"]


def test_ip_filters_and_rules_read_mapped_entries_as_ipv4(server):
    created = server.post("/ip-filters", {"include": ["::ffff:198.51.100.0/120", "::ffff:192.0.2.7-::ffff:192.0.2.9"],
                                          "exclude": ["::ffff:198.51.100.13"]})
    assert created.status_code == 201, created.text
    stored = created.json()
    assert stored["ranges"] == ["192.0.2.7-192.0.2.9", "198.51.100.0-198.51.100.12", "198.51.100.14-198.51.100.255"]
    for address, included in [("198.51.100.7", True), ("::ffff:198.51.100.7", True), ("::ffff:198.51.100.13", False)]:
        answer = server.get(f"/ip-filters/{stored['id']}/contains?address=" + urllib.parse.quote(address, safe=""))
        assert answer.status_code == 200, answer.text
        assert answer.json()["included"] is included, address
    rule = server.post("/rules", {"name": "mapped", "action": "allow", "protocols": [FTP], "users": ["All Users"],
                                  "sourceAddresses": ["::ffff:10.0.0.0/104"]})
    assert rule.status_code == 201, rule.text
    assert rule.json()["sourceAddresses"] == ["10.0.0.0/8"]
    evaluated = server.post("/rules/evaluate", {"clientAddress": "::ffff:10.1.2.3", "protocolGuid": FTP})
    assert evaluated.json()["ruleId"] == rule.json()["id"]
