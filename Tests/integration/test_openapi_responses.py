"""Every operation of openapi.yaml, called on a real server, answers as the document says.

The module starts `$FWSESSIOND_BIN serve --listen 127.0.0.1:0 --store memory` (and a second server
with tokens and small limits for 401/403/413/429), calls each operation at least once with a
valid and once with an invalid request, and checks each answer against openapi.yaml: the status is
declared for the operation, the Content-Type is one of the declared media types, the body
validates against the declared schema (JSON Schema 2020-12 / OpenAPI 3.1 dialect, `$ref`s resolved
with `referencing` against the whole document, read strictly as openapi_strict.py says: response
objects closed, `x-fwsessiond-rules` applied), and the declared required headers (Location,
ETag, Retry-After, Allow, WWW-Authenticate) are present and match their schemas. Valid request
bodies are also checked against the request schemas, so those cannot drift stricter than the server.
The last test checks that every operation was exercised both ways.
"""
import hashlib
import json
import os
import pathlib
import re
import subprocess
import threading
import urllib.parse

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from openapi_strict import strict

try:  # The OpenAPI 3.1 dialect (2020-12 plus the OAS vocabulary), when installed.
    from openapi_schema_validator import OAS31Validator as SchemaValidator
except ImportError:  # pragma: no cover
    SchemaValidator = Draft202012Validator

REPO = pathlib.Path(__file__).resolve().parents[2]
SPEC_URI = "urn:fwsessiond:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")

FTP = "477d0251-8a01-4895-9727-ba1370e17366"
SIP = "6b1e1a3c-2f9e-4c55-9a50-6d9b0b1f0c21"


def binary_path() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("FWSESSIOND_BIN", ".build/debug/fwsessiond"))
    if path.is_absolute():
        return path
    if "FWSESSIOND_BIN" in os.environ and path.exists():
        return path.resolve()
    return REPO / path


# --------------------------------------------------------------------------- the document

