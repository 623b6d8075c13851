"""The configuration documents match the server: deploy/fwsessiond.example.json ("every key with
its default") and the README's configuration table name exactly the keys the server reads."""
import json
import re

from conftest import REPO

READERS = re.compile(r"\b(?:optional\w*|required\w*|int|seconds)\(\"(\w+)\"")
SECTION = re.compile(r"(?:if|guard) var (\w+) = try root\.optionalObject\(\"(\w+)\"\)")
# The sections read by configuration types of their own (arrays, the data plane).
SECTION_READERS = ("ArrayConfiguration.swift", "DataPlaneConfiguration.swift")


def keys_the_server_reads():
    """Every key `ConfigurationFile.apply` (and the section readers it calls) reads, dotted below
    its section (`limits.maxBinds`)."""
    folder = REPO / "Sources" / "fwsessiond"
    source = (folder / "ConfigurationFile.swift").read_text()
    bodies = [source[source.index("static func apply(_ value: JSONValue"):source.index("private static func parseTokens")]]
    for name in SECTION_READERS:
        reader = (folder / name).read_text()
        bodies.append(reader[reader.index("static func apply("):])
    keys = set()
    for body in bodies:
        section = None
        for line in body.splitlines():
            opened = SECTION.search(line)
            if opened:
                section = opened.groups()
                continue
            if section and f"try {section[0]}.rejectUnknownKeys()" in line:
                section = None
                continue
            for key in READERS.findall(line):
                keys.add(f"{section[1]}.{key}" if section else key)
    return keys


def leaf_keys(value, prefix=""):
    if isinstance(value, dict):
        return set().union(*(leaf_keys(inner, f"{prefix}{key}.") for key, inner in value.items()))
    return {prefix.rstrip(".")}


def readme_table_keys():
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("| key | default | meaning |"):]
    table = table[:table.index("\n\n")]
    return {key for row in table.splitlines()[2:] for key in re.findall(r"`([\w.]+)`", row.split("|")[1])}


def test_the_example_configuration_and_the_readme_name_every_key_the_server_reads():
    server = keys_the_server_reads()
    assert len(server) >= 30 and {"listen", "data", "tokens", "tls.certificate", "limits.maxBinds",
                                  "timers.gracePeriodSeconds", "events.maxSubscribers"} <= server, server
    example = leaf_keys(json.loads((REPO / "deploy" / "fwsessiond.example.json").read_text()))
    assert example == server, f"missing from the example: {sorted(server - example)}; " \
                              f"not read by the server: {sorted(example - server)}"
    readme = readme_table_keys()
    assert readme == server, f"missing from the README: {sorted(server - readme)}; " \
                             f"not read by the server: {sorted(readme - server)}"


def test_the_man_page_names_every_command_line_option():
    import subprocess
    from conftest import binary
    page = (REPO / "deploy" / "fwsessiond.8").read_text().replace("\\-", "-")
    options = set()
    for command in (["serve"], ["token", "create"], ["routes"]):
        usage = subprocess.run([binary(), *command, "--help"], capture_output=True, text=True, check=True).stdout
        options |= set(re.findall(r"(--[a-z][a-z-]*)", usage)) - {"--help"}
        assert " ".join(command) in page
    assert len(options) >= 11, options
    assert not [option for option in sorted(options) if option not in page]
