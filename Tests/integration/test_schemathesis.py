"""Schemathesis against our own openapi.yaml, with every check, on the real server.

`schemathesis run openapi.yaml --checks all` generates requests for every operation of the document
(its examples, the coverage phase's boundary and negative values, property-based fuzzing, and
stateful sequences that follow the document's `links`: a session, its bind, RetroactiveAllowBind
on it, SetIpFilter on the allowed bind, IP filters and their operations) and checks each answer:
no 5xx, status code, Content-Type, headers and body as documented, schema-valid requests accepted,
schema-invalid ones rejected, 401 without a token, 405 with a correct `Allow` for undocumented
methods, created resources available. Any failure, crash or schemathesis error fails the test.

The server has tokens configured, so the auth checks test the real thing: the run uses an admin
token (every operation reachable), then a shorter one a viewer token (every write must be 403, and
that answer must be documented too). The seed is fixed, so a failure is reproducible with the same
command; the full output is kept in test-artifacts/schemathesis-<role>.txt.

The document is run in its strict reading (openapi_strict.py, written to
test-artifacts/openapi-strict.yaml): the rules kept in `x-fwsessiond-rules` for the sake of code
generators apply, response objects are closed, and `security` has no tokenless alternative, since
this server has tokens (the `{}` alternative is the loopback-open mode of a server without them).

The narrow exceptions (412 for a random If-Match on policy writes, data-generation hooks for rules
JSON Schema cannot express) are in schemathesis.toml and Tests/integration/schemathesis_hooks.py,
each with its reason.
"""
import json
import os
import re
import subprocess
import sys
import time
import tomllib

import pytest
import requests
import yaml

from conftest import REPO, binary
from openapi_strict import strict

SEED = 20261126
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ARTIFACTS = REPO / "test-artifacts"


def make_token(role):
    lines = subprocess.run([binary(), "token", "create", "--role", role, "--name", f"schemathesis-{role}"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    return lines[0], json.loads(lines[1])


@pytest.fixture(scope="module")
def operation_count():
    """Operations of openapi.yaml, less those schemathesis.toml disables (with its reason)."""
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
    config = tomllib.loads((REPO / "schemathesis.toml").read_text(encoding="utf-8"))
    disabled = {operation_id for entry in config.get("operations", []) if entry.get("enabled") is False
                for operation_id in entry.get("include-operation-id", [])}
    assert disabled <= {"streamEvents"}, f"operations disabled in schemathesis.toml: {sorted(disabled)}"
    return sum(1 for item in spec["paths"].values() for method in HTTP_METHODS
               if method in item and item[method]["operationId"] not in disabled)


@pytest.fixture
def secured(start_server):
    """A server with an in-memory store and a token for each role; `tokens[role]`."""
    tokens = {role: make_token(role) for role in ("admin", "viewer")}
    server = start_server(store="memory", config={"tokens": [entry for _, entry in tokens.values()]})
    server.tokens = {role: token for role, (token, _) in tokens.items()}
    return server


def run_schemathesis(server, role, max_examples, timeout):
    """Runs the CLI against the server; returns (exit code, output, seconds)."""
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        pytest.fail("schemathesis is not installed: pip install -r Tests/integration/requirements.txt")
    ARTIFACTS.mkdir(exist_ok=True)
    document = ARTIFACTS / "openapi-strict.yaml"
    spec = yaml.safe_load((REPO / "openapi.yaml").read_text(encoding="utf-8"))
    document.write_text(yaml.safe_dump(strict(spec, tokens=True), sort_keys=False, allow_unicode=True), encoding="utf-8")
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(REPO / "schemathesis.toml"),
        "run", str(document.relative_to(REPO)), "--url", server.base_url,
        "--header", f"Authorization: Bearer {server.tokens[role]}",
        "--checks", "all", "--max-examples", str(max_examples), "--seed", str(SEED),
        # One worker: the server's state (ids, policy version) then follows from the seed alone.
        "--workers", "1", "--request-timeout", "10", "--continue-on-failure", "--no-color",
    ]
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                            env={**os.environ, "COLUMNS": "120"})
    seconds = time.monotonic() - started
    output = result.stdout + result.stderr
    (ARTIFACTS / f"schemathesis-{role}.txt").write_text(output, encoding="utf-8")
    return result.returncode, output, seconds