def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class Contract:
    """openapi.yaml, with lookups by request and schema validation through `referencing`."""

    def __init__(self, path: pathlib.Path):
        with path.open(encoding="utf-8") as handle:
            self.spec = strict(yaml.safe_load(handle))
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self.templates = []
        for template in self.spec["paths"]:
            segments = template.strip("/").split("/") if template != "/" else []
            self.templates.append((template, segments))
        self.exercised = {}  # operationId -> set of "ok" / "error"

    def lookup(self, pointer: str):
        node = self.spec
        for token in pointer.lstrip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, node, pointer):
        """Follows `$ref`s; returns the object and its JSON pointer."""
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"][1:]
            node = self.lookup(pointer)
        return node, pointer

    def validator(self, schema_pointer: str):
        schema = {"$ref": f"{SPEC_URI}#{schema_pointer}"}
        return SchemaValidator(schema, registry=self.registry, format_checker=FormatChecker())

    def errors(self, instance, schema_pointer: str):
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in self.validator(schema_pointer).iter_errors(instance)
        ]

    def template_for(self, path: str):
        """The path template matching a concrete path (literal segments win over parameters)."""
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")] if path != "/" else []
        best = None
        for template, segments in self.templates:
            if len(segments) != len(parts):
                continue
            literals = 0
            for segment, part in zip(segments, parts):
                if segment.startswith("{") and segment.endswith("}"):
                    if not part:
                        break
                elif segment == part:
                    literals += 1
                else:
                    break
            else:
                if best is None or literals > best[1]:
                    best = (template, literals)
        return best[0] if best else None

    def operation(self, method: str, path: str):
        template = self.template_for(path)
        assert template is not None, f"no path of openapi.yaml matches {path}"
        item = self.spec["paths"][template]
        assert method.lower() in item, f"openapi.yaml has no {method} {template}"
        pointer = f"/paths/{escape(template)}/{method.lower()}"
        return template, item[method.lower()], pointer

    def check_response(self, response, response_node, response_pointer, label):
        """Content-Type, body schema and headers of `response` against a Response Object."""
        response_node, response_pointer = self.deref(response_node, response_pointer)
        problems = []
        content = response_node.get("content", {})
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content:
            if media_type not in content:
                problems.append(f"Content-Type {media_type!r} is not one of {sorted(content)}")
            elif "schema" in content[media_type] and media_type.endswith("json"):
                try:
                    body = response.json()
                except ValueError:
                    problems.append(f"body is not JSON: {response.text[:200]!r}")
                else:
                    schema_pointer = f"{response_pointer}/content/{escape(media_type)}/schema"
                    problems += [f"body {e}" for e in self.errors(body, schema_pointer)]
        elif response.content:
            problems.append(f"declared without content but the body is {response.text[:200]!r}")
        for name, header in response_node.get("headers", {}).items():
            header, header_pointer = self.deref(header, f"{response_pointer}/headers/{escape(name)}")
            value = response.headers.get(name)
            if value is None:
                if header.get("required"):
                    problems.append(f"required header {name} is missing")
                continue
            schema = header.get("schema", {})
            schema_node, _ = self.deref(schema, f"{header_pointer}/schema")
            instance = value
            if schema_node.get("type") == "integer":
                instance = int(value) if re.fullmatch(r"[0-9]+", value) else value
            problems += [f"header {name}: {e}" for e in self.errors(instance, f"{header_pointer}/schema")]
        assert not problems, f"{label}: answer does not match openapi.yaml:\n  " + "\n  ".join(problems) + \
            f"\n  status {response.status_code}, body {response.text[:500]}"

    def check(self, method, path, response, request_json=None):
        template, operation, pointer = self.operation(method, path)
        label = f"{method} {path} -> {response.status_code} ({operation['operationId']})"
        status = str(response.status_code)
        responses = operation["responses"]
        key = status if status in responses else f"{status[0]}XX" if f"{status[0]}XX" in responses else "default"
        assert key in responses, f"{label}: status {status} is not declared for the operation"
        self.check_response(response, responses[key], f"{pointer}/responses/{escape(key)}", label)
        if request_json is not None and status.startswith("2"):
            body = operation.get("requestBody")
            assert body is not None, f"{label}: sent a body but the operation declares none"
            body, body_pointer = self.deref(body, f"{pointer}/requestBody")
            schema_pointer = f"{body_pointer}/content/application~1json/schema"
            problems = self.errors(request_json, schema_pointer)
            assert not problems, f"{label}: a request the server accepted violates the request schema:\n  " + \
                "\n  ".join(problems)
        outcome = "ok" if status[0] in "23" else "error"
        self.exercised.setdefault(operation["operationId"], set()).add(outcome)
        return response


@pytest.fixture(scope="module")
def contract():
    return Contract(REPO / "openapi.yaml")


# --------------------------------------------------------------------------- the servers

class Server:
    def __init__(self, args):
        binary = binary_path()
        if not binary.exists():
            pytest.fail(f"fwsessiond binary not found at {binary}; build it (make build) or set FWSESSIOND_BIN")
        self.process = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
        self.lines = []
        found = threading.Event()
        self.port = None

        def pump():
            for line in self.process.stderr:
                self.lines.append(line.rstrip("\n"))
                match = LISTENING.search(line)
                if match and self.port is None:
                    self.port = int(match.group(1))
                    found.set()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(30) or self.port is None:
            self.stop()
            pytest.fail("fwsessiond did not start:\n" + "\n".join(self.lines))
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    """Sends requests, asserts the expected status, and checks the answer against the contract."""

    def __init__(self, server, contract, headers=None):
        self.server = server
        self.contract = contract
        self.headers = dict(headers or {})

    def call(self, method, path, expect, json_body=None, raw=None, headers=None, content_type="application/json"):
        request_headers = dict(self.headers)
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            if content_type:
                request_headers["Content-Type"] = content_type
        elif raw is not None:
            data = raw
            if content_type:
                request_headers["Content-Type"] = content_type
        request_headers.update(headers or {})
        response = self.server.http.request(
            method, self.server.base + path, data=data, headers=request_headers, timeout=30, allow_redirects=False)
        assert response.status_code == expect, \
            f"{method} {path}: expected {expect}, got {response.status_code}: {response.text[:500]}"
        self.contract.check(method, path.split("?")[0], response, request_json=json_body)
        return response


@pytest.fixture(scope="module")
def server():
    started = Server(["--store", "memory"])
    yield started
    started.stop()


