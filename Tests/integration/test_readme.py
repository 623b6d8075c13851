"""The README's walk-through is replayed against a fresh server: its output must stay true."""
import json
import re
import subprocess

from conftest import REPO

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def walkthrough_steps():
    text = (REPO / "README.md").read_text()
    section = text.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    steps = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        lines = block.strip("\n").split("\n")
        assert lines[0].startswith("$ "), block
        steps.append((lines[0][2:], "\n".join(lines[1:])))
    return steps


def normalise(output):
    return json.loads(TIMESTAMP.sub("<time>", output))


def test_readme_walkthrough_is_true(start_server):
    server = start_server(store="memory")
    steps = walkthrough_steps()
    assert len(steps) >= 7, "the walk-through lost its steps"
    for command, expected in steps:
        assert "localhost:8080" in command
        real = command.replace("localhost:8080", server.base_url.removeprefix("http://"))
        output = subprocess.run(["bash", "-c", real], capture_output=True, text=True, timeout=30).stdout
        assert normalise(output) == normalise(expected), f"README step changed: {command}\n{output}"
