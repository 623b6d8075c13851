"""openapi.yaml is a valid OpenAPI 3.1 document and describes exactly the routes the server serves.

The server's route table is printed by `fwsessiond routes` (`METHOD /path/{param} operationId` per
line); it must equal the set of (method, path, operationId) in openapi.yaml, both ways. Every
operation must declare at least one problem+json error response, and every 2xx JSON response a
schema.

The binary is $FWSESSIOND_BIN, or .build/debug/fwsessiond under the repository root.
"""
import os
import pathlib
import subprocess

import pytest
import yaml
from openapi_spec_validator import validate

from openapi_strict import RULES, rule_schemas, strict

REPO = pathlib.Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def binary_path() -> pathlib.Path:
    """$FWSESSIOND_BIN (absolute, or relative to the working directory or else to the repository
    root), or .build/debug/fwsessiond under the repository root."""
    path = pathlib.Path(os.environ.get("FWSESSIOND_BIN", ".build/debug/fwsessiond"))
    if path.is_absolute():
        return path
    if "FWSESSIOND_BIN" in os.environ and path.exists():
        return path.resolve()
    return REPO / path


@pytest.fixture(scope="module")
def spec():
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def operations(spec):
    """(method, path, operation) for every operation of the document."""
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def resolve(spec, node):
    """Follows local `$ref`s (`#/components/...`) until a non-reference object."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are expected, got {ref}"
        assert ref not in seen, f"reference cycle at {ref}"
        seen.add(ref)
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_document_is_valid(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_operation_ids_are_unique(spec):
    ids = [op["operationId"] for _, _, op in operations(spec)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate operationIds in openapi.yaml: {duplicates}"


def test_routes_match_openapi(spec):
    binary = binary_path()
    if not binary.exists():
        pytest.fail(f"fwsessiond binary not found at {binary}; build it (make build) or set FWSESSIOND_BIN")
    result = subprocess.run(
        [str(binary), "routes"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, f"`fwsessiond routes` failed ({result.returncode}):\n{result.stderr}"

    served = set()
    for line in result.stdout.splitlines():
        if not line.strip():
            continue
        parts = line.split()
        assert len(parts) == 3, f"unexpected line from `fwsessiond routes`: {line!r}"
        served.add((parts[0].upper(), parts[1], parts[2]))
    assert served, "`fwsessiond routes` printed no routes"

    documented = {(method, path, op["operationId"]) for method, path, op in operations(spec)}

    def listing(entries):
        return "\n".join(f"  {m} {p} {o}" for m, p, o in sorted(entries, key=lambda e: (e[1], e[0])))

    missing = served - documented
    extra = documented - served
    message = []
    if missing:
        message.append("served by the server but missing from openapi.yaml:\n" + listing(missing))
    if extra:
        message.append("in openapi.yaml but not served by the server:\n" + listing(extra))
    assert not missing and not extra, "\n".join(message)


def test_every_operation_declares_a_problem_response(spec):
    lacking = []
    for method, path, op in operations(spec):
        has_problem = False
        for status, response in op.get("responses", {}).items():
            if not str(status)[0] in "45":
                continue
            content = resolve(spec, response).get("content", {})
            if "application/problem+json" in content and "schema" in content["application/problem+json"]:
                has_problem = True
        if not has_problem:
            lacking.append(f"{method} {path} ({op['operationId']})")
    assert not lacking, "operations without an application/problem+json error response:\n  " + "\n  ".join(lacking)


def test_every_success_json_response_has_a_schema(spec):
    lacking = []
    for method, path, op in operations(spec):
        successes = [s for s in op.get("responses", {}) if str(s).startswith("2")]
        redirects = [s for s in op.get("responses", {}) if str(s).startswith("3")]
        if not successes and not redirects:
            lacking.append(f"{method} {path}: no 2xx (or, for a redirect, 3xx) response")
        for status in successes:
            content = resolve(spec, op["responses"][status]).get("content", {})
            for media_type, media in content.items():
                if media_type == "application/json" or media_type.endswith("+json"):
                    if "schema" not in media:
                        lacking.append(f"{method} {path} {status} {media_type}: no schema")
    assert not lacking, "\n  ".join(["2xx JSON responses without a schema:", *lacking])


def test_error_responses_use_the_problem_schema(spec):
    problem_ref = "#/components/schemas/Problem"
    wrong = []
    for method, path, op in operations(spec):
        for status, response in op.get("responses", {}).items():
            if str(status)[0] not in "45":
                continue
            content = resolve(spec, response).get("content", {})
            for media_type, media in content.items():
                if media_type != "application/problem+json" or media.get("schema", {}).get("$ref") != problem_ref:
                    wrong.append(f"{method} {path} {status} {media_type}")
    assert not wrong, "error responses not application/problem+json with the Problem schema:\n  " + "\n  ".join(wrong)


def test_examples_match_their_schemas(spec):
    """Every example of a request or response body validates against the schema beside it, read
    strictly (openapi_strict.py: response objects closed, `x-fwsessiond-rules` applied)."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = strict(spec)
    base = "urn:fwsessiond:openapi"
    registry = Registry().with_resource(base, Resource.from_contents(spec, default_specification=DRAFT202012))

    def escape(token):
        return token.replace("~", "~0").replace("/", "~1")

    def deref(node, pointer):
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"][1:]
            node = spec
            for token in pointer.lstrip("/").split("/"):
                node = node[token.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    failures = []

    def check_content(content, pointer):
        for media_type, media in content.items():
            if "schema" not in media:
                continue
            media_pointer = f"{pointer}/content/{escape(media_type)}"
            validator = Draft202012Validator(
                {"$ref": f"{base}#{media_pointer}/schema"}, registry=registry, format_checker=FormatChecker())
            for name, example in media.get("examples", {}).items():
                example, _ = deref(example, f"{media_pointer}/examples/{escape(name)}")
                for error in validator.iter_errors(example["value"]):
                    failures.append(f"{media_pointer} example {name}: {error.message}")

    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            pointer = f"/paths/{escape(path)}/{method}"
            operation = item[method]
            if "requestBody" in operation:
                body, body_pointer = deref(operation["requestBody"], f"{pointer}/requestBody")
                check_content(body.get("content", {}), body_pointer)
            for status, response in operation["responses"].items():
                response, response_pointer = deref(response, f"{pointer}/responses/{escape(str(status))}")
                check_content(response.get("content", {}), response_pointer)
    for name, response in spec.get("components", {}).get("responses", {}).items():
        check_content(response.get("content", {}), f"/components/responses/{escape(name)}")
    assert not failures, "examples that do not match their schemas:\n  " + "\n  ".join(sorted(set(failures)))


def test_rules_generators_cannot_take_are_json_schema(spec):
    """Each `x-fwsessiond-rules` is a valid JSON Schema (2020-12) on an object schema, and the strict
    reading is itself a valid OpenAPI 3.1 document."""
    from jsonschema import Draft202012Validator

    found = rule_schemas(spec)
    assert {pointer for pointer, _ in found} >= {
        "/components/schemas/Problem/" + RULES, "/components/schemas/RetroactiveAllowBindRequest/" + RULES}
    for pointer, rules in found:
        Draft202012Validator.check_schema(rules)
    validate(strict(spec, tokens=True))


def test_tokenless_mode_is_an_alternative_of_security(spec):
    """The loopback-open mode (no tokens configured) is the `{}` alternative of the global security;
    the operations that never need a token say `security: []`."""
    assert {"bearerAuth": []} in spec["security"] and {} in spec["security"]
    open_operations = {op["operationId"] for _, _, op in operations(spec) if op.get("security") == []}
    assert open_operations == {"health", "ready", "statusPage", "statusPageRedirect"}