@pytest.fixture(scope="module")
def api(server, contract):
    return Client(server, contract)


TOKENS = {"viewer": "contract-viewer-token-0123456789", "admin": "contract-admin-token-0123456789"}


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory):
    """A server with tokens and small limits: 401, 403, 413 and 429 are reachable."""
    config = {
        "tokens": [
            {"name": f"contract-{role}", "role": role, "sha256": hashlib.sha256(token.encode()).hexdigest()}
            for role, token in TOKENS.items()
        ],
        "limits": {"maxBodyBytes": 1024, "maxPendingBindsPerSession": 1},
    }
    path = tmp_path_factory.mktemp("config") / "fwsessiond.json"
    path.write_text(json.dumps(config))
    started = Server(["--store", "memory", "--config", str(path)])
    yield started
    started.stop()


def problem(response, hresult, field=None):
    body = response.json()
    assert body["hresult"] == hresult, body
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


state = {}


# --------------------------------------------------------------------------- health

def test_health(api):
    api.call("GET", "/healthz", 200)
    api.call("GET", "/healthz?verbose=1", 400)


def test_ready(api):
    api.call("GET", "/readyz", 200)
    api.call("GET", "/readyz?verbose=1", 400)


# --------------------------------------------------------------------------- observability

def test_metrics_and_status_page(api):
    metrics = api.call("GET", "/metrics", 200)
    assert "fwsessiond_http_requests_total" in metrics.text
    api.call("GET", "/metrics?format=json", 400)
    summary = api.call("GET", "/summary", 200).json()
    assert set(summary) == {"sessions", "binds", "mirrored", "policyVersion"}
    api.call("GET", "/summary?verbose=1", 400)
    page = api.call("GET", "/ui", 200)
    assert page.text.lstrip().lower().startswith("<!doctype html>")
    api.call("GET", "/ui?token=x", 400)
    assert api.call("GET", "/", 302).headers["Location"] == "/ui"
    api.call("GET", "/?token=x", 400)


def test_event_stream(server, contract):
    # The stream does not end, so it is read with stream=True and closed after its first bytes.
    with server.http.get(server.base + "/events?types=bind.allowed,policy.changed&lastEventId=0",
                         stream=True, timeout=30) as response:
        assert response.status_code == 200
        head = next(response.iter_content(chunk_size=None))
        assert head.startswith(b"retry: 3000"), head
        response._content, response._content_consumed = b"", True  # checked without its endless body
        contract.check("GET", "/events", response)
    for query in ("types=bind.opened", "sessionId=%20", "lastEventId=x"):
        answer = server.http.get(server.base + "/events?" + query, timeout=30)
        assert answer.status_code == 400, (query, answer.text)
        contract.check("GET", "/events", answer)


# --------------------------------------------------------------------------- sessions

def test_sessions(api):
    body = {"id": "ws17-1", "clientAddress": "10.1.2.3", "clientType": "firewall-client",
            "clientMachineName": "WS-17", "user": {"name": "CONTOSO\\alice", "groups": ["CONTOSO\\FTP Users"]}}
    created = api.call("POST", "/sessions", 201, body)
    assert created.headers["Location"] == "/sessions/ws17-1"
    problem(api.call("POST", "/sessions", 409, body), "FWX_E_ALREADY_EXISTS")
    problem(api.call("POST", "/sessions", 400, {"clientAddress": "10.1.2.3", "clientAdress": "10.1.2.3"}),
            "E_INVALIDARG", field="clientAdress")
    problem(api.call("POST", "/sessions", 415, raw=b'{"clientAddress": "10.1.2.3"}', content_type="text/plain"),
            "E_INVALIDARG")
    other = api.call("POST", "/sessions", 201, {"clientAddress": "2001:db8::7", "clientType": "securenat"}).json()
    state["other_session"] = other["id"]

    first = api.call("GET", "/sessions?limit=1", 200).json()
    assert first["nextCursor"] is not None
    api.call("GET", "/sessions?cursor=" + urllib.parse.quote(first["nextCursor"]), 200)
    api.call("GET", "/sessions?state=active&user=contoso%5Calice&clientAddress=10.0.0.0%2F8", 200)
    problem(api.call("GET", "/sessions?limit=0", 400), "E_INVALIDARG", field="limit")

    api.call("GET", "/sessions/ws17-1", 200)
    problem(api.call("GET", "/sessions/ws17-9", 404), "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)")


