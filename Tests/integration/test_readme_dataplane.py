"""The README's data plane walk-through, replayed in network namespaces: the gateway at
203.0.113.10 runs fwsessiond with the data plane on loopback port 8080, the FTP server at
198.51.100.7 (and a stranger at .8) really connect, and every command's output must match."""
import re
import subprocess

from conftest import REPO
from netns import Topology, require_namespaces


class WalkthroughTopology(Topology):
    GATEWAY_V4 = ["203.0.113.10"]
    GATEWAY_V6 = []
    PEERS_V4 = ["198.51.100.7", "198.51.100.8"]
    PEERS_V6 = []


def steps():
    text = (REPO / "README.md").read_text()
    section = text.split("<!-- dataplane-walkthrough:start -->")[1].split("<!-- dataplane-walkthrough:end -->")[0]
    found = []
    for replays, block in re.findall(r"((?:<!-- replay: [^\n]*? -->\n)*)```console\n(.*?)```", section, re.S):
        lines = block.strip("\n").split("\n")
        assert lines[0].startswith("$ "), block
        actions = re.findall(r"<!-- replay: tcp (\S+) -> (\S+):(\d+) (connects|refused) -->", replays)
        found.append((actions, lines[0][2:], "\n".join(lines[1:])))
    return found


def words(text):
    return text.split()


def test_readme_dataplane_walkthrough_is_true(tmp_path):
    require_namespaces()
    topology = WalkthroughTopology(tmp_path)
    try:
        server = topology.start_server("--listen", "127.0.0.1:8080")
        topology.gw.listen("tcp", "203.0.113.10", 40000)
        walkthrough = steps()
        assert len(walkthrough) >= 8, "the walk-through lost its steps"
        for actions, command, expected in walkthrough:
            for source, address, port, outcome in actions:
                # Half a second: one SYN only (the first retransmission comes after a second), so the
                # discard counts the README shows are exact.
                [connection] = topology.pe.tcp_connect([((source, 0), (address, int(port)))], timeout=0.5)
                assert (connection is not None) == (outcome == "connects"), f"{source} -> {address}:{port}"
            assert "localhost:8080" in command or command.startswith("sudo nft"), command
            real = command.removeprefix("sudo ")
            output = subprocess.run(["ip", "netns", "exec", topology.gateway, "bash", "-c", real],
                                    capture_output=True, text=True, timeout=30)
            assert words(output.stdout) == words(expected), \
                f"README step changed: {command}\n{output.stdout}{output.stderr}\n{server.log}"
    finally:
        topology.remove()
