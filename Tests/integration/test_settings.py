"""A setting that a flag of `serve` and a key of the configuration file both set is checked in one
place: a bad value stops the start with the same reason, named by the flag or by the key."""
import json
import subprocess

import pytest

from conftest import binary

CASES = [
    ("--listen", ["listen"], "localhost:80", "must be HOST:PORT with an IP address, e.g. 127.0.0.1:8080 or [::1]:8080"),
    ("--data", ["data"], "", "must not be empty"),
    ("--store", ["store"], "disk", "must be one of sqlite, memory, postgres"),
    ("--log-level", ["logLevel"], "loud", "must be one of trace, debug, info, notice, warning, error, critical"),
    ("--log-format", ["logFormat"], "xml", "must be one of text, json"),
    ("--dataplane", ["dataplane", "kind"], "ebpf", "must be one of none, nftables"),
]


def start(arguments):
    return subprocess.run([binary(), "serve", *arguments], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("flag, key, value, reason", CASES, ids=[case[0] for case in CASES])
def test_a_flag_and_its_key_refuse_a_bad_value_alike(tmp_path, flag, key, value, reason):
    by_flag = start((["--store", "memory"] if flag != "--store" else []) + [flag, value])
    assert by_flag.returncode != 0 and f"{flag} {reason}" in by_flag.stderr, by_flag.stderr

    document = value
    for name in reversed(key):
        document = {name: document}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    by_key = start(["--store", "memory", "--config", str(path)] if key != ["store"] else ["--config", str(path)])
    assert by_key.returncode != 0 and f"{'.'.join(key)}: {reason}" in by_key.stderr, by_key.stderr