# --------------------------------------------------------------------------- binds

def test_binds(api):
    udp = api.call("POST", "/sessions/ws17-1/binds", 201, {"protocol": "udp", "address": "203.0.113.10:40000"}).json()
    tcp = api.call("POST", "/sessions/ws17-1/binds", 201, {"protocol": "tcp", "address": "203.0.113.10:40001"}).json()
    state["udp_bind"], state["tcp_bind"] = udp["id"], tcp["id"]
    conflict = problem(api.call("POST", f"/sessions/{state['other_session']}/binds", 409,
                                {"protocol": "udp", "address": "0.0.0.0:40000"}), "HRESULT_FROM_WIN32(WSAEADDRINUSE)")
    assert conflict["conflict"] == {"sessionId": "ws17-1", "bindId": udp["id"]}
    problem(api.call("POST", "/sessions/ws17-1/binds", 400, {"protocol": "udp", "address": "203.0.113.10:0"}),
            "E_INVALIDARG", field="address")
    problem(api.call("POST", "/sessions/ws17-9/binds", 404, {"protocol": "udp", "address": "203.0.113.10:40009"}),
            "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)")

    api.call("GET", "/sessions/ws17-1/binds?state=pending", 200)
    problem(api.call("GET", "/sessions/ws17-1/binds?state=bogus", 400), "E_INVALIDARG", field="state")
    api.call("GET", f"/sessions/ws17-1/binds/{udp['id']}", 200)
    api.call("GET", "/sessions/ws17-1/binds/b-999999", 404)
    api.call("GET", "/sessions/ws17-1/binds/not-a-bind", 404)

    problem(api.call("PUT", f"/sessions/ws17-1/binds/{udp['id']}/ip-filter", 409, {"ipFilter": None}),
            "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)")
    problem(api.call("DELETE", f"/sessions/ws17-1/binds/{udp['id']}/ip-filter", 409),
            "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)")

    holders = api.call("GET", "/binds?address=203.0.113.10%3A40000&protocol=udp", 200).json()
    assert [bind["id"] for bind in holders["items"]] == [udp["id"]]
    assert len(api.call("GET", "/binds?address=0.0.0.0%3A40001&limit=1", 200).json()["items"]) == 1
    problem(api.call("GET", "/binds", 400), "E_INVALIDARG", field="address")
    problem(api.call("GET", "/binds?address=203.0.113.10", 400), "E_INVALIDARG", field="address")
    problem(api.call("GET", "/binds?address=203.0.113.10%3A1&protocol=sctp", 400), "E_INVALIDARG", field="protocol")


# --------------------------------------------------------------------------- RetroactiveAllowBind

def test_retroactive_allow_bind(api):
    path = "/sessions/ws17-1/retroactive-binds"
    bad = {"protocol": "tcp", "address": "203.0.113.10:40001", "protocolGuid": FTP, "flags": ["bidirectional"]}
    body = problem(api.call("POST", path, 400, bad), "E_INVALIDARG", field="flags[0]")
    assert body["errors"][0]["reason"] == "is only valid for protocol udp"

    sip = {"protocol": "udp", "address": "203.0.113.10:40000", "protocolGuid": SIP.upper(),
           "flags": ["bidirectional", "increase-receive-buffer"],
           "ipFilter": {"include": ["198.51.100.0/24"], "exclude": ["198.51.100.13"]}}
    denied = problem(api.call("POST", path, 403, sip), "FWX_E_PROTOCOL_RULES_DENIED")
    assert denied["code"] == "0xC004000D"

    rule = api.call("POST", "/rules", 201, {"name": "SIP for everyone", "action": "allow", "protocols": [SIP],
                                            "users": ["All Users"]}).json()
    state["sip_rule"] = rule["id"]

    allowed = api.call("POST", path, 200, sip).json()
    assert allowed["hresult"] == "S_OK" and allowed["binds"][0]["receiveBufferBytes"] == 65536
    again = api.call("POST", path, 200, {**sip, "lifetimeSeconds": 3600}).json()
    assert again["hresult"] == "S_FALSE" and again["binds"][0]["expiresAt"] is not None
    problem(api.call("POST", path, 400, {**sip, "lifetimeSeconds": 0}), "E_INVALIDARG", field="lifetimeSeconds")
    problem(api.call("POST", path, 404, {**sip, "ipFilter": None, "ipFilterId": "f-404"}),
            "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", field="ipFilterId")
    problem(api.call("POST", path, 404, {**sip, "address": "203.0.113.10:40002"}), "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)")
    problem(api.call("POST", "/sessions/ws17-9/retroactive-binds", 404, sip), "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)")


