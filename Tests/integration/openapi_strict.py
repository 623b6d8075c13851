"""openapi.yaml as the project's tests hold the server to it: the strict reading.

The document is written so that code generators take it whole (its section "For code generators
and validators"): response objects are open, since clients must ignore members they do not know,
and the rules generators cannot take live in the extension `x-fwsessiond-rules` of their schema.
The server is held to more than that, and `strict()` says how much:

* every `x-fwsessiond-rules` schema is applied with the schema it belongs to (added to its `allOf`);
* every object schema that lists `properties` and says nothing of `additionalProperties` is closed:
  the server writes exactly the members listed (request schemas are closed in the document itself);
* with `tokens=True`, `security` loses its `{}` alternative, the loopback-open mode of a server
  without tokens: a server that has tokens must refuse a call without one.
"""
import copy

RULES = "x-fwsessiond-rules"


def _close_objects(schema):
    """Closes every object schema that describes a value under `schema`: its members, items and
    `allOf`/`anyOf`/`oneOf` branches. Conditions (`if`, `then`, `not`, `contains`, and everything in
    `x-fwsessiond-rules`) stay as written: a closed `if` would stop matching."""
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("properties"), dict) and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for member in schema.get("properties", {}).values():
        _close_objects(member)
    _close_objects(schema.get("items"))
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword, []):
            _close_objects(branch)


def _apply_rules(node):
    """Moves every `x-fwsessiond-rules` into the `allOf` of the schema that holds it."""
    if isinstance(node, list):
        for item in node:
            _apply_rules(item)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _apply_rules(value)
    if RULES in node:
        node.setdefault("allOf", []).append(node.pop(RULES))


def _schemas(spec):
    """Every schema root of the document: components and the inline schemas of operations."""
    yield from spec.get("components", {}).get("schemas", {}).values()
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                for media in response.get("content", {}).values():
                    if "schema" in media:
                        yield media["schema"]
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    yield media["schema"]


def strict(spec, tokens=False):
    """A deep copy of the parsed document, read strictly (see the module's docstring)."""
    result = copy.deepcopy(spec)
    for schema in _schemas(result):
        _close_objects(schema)
    _apply_rules(result)
    if tokens:
        result["security"] = [requirement for requirement in result.get("security", []) if requirement]
    return result


def rule_schemas(spec):
    """(JSON pointer, schema) of every `x-fwsessiond-rules` in the document."""
    found = []

    def walk(node, pointer):
        if isinstance(node, dict):
            for key, value in node.items():
                token = str(key).replace("~", "~0").replace("/", "~1")
                if key == RULES:
                    found.append((f"{pointer}/{token}", value))
                else:
                    walk(value, f"{pointer}/{token}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{pointer}/{index}")

    walk(spec, "")
    return found
