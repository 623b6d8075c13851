"""Rules, protocols, policy versions and revocation of allowed binds."""
from conftest import FTP, H323, SIP, assert_problem


def test_rule_change_revokes_allowed_binds(server):
    alice = server.create_session(user={"name": "CONTOSO\\alice", "groups": ["CONTOSO\\FTP Users"]})
    bob = server.create_session(user={"name": "CONTOSO\\bob", "groups": []}, clientAddress="10.1.2.4")
    a = server.create_bind(alice["id"], address="203.0.113.10:40000")
    b = server.create_bind(bob["id"], address="203.0.113.10:40001")
    rule = server.allow_protocol(FTP, users=["All Authenticated Users"])
    assert server.retroactive(alice["id"], address="203.0.113.10:40000").json()["hresult"] == "S_OK"
    assert server.retroactive(bob["id"], address="203.0.113.10:40001").json()["hresult"] == "S_OK"
    etag = server.get("/rules").headers["ETag"]
    narrowed = server.put("/rules/" + rule["id"], {
        "name": "FTP users only", "action": "allow", "protocols": [FTP], "users": ["contoso\\ftp users"]},
        headers={"If-Match": etag})
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.headers["ETag"] != etag
    assert server.get(f"/sessions/{alice['id']}/binds/{a['id']}").json()["state"] == "allowed"
    revoked = server.get(f"/sessions/{bob['id']}/binds/{b['id']}").json()
    assert revoked["state"] == "pending" and revoked["protocolGuid"] is None
    decision = server.decide("tcp", "inbound", "198.51.100.7:20", "203.0.113.10:40001")
    assert decision["reason"] == "bind-pending"
    assert_problem(server.retroactive(bob["id"], address="203.0.113.10:40001"), 403, "FWX_E_PROTOCOL_RULES_DENIED")


def test_rules_are_ordered_and_the_default_rule_is_last_and_fixed(server):
    deny = server.post("/rules", {"name": "no H.323", "action": "deny", "protocols": [H323], "users": ["All Users"]}).json()
    allow = server.post("/rules", {"name": "everything", "action": "allow", "protocols": "any",
                                   "users": ["All Users"], "position": 1}).json()
    listed = server.get("/rules").json()["items"]
    assert [(r["id"], r["position"]) for r in listed] == [(allow["id"], 1), (deny["id"], 2), ("default", 3)]
    evaluate = lambda guid: server.post("/rules/evaluate", {"clientAddress": "10.0.0.1", "user": None,
                                                            "protocolGuid": guid}).json()
    assert evaluate(H323)["ruleId"] == allow["id"]
    server.put("/rules/" + deny["id"], {"name": "no H.323", "action": "deny", "protocols": [H323],
                                        "users": ["All Users"], "position": 1})
    assert evaluate(H323) | {"policyVersion": 0} == {"action": "deny", "ruleId": deny["id"], "ruleName": "no H.323",
                                                     "policyVersion": 0}
    assert evaluate("00000000-0000-4000-8000-000000000001")["ruleId"] == "default", "undefined GUIDs are never allowed"
    for method in ("PUT", "DELETE"):
        body = {"name": "x", "action": "allow", "protocols": "any", "users": ["All Users"]} if method == "PUT" else None
        assert_problem(server.request(method, "/rules/default", body), 403, "E_ACCESSDENIED")
    assert_problem(server.post("/rules", {"name": "x", "action": "allow", "protocols": "any", "users": ["All Users"],
                                          "position": 9}), 400, "E_INVALIDARG", field="position")


def test_source_addresses_and_unauthenticated_users(server):
    server.post("/rules", {"name": "lab", "action": "allow", "protocols": [SIP], "users": ["All Users"],
                           "sourceAddresses": ["10.20.0.0/16"]})
    inside = server.create_session(clientAddress="10.20.1.1")
    outside = server.create_session(clientAddress="10.21.1.1")
    server.create_bind(inside["id"], "udp", "203.0.113.10:5001")
    server.create_bind(outside["id"], "udp", "203.0.113.10:5002")
    ok = server.retroactive(inside["id"], "udp", "203.0.113.10:5001", SIP)
    assert ok.json()["hresult"] == "S_OK"
    assert_problem(server.retroactive(outside["id"], "udp", "203.0.113.10:5002", SIP),
                   403, "FWX_E_PROTOCOL_RULES_DENIED")
    by_session = server.post("/rules/evaluate", {"sessionId": outside["id"], "protocolGuid": SIP}).json()
    assert by_session["action"] == "deny" and by_session["ruleId"] == "default"


def test_protocol_definitions(server):
    listed = server.get("/protocols").json()["items"]
    names = {p["name"] for p in listed if p["builtIn"]}
    assert {"FTP", "H.323", "RTSP", "SIP", "PPTP"} <= names
    assert_problem(server.put("/protocols/" + FTP, {"name": "FTP", "primaryConnections": [
        {"protocol": "tcp", "ports": "21", "direction": "outbound"}]}), 403, "E_ACCESSDENIED")
    guid = "{C3B1F00D-0000-4000-8000-00000000ABCD}"
    created = server.post("/protocols", {"guid": guid, "name": "Game", "primaryConnections": [
        {"protocol": "udp", "ports": "27000-27015", "direction": "send-receive"}]})
    assert created.status_code == 201
    assert created.json()["guid"] == "c3b1f00d-0000-4000-8000-00000000abcd"
    assert server.get("/protocols/C3B1F00D-0000-4000-8000-00000000ABCD").json()["name"] == "Game"
    assert_problem(server.post("/protocols", {"guid": guid, "name": "Game", "primaryConnections": [
        {"protocol": "udp", "ports": "1", "direction": "inbound"}]}), 409, "FWX_E_ALREADY_EXISTS")
    assert_problem(server.post("/protocols", {"name": "Bad", "primaryConnections": [
        {"protocol": "udp", "ports": "0", "direction": "inbound"}]}), 400, "E_INVALIDARG",
        field="primaryConnections[0].ports")
    version = int(server.get("/rules").headers["ETag"].strip('"'))
    assert server.delete("/protocols/" + created.json()["guid"]).status_code == 204
    assert int(server.get("/rules").headers["ETag"].strip('"')) == version + 1