def test_set_bind_ip_filter(api):
    bind = f"/sessions/ws17-1/binds/{state['udp_bind']}/ip-filter"
    stored = api.call("POST", "/ip-filters", 201, {"include": ["198.51.100.7"]}).json()
    state["referenced_filter"] = stored["id"]
    updated = api.call("PUT", bind, 200, {"ipFilterId": stored["id"]}).json()
    assert updated["ipFilterId"] == stored["id"] and updated["ipFilter"] is None
    problem(api.call("DELETE", f"/ip-filters/{stored['id']}", 409), "HRESULT_FROM_WIN32(ERROR_BUSY)")
    inline = api.call("PUT", bind, 200, {"ipFilter": {"include": ["198.51.100.0/24"]}}).json()
    assert inline["ipFilter"] == {"ranges": ["198.51.100.0/24"]}
    lifted = api.call("DELETE", bind, 200).json()
    assert lifted["ipFilter"] is None and lifted["ipFilterId"] is None
    problem(api.call("DELETE", bind, 400, {"ipFilter": None}), "E_INVALIDARG", field="")
    api.call("PUT", bind, 200, {"ipFilter": {"include": ["198.51.100.0/24"]}})
    problem(api.call("PUT", bind, 400, {"ipFilter": None, "ipFilterId": stored["id"]}), "E_INVALIDARG")
    problem(api.call("PUT", bind, 404, {"ipFilterId": "f-404"}), "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", field="ipFilterId")
    api.call("DELETE", f"/ip-filters/{stored['id']}", 204)


# --------------------------------------------------------------------------- decisions

def test_decisions(api):
    inbound = {"protocol": "udp", "direction": "inbound", "source": "198.51.100.7:5004",
               "destination": "203.0.113.10:40000"}
    decision = api.call("POST", "/decisions", 200, inbound).json()
    assert decision["verdict"] == "accept"
    outbound_tcp = {"protocol": "tcp", "direction": "outbound", "source": "203.0.113.10:40001",
                    "destination": "198.51.100.7:5004"}
    problem(api.call("POST", "/decisions", 400, outbound_tcp), "E_INVALIDARG", field="direction")

    unknown = {**inbound, "destination": "203.0.113.99:1"}
    results = api.call("POST", "/decisions/batch", 200, {"decisions": [inbound, unknown]}).json()["results"]
    assert [r["reason"] for r in results] == ["allowed", "no-bind"]
    problem(api.call("POST", "/decisions/batch", 400, {"decisions": [inbound, outbound_tcp]}), "E_INVALIDARG",
            field="decisions[1].direction")


# --------------------------------------------------------------------------- protocols

def test_protocols(api):
    listed = api.call("GET", "/protocols", 200)
    version = listed.headers["ETag"]
    problem(api.call("GET", "/protocols?cursor=abc", 400), "E_INVALIDARG", field="cursor")

    definition = {"name": "RTP media", "primaryConnections": [
        {"protocol": "udp", "ports": "16384-32767", "direction": "send-receive"}]}
    problem(api.call("POST", "/protocols", 412, definition, headers={"If-Match": '"999999"'}),
            "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)")
    created = api.call("POST", "/protocols", 201, definition, headers={"If-Match": version})
    guid = created.json()["guid"]
    assert created.headers["Location"] == f"/protocols/{guid}"
    problem(api.call("POST", "/protocols", 409, {**definition, "guid": SIP}), "FWX_E_ALREADY_EXISTS")

    fetched = api.call("GET", f"/protocols/{guid}", 200)
    api.call("GET", "/protocols/not-a-guid", 404)
    api.call("PUT", f"/protocols/{guid}", 200, {**definition, "name": "RTP"}, headers={"If-Match": fetched.headers["ETag"]})
    problem(api.call("PUT", f"/protocols/{FTP}", 403, {"name": "FTP", "primaryConnections": [
        {"protocol": "tcp", "ports": "2121", "direction": "outbound"}]}), "E_ACCESSDENIED")

    rule = api.call("POST", "/rules", 201, {"name": "RTP", "action": "allow", "protocols": [guid],
                                            "users": ["All Authenticated Users"]}).json()
    problem(api.call("DELETE", f"/protocols/{guid}", 409), "HRESULT_FROM_WIN32(ERROR_BUSY)")
    api.call("DELETE", f"/rules/{rule['id']}", 204)
    api.call("DELETE", f"/protocols/{guid}", 204)
    problem(api.call("DELETE", f"/protocols/{FTP}", 403), "E_ACCESSDENIED")