def summarize(output):
    """The counts of schemathesis' summary: generated, failures, tested operations."""
    generated = re.search(r"^\s*(\d+) generated", output, re.MULTILINE)
    failures = re.search(r"(\d+) found (\d+) unique failures?", output)
    tested = re.search(r"^\s*Tested: (\d+)", output, re.MULTILINE)
    return {
        "generated": int(generated.group(1)) if generated else None,
        "failures": int(failures.group(2)) if failures else 0,
        "tested": int(tested.group(1)) if tested else None,
    }


def check_run(server, role, max_examples, operation_count, minimum_cases):
    code, output, seconds = run_schemathesis(server, role, max_examples, timeout=420)
    summary = summarize(output)
    tail = "\n".join(output.splitlines()[-60:])
    print(f"schemathesis ({role} token, --max-examples {max_examples}, --seed {SEED}): "
          f"{summary['generated']} test cases generated, {summary['failures']} failures, "
          f"{summary['tested']}/{operation_count} operations tested, {seconds:.0f} s")
    assert code == 0 and summary["failures"] == 0, f"schemathesis failed (exit {code}):\n{output}"
    assert summary["tested"] == operation_count, f"not every operation was tested:\n{tail}"
    assert summary["generated"] is not None and summary["generated"] >= minimum_cases, \
        f"too few test cases generated:\n{tail}"
    assert server.process.poll() is None, "fwsessiond exited during the run:\n" + server.log
    assert "request failed unexpectedly" not in server.log, "the server logged an unexpected failure:\n" + server.log
    assert server.get("/healthz").status_code == 200
    return summary


def test_schemathesis_all_checks_admin(secured, operation_count):
    # A rule that allows every defined protocol to every user, so the stateful phase's
    # RetroactiveAllowBind (FTP on a bind it just recorded) can succeed and SetIpFilter reach an
    # allowed bind; the generated rule writes may change it, as they may change anything else.
    admin = {"Authorization": "Bearer " + secured.tokens["admin"]}
    allow = secured.post("/rules", {"name": "schemathesis: allow all", "action": "allow", "protocols": "any",
                                    "users": ["All Users"]}, headers=admin)
    assert allow.status_code == 201, allow.text
    check_run(secured, "admin", max_examples=50, operation_count=operation_count, minimum_cases=2000)


def test_schemathesis_all_checks_viewer(secured, operation_count):
    check_run(secured, "viewer", max_examples=10, operation_count=operation_count, minimum_cases=800)


# Regression tests for what schemathesis found in the server (besides the schema fixes).

def test_a_cursor_past_the_end_is_an_empty_last_page(server):
    for path in ("/sessions", "/rules", "/protocols", "/ip-filters"):
        for cursor in ("18446744073709551615", "18553643051824565471", "99999999999999999999"):
            page = server.get(f"{path}?cursor={cursor}")
            assert page.status_code == 200, page.text
            assert page.json() == {"items": [], "nextCursor": None}
        for cursor in ("", "abc", "-1", "123456789012345678901", "1%200"):
            page = server.get(f"{path}?cursor={cursor}")
            assert page.status_code == 400, (cursor, page.text)
            assert page.json()["errors"][0]["field"] == "cursor"


def test_a_literal_path_is_not_also_a_template(server):
    # /rules/evaluate is POST only; it is not the rule with id "evaluate" of /rules/{id}.
    for method in ("GET", "PUT", "DELETE", "OPTIONS", "PATCH"):
        answer = requests.request(method, server.url("/rules/evaluate"), timeout=10)
        assert answer.status_code == 405, (method, answer.status_code, answer.text)
        assert answer.headers["Allow"] == "POST"
        assert answer.headers["Content-Type"].startswith("application/problem+json")
    head = requests.head(server.url("/rules/evaluate"), timeout=10)
    assert head.status_code == 405 and head.headers["Allow"] == "POST"
    rule = server.get("/rules/default")
    assert rule.status_code == 200 and rule.json()["id"] == "default"
    assert server.get("/rules/r-999").status_code == 404
