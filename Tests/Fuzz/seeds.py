"""Writes a seed corpus for the fuzzers: one valid request per operation and address samples.

RequestFuzzer input: byte 0 = route index (as `fwsessiond routes` lists them), byte 1 = path
variant (1: valid ids and the query below), then the query, a NUL, and the body.
"""
import json
import pathlib
import subprocess
import sys

binary, out = sys.argv[1], pathlib.Path(sys.argv[2])
(out / "request").mkdir(parents=True, exist_ok=True)
(out / "parser").mkdir(parents=True, exist_ok=True)
FTP = "477d0251-8a01-4895-9727-ba1370e17366"
bodies = {
    "createSession": {"id": "s2", "clientAddress": "10.1.2.3", "user": {"name": "CONTOSO\\alice", "groups": ["g"]}},
    "createBind": {"protocol": "udp", "address": "203.0.113.10:40000"},
    "retroactiveAllowBind": {"protocol": "udp", "address": "203.0.113.10:40000", "protocolGuid": FTP,
                             "flags": ["bidirectional"], "ipFilter": {"include": ["198.51.100.0/24"], "exclude": ["198.51.100.7"]}},
    "setBindIpFilter": {"ipFilter": {"include": ["2001:db8::/32"]}},
    "decide": {"protocol": "udp", "direction": "inbound", "source": "198.51.100.7:1", "destination": "203.0.113.10:40000"},
    "decideBatch": {"decisions": [{"protocol": "udp", "direction": "outbound", "source": "203.0.113.10:40000",
                                   "destination": "[2001:db8::1]:5"}]},
    "createProtocol": {"name": "Game", "primaryConnections": [{"protocol": "udp", "ports": "27000-27015", "direction": "send-receive"}]},
    "replaceProtocol": {"name": "Game", "primaryConnections": [{"protocol": "tcp", "ports": "1", "direction": "inbound"}]},
    "createRule": {"name": "r", "action": "allow", "protocols": {"except": [FTP]}, "users": ["All Users"],
                   "sourceAddresses": ["10.0.0.0/8"], "position": 1},
    "replaceRule": {"name": "r", "action": "deny", "protocols": "any", "users": ["All Authenticated Users"]},
    "evaluateRules": {"clientAddress": "10.0.0.1", "user": None, "protocolGuid": FTP},
    "createIpFilter": {"include": ["192.0.2.7-192.0.2.9", "::1"], "exclude": ["192.0.2.8"]},
    "includeIpRange": {"range": "10.0.0.0/8"},
    "excludeIpRange": {"range": "10.1.0.0/16"},
    "includeIpFilter": {"filterId": "f-1"},
    "excludeIpFilter": {"filterId": "f-1"},
}
queries = {"listSessions": "state=active&limit=5", "listBinds": "state=pending", "ipFilterContains": "address=10.0.0.1",
           "compareIpFilters": "other=f-1", "listRules": "limit=1&cursor=1"}
routes = subprocess.run([binary, "routes"], capture_output=True, text=True, check=True).stdout.split("\n")
for index, line in enumerate(filter(None, routes)):
    method, path, operation = line.split()
    body = json.dumps(bodies[operation]).encode() if operation in bodies else b""
    data = bytes([index, 1]) + queries.get(operation, "").encode() + b"\0" + body
    (out / "request" / operation).write_bytes(data)
for i, sample in enumerate(["203.0.113.10:40000", "[2001:db8::1]:443", "198.51.100.0/24", "192.0.2.7-192.0.2.9",
                            "::ffff:192.0.2.1", "{6B1E1A3C-2F9E-4C55-9A50-6D9B0B1F0C21}", '{"a": [1, 2.5e3, "x\\u00e9"]}']):
    (out / "parser" / f"seed{i}").write_text(sample)