# --------------------------------------------------------------------------- rules

def test_rules(api):
    listed = api.call("GET", "/rules", 200)
    assert listed.json()["items"][-1]["isDefault"] is True
    problem(api.call("GET", "/rules?limit=abc", 400), "E_INVALIDARG", field="limit")

    unknown = "0f6d2c1e-9a55-4e0b-8d7c-3c2b1a0f9e8d"
    problem(api.call("POST", "/rules", 400, {"name": "x", "action": "allow", "protocols": [unknown], "users": ["All Users"]}),
            "E_INVALIDARG", field="protocols[0]")
    ftp_rule = api.call("POST", "/rules", 201, {
        "name": "FTP for FTP Users", "action": "allow", "protocols": [FTP], "users": ["CONTOSO\\FTP Users"],
        "sourceAddresses": ["10.0.0.0/8"], "position": 1}).json()
    except_rule = api.call("POST", "/rules", 201, {
        "name": "deny all but FTP", "enabled": False, "action": "deny", "protocols": {"except": [FTP]},
        "users": ["All Users"]}).json()

    evaluation = api.call("POST", "/rules/evaluate", 200, {"sessionId": "ws17-1", "protocolGuid": FTP}).json()
    assert evaluation["ruleId"] == ftp_rule["id"]
    api.call("POST", "/rules/evaluate", 200, {"user": None, "clientAddress": "192.0.2.1", "protocolGuid": FTP})
    problem(api.call("POST", "/rules/evaluate", 404, {"sessionId": "ws17-9", "protocolGuid": FTP}),
            "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)")

    fetched = api.call("GET", f"/rules/{ftp_rule['id']}", 200)
    api.call("GET", "/rules/default", 200)
    api.call("GET", "/rules/r-404", 404)
    api.call("PUT", f"/rules/{ftp_rule['id']}", 200, {
        "name": "FTP for FTP Users", "action": "allow", "protocols": [FTP], "users": ["CONTOSO\\FTP Users"],
        "sourceAddresses": None}, headers={"If-Match": fetched.headers["ETag"]})
    problem(api.call("PUT", "/rules/default", 403, {"name": "x", "action": "allow", "protocols": "any",
                                                    "users": ["All Users"]}), "E_ACCESSDENIED")
    problem(api.call("DELETE", f"/rules/{except_rule['id']}", 412, headers={"If-Match": '"0"'}),
            "HRESULT_FROM_WIN32(ERROR_REVISION_MISMATCH)")
    api.call("DELETE", f"/rules/{except_rule['id']}", 204)
    problem(api.call("DELETE", "/rules/default", 403), "E_ACCESSDENIED")


# --------------------------------------------------------------------------- IP filters

