"""Structured access and audit logs: one line per request, one per policy change and approval."""
import json
import subprocess

from conftest import FTP, binary


def test_json_access_and_audit_lines(start_server):
    lines = subprocess.run([binary(), "token", "create", "--role", "admin", "--name", "ftp-admin"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    token, entry = lines[0], json.loads(lines[1])
    server = start_server("--log-format", "json", store="memory", config={"tokens": [entry]})
    auth = {"Authorization": "Bearer " + token}
    server.post("/sessions", {"id": "ws17-1", "clientAddress": "10.1.2.3"}, headers=auth)
    bind = server.post("/sessions/ws17-1/binds", {"protocol": "tcp", "address": "203.0.113.10:40000"}, headers=auth).json()
    rule = server.post("/rules", {"name": "ftp", "action": "allow", "protocols": [FTP], "users": ["All Users"]},
                       headers=auth).json()
    server.post("/sessions/ws17-1/retroactive-binds", {"protocol": "tcp", "address": "203.0.113.10:40000",
                                                       "protocolGuid": FTP}, headers=auth)
    server.get("/sessions/nobody", headers=auth)
    server.stop()
    records = [json.loads(line) for line in server.log_lines]
    access = [r for r in records if r.get("log") == "access"]
    assert len(access) == 5
    missing = access[-1]
    assert missing["http.route"] == "/sessions/{id}" and missing["http.status"] == "404"
    assert missing["hresult"] == "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)" and missing["token"] == "ftp-admin"
    assert float(missing["latency.ms"]) >= 0 and missing["request.id"]
    audit = [r for r in records if r.get("log") == "audit"]
    assert [a["audit.action"] for a in audit] == ["rule.create", "retroactive-allow-bind"]
    assert audit[0]["rule.id"] == rule["id"] and audit[0]["token"] == "ftp-admin"
    approval = audit[1]
    assert approval["session.id"] == "ws17-1" and approval["bind.ids"] == bind["id"]
    assert approval["protocol.guid"] == FTP and approval["hresult"] == "S_OK" and approval["token"] == "ftp-admin"
    assert all(token not in line for line in server.log_lines)


def test_text_and_json_lines_carry_the_same_rfc3339_time(start_server):
    import calendar
    import re
    import time
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    for arguments in [(), ("--log-format", "json")]:
        before = time.time()
        server = start_server(*arguments, store="memory")
        server.get("/sessions")
        server.stop()
        lines = [line for line in server.log_lines if line.strip()]
        assert lines
        for line in lines:
            if arguments:
                record = json.loads(line)
                when, label = record["time"], record["label"]
            else:
                match = re.match(rf"^({stamp}) (trace|debug|info|notice|warning|error|critical) (\S+): ", line)
                assert match, line
                when, label = match.group(1), match.group(3)
            assert re.fullmatch(stamp, when) and label == "fwsessiond", line
            seconds = calendar.timegm(time.strptime(when[:19], "%Y-%m-%dT%H:%M:%S"))
            assert before - 1 <= seconds <= time.time() + 1, (line, before)
