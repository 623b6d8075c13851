"""The README's walk-through: active-mode FTP through the gateway."""
from conftest import FTP


def test_ftp_active_mode_story(server):
    session = server.create_session(id="ws17-1", clientMachineName="WS-17",
                                    user={"name": "CONTOSO\\alice", "groups": ["CONTOSO\\FTP Users"]})
    assert session["state"] == "active" and session["user"]["name"] == "CONTOSO\\alice"
    server.allow_protocol(FTP, users=["CONTOSO\\FTP Users"])
    bind = server.create_bind("ws17-1", "tcp", "203.0.113.10:40000")
    assert bind["state"] == "pending"
    syn = lambda src: server.decide("tcp", "inbound", src, "203.0.113.10:40000")
    assert syn("198.51.100.7:20")["reason"] == "bind-pending"
    first = server.retroactive("ws17-1", ipFilter={"include": ["198.51.100.7"]})
    assert first.status_code == 200 and first.json()["hresult"] == "S_OK"
    assert first.json()["binds"][0]["ipFilter"] == {"ranges": ["198.51.100.7"]}
    assert syn("198.51.100.7:20") == {"verdict": "accept", "reason": "allowed", "sessionId": "ws17-1",
                                      "bindId": bind["id"]}
    assert syn("192.0.2.66:20")["reason"] == "ip-filter"
    again = server.retroactive("ws17-1")
    assert again.json()["hresult"] == "S_FALSE" and again.json()["code"] == "0x00000001"