def test_ip_filters(api):
    first = api.call("POST", "/ip-filters", 201, {"include": ["198.51.100.0/24"], "exclude": ["198.51.100.13"]}).json()
    problem(api.call("POST", "/ip-filters", 400, {"include": ["198.51.100.1/24"]}), "E_INVALIDARG", field="include[0]")
    fid = first["id"]
    api.call("GET", "/ip-filters", 200)
    problem(api.call("GET", "/ip-filters?foo=1", 400), "E_INVALIDARG", field="foo")
    api.call("GET", f"/ip-filters/{fid}", 200)
    api.call("GET", "/ip-filters/f-404", 404)

    api.call("POST", f"/ip-filters/{fid}/include-range", 200, {"range": "2001:db8::/32"})
    api.call("POST", "/ip-filters/f-404/include-range", 404, {"range": "192.0.2.1"})
    api.call("POST", f"/ip-filters/{fid}/exclude-range", 200, {"range": "198.51.100.200-198.51.100.255"})
    problem(api.call("POST", f"/ip-filters/{fid}/exclude-range", 400, {"range": "192.0.2.9-192.0.2.7"}),
            "E_INVALIDARG", field="range")

    clone = api.call("POST", f"/ip-filters/{fid}/clone", 201).json()
    problem(api.call("POST", f"/ip-filters/{fid}/clone", 400, {"unexpected": True}), "E_INVALIDARG")
    api.call("POST", f"/ip-filters/{fid}/include-filter", 200, {"filterId": clone["id"]})
    problem(api.call("POST", f"/ip-filters/{fid}/include-filter", 404, {"filterId": "f-404"}),
            "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", field="filterId")
    api.call("POST", f"/ip-filters/{clone['id']}/exclude-filter", 200, {"filterId": fid})
    problem(api.call("POST", f"/ip-filters/{fid}/exclude-filter", 415, {"filterId": clone["id"]}, content_type=None),
            "E_INVALIDARG")

    contains = api.call("GET", f"/ip-filters/{fid}/contains?address=198.51.100.7", 200).json()
    assert contains == {"included": True, "hresult": "S_OK", "code": "0x00000000"}
    problem(api.call("GET", f"/ip-filters/{fid}/contains", 400), "E_INVALIDARG", field="address")
    compare = api.call("GET", f"/ip-filters/{clone['id']}/compare?other={fid}", 200).json()
    assert compare["equal"] is False and compare["hresult"] == "S_FALSE"
    problem(api.call("GET", f"/ip-filters/{fid}/compare?other=f-404", 404), "HRESULT_FROM_WIN32(ERROR_NOT_FOUND)",
            field="other")

    api.call("DELETE", f"/ip-filters/{clone['id']}", 204)
    api.call("DELETE", f"/ip-filters/{clone['id']}", 404)

    # A bodiless POST takes {} as no body: generated clients send one, and so does curl -d '{}' (as a form).
    for body, content_type in [(b"{}", "application/json"), (b" { } ", "application/x-www-form-urlencoded")]:
        copy = api.call("POST", f"/ip-filters/{fid}/clone", 201, raw=body, content_type=content_type).json()
        api.call("DELETE", f"/ip-filters/{copy['id']}", 204, raw=b"{}")
    refused = problem(api.call("POST", f"/ip-filters/{fid}/clone", 400, raw=b"[]"), "E_INVALIDARG", field="")
    assert refused["detail"] == "body must be empty or {}, as this operation takes no request body"


# --------------------------------------------------------------------------- closing

def test_close_bind_and_session(api):
    bind = f"/sessions/ws17-1/binds/{state['tcp_bind']}"
    assert api.call("DELETE", bind, 200).json()["state"] == "terminating"
    problem(api.call("DELETE", bind, 409), "FWX_E_TERMINATING")
    assert api.call("DELETE", "/sessions/ws17-1", 200).json()["state"] == "terminating"
    problem(api.call("DELETE", "/sessions/ws17-1", 409), "FWX_E_TERMINATING")
    problem(api.call("POST", "/sessions/ws17-1/retroactive-binds", 409, {
        "protocol": "udp", "address": "203.0.113.10:40000", "protocolGuid": SIP}), "FWX_E_TERMINATING")


# --------------------------------------------------------------------------- outside any operation

def test_method_not_allowed_and_unknown_path(server, contract):
    response = server.http.request("PATCH", server.base + "/sessions", timeout=30)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"POST", "GET"}
    contract.check_response(response, {"$ref": "#/components/responses/MethodNotAllowed"},
                            "/components/responses/MethodNotAllowed", "PATCH /sessions")
    response = server.http.get(server.base + "/no-such-resource", timeout=30)
    assert response.status_code == 404
    contract.check_response(response, {"$ref": "#/components/responses/NotFound"},
                            "/components/responses/NotFound", "GET /no-such-resource")


def test_a_foreign_host_without_tokens(server, contract):
    response = server.http.post(server.base + "/rules", json={"name": "x", "action": "allow", "protocols": "any",
                                                                "users": ["All Users"]},
                                headers={"Host": "attacker.example"}, timeout=30)
    assert response.status_code == 403
    contract.check_response(response, {"$ref": "#/components/responses/NotLoopback"},
                            "/components/responses/NotLoopback", "POST /rules (Host: attacker.example)")


# --------------------------------------------------------------------------- tokens and limits

def test_tokens_and_limits(guarded_server, contract):
    anonymous = Client(guarded_server, contract)
    viewer = Client(guarded_server, contract, {"Authorization": "Bearer " + TOKENS["viewer"]})
    admin = Client(guarded_server, contract, {"Authorization": "Bearer " + TOKENS["admin"]})

    anonymous.call("GET", "/healthz", 200)
    problem(anonymous.call("GET", "/sessions", 401), "E_ACCESSDENIED")
    wrong = Client(guarded_server, contract, {"Authorization": "Bearer not-a-token"})
    assert "invalid_token" in wrong.call("GET", "/sessions", 401).headers["WWW-Authenticate"]
    viewer.call("GET", "/sessions", 200)
    problem(viewer.call("POST", "/sessions", 403, {"clientAddress": "10.9.9.9"}), "E_ACCESSDENIED")

    session = admin.call("POST", "/sessions", 201, {"clientAddress": "10.9.9.9"}).json()
    admin.call("POST", f"/sessions/{session['id']}/binds", 201, {"protocol": "tcp", "address": "192.0.2.50:2000"})
    busy = admin.call("POST", f"/sessions/{session['id']}/binds", 429, {"protocol": "tcp", "address": "192.0.2.50:2001"})
    problem(busy, "FWX_E_IS_BUSY")

    big = {"decisions": [{"protocol": "udp", "direction": "inbound", "source": "198.51.100.7:5004",
                          "destination": "203.0.113.10:40000"}] * 40}
    problem(admin.call("POST", "/decisions/batch", 413, big), "E_INVALIDARG")


# --------------------------------------------------------------------------- audit trail

def test_audit_trail(api, contract, tmp_path_factory):
    # The module's server keeps no trail (memory store): 409. A second one on SQLite has one.
    problem(api.call("GET", "/audit", 409), "HRESULT_FROM_WIN32(ERROR_INVALID_STATE)")
    durable = Server(["--data", str(tmp_path_factory.mktemp("audit"))])
    try:
        client = Client(durable, contract)
        session = client.call("POST", "/sessions", 201, {"clientAddress": "10.1.2.3"}).json()
        client.call("POST", f"/sessions/{session['id']}/binds", 201, {"protocol": "tcp", "address": "203.0.113.10:40000"})
        client.call("POST", "/ip-filters", 201, {"include": ["198.51.100.0/24"]})
        page = client.call("GET", "/audit?limit=2", 200).json()
        assert [record["action"] for record in page["items"]] == ["session.create", "bind.create"]
        assert page["nextCursor"]
        rest = client.call("GET", f"/audit?cursor={page['nextCursor']}&since=2000-01-01T00:00:00Z", 200).json()
        assert [record["action"] for record in rest["items"]] == ["ip-filter.create"]
        assert rest["items"][0]["details"]["ipFilterId"]
        client.call("GET", "/audit?action=bind.create&token=anonymous-loopback&hresult=S_OK", 200)
        problem(client.call("GET", "/audit?until=tomorrow", 400), "E_INVALIDARG", "until")
        problem(client.call("GET", "/audit?bind=7", 400), "E_INVALIDARG", "bind")
    finally:
        durable.stop()


# --------------------------------------------------------------------------- coverage

def test_every_operation_was_exercised_both_ways(contract):
    missing = []
    for path, item in contract.spec["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation_id = item[method]["operationId"]
            seen = contract.exercised.get(operation_id, set())
            for outcome in ("ok", "error"):
                if outcome not in seen:
                    missing.append(f"{operation_id} ({method.upper()} {path}): no {outcome} answer checked")
    assert not missing, "\n  ".join(["operations not exercised:", *missing])
