"""Network namespaces for data plane tests: a gateway namespace where fwsessiond runs with
`--dataplane nftables`, a peer namespace joined to it by a veth pair, and helpers to open
sockets in each. Everything is named uniquely per test and removed afterwards; traffic stays on
the veth between the two namespaces.

The API listens on loopback inside the gateway namespace; the test reaches it through a relay
(socat over a Unix socket), so nothing is added to the namespace the tests run in.
"""
import json
import os
import pathlib
import random
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import Server, binary

AGENT = pathlib.Path(__file__).parent / "netns_agent.py"


def run(*argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def namespaces_available():
    """Whether this process may make network namespaces and load nftables tables (root, in CI)."""
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("nft") is None:
        return False
    name = f"fws-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode == 0
    if made:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return made


def require_namespaces():
    if namespaces_available():
        return
    if os.geteuid() == 0:
        pytest.fail("running as root but network namespaces or nft are unavailable: the data plane tests must run here")
    pytest.skip("data plane tests need root (network namespaces, nftables); CI runs them as root")


class Agent:
    """netns_agent.py running in one namespace."""

    def __init__(self, namespace):
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, "python3", "-u", str(AGENT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lock = threading.Lock()

    def call(self, **command):
        with self.lock:
            self.process.stdin.write(json.dumps(command) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("agent died: " + self.process.stderr.read())
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"agent: {answer['error']} for {command}")
        return answer

    def listen(self, protocol, address, port):
        return self.call(op="listen", protocol=protocol, address=address, port=port)

    def udp_send(self, source, destination, data="x"):
        return self.call(op="udp_send", source=list(source), destination=list(destination), data=data)

    def udp_send_many(self, packets):
        return self.call(op="udp_send_many", packets=[[list(s), list(d), p] for s, d, p in packets])["sent"]

    def tcp_connect(self, pairs, timeout=0.5, keep=True):
        """Connection ids (None: not connected); with keep=False connected ones are closed (id 0)."""
        return self.call(op="tcp_connect", pairs=[[list(s), list(d)] for s, d in pairs], timeout=timeout,
                         keep=keep)["connected"]

    def tcp_send(self, connection, data="x"):
        return self.call(op="tcp_send", id=connection, data=data)

    def received(self, settle=0.2):
        return self.call(op="received", settle=settle)["received"]

    def stop(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Topology:
    """gateway <-veth-> peers. The gateway owns two IPv4 and two IPv6 addresses (specific binds on
    one, wildcard binds cover both); the peer side owns 32 of each family to send from."""

    GATEWAY_V4 = ["10.77.0.1", "10.77.0.2"]
    GATEWAY_V6 = ["fd77::1", "fd77::2"]
    PEERS_V4 = [f"10.77.0.{100 + i}" for i in range(32)]
    PEERS_V6 = [f"fd77::{0x100 + i:x}" for i in range(32)]

    # The host's own firewall, as the README suggests: drop by default, let through what
    # fwsessiond's table accepted (its mark), loopback (the API relay) and ICMP (neighbour
    # discovery).
    HOST_RULESET = """
table inet host {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    meta l4proto { icmp, ipv6-icmp } accept
    meta mark & 0x00100000 == 0x00100000 accept
  }
}
"""

    def __init__(self, tmp_path):
        tag = f"{os.getpid() % 10000}{random.randrange(1000):03d}"
        self.gateway = f"fws-gw-{tag}"
        self.peer = f"fws-pe-{tag}"
        self.tmp_path = tmp_path
        self.servers = []
        self.relays = []
        self.agents = []
        run("ip", "netns", "add", self.gateway)
        run("ip", "netns", "add", self.peer)
        veth_gw, veth_pe = f"vg{tag}", f"vp{tag}"
        run("ip", "link", "add", veth_gw, "type", "veth", "peer", "name", veth_pe)
        run("ip", "link", "set", veth_gw, "netns", self.gateway)
        run("ip", "link", "set", veth_pe, "netns", self.peer)
        for namespace, device, v4, v6 in ((self.gateway, veth_gw, self.GATEWAY_V4, self.GATEWAY_V6),
                                          (self.peer, veth_pe, self.PEERS_V4, self.PEERS_V6)):
            run("ip", "-n", namespace, "link", "set", "lo", "up")
            for address in v4:
                run("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", device)
            for address in v6:
                run("ip", "-n", namespace, "addr", "add", f"{address}/64", "dev", device, "nodad")
            run("ip", "-n", namespace, "link", "set", device, "up")
        # Addresses of the other side in another /24 (documentation prefixes) are on the link too.
        for namespace, device, own, other in ((self.gateway, veth_gw, self.GATEWAY_V4, self.PEERS_V4),
                                              (self.peer, veth_pe, self.PEERS_V4, self.GATEWAY_V4)):
            networks = {address.rsplit(".", 1)[0] for address in own}
            for network in sorted({address.rsplit(".", 1)[0] for address in other} - networks):
                run("ip", "-n", namespace, "route", "add", f"{network}.0/24", "dev", device)
        subprocess.run(["ip", "netns", "exec", self.gateway, "nft", "-f", "-"], input=self.HOST_RULESET,
                       check=True, capture_output=True, text=True)
        self.gw = self.agent(self.gateway)
        self.pe = self.agent(self.peer)

    def agent(self, namespace):
        agent = Agent(namespace)
        self.agents.append(agent)
        return agent

    def nft(self, *args, check=True):
        return run("ip", "netns", "exec", self.gateway, "nft", *args, check=check)

    def table(self, name="fwsessiond"):
        """The table as nft lists it, or None when it does not exist."""
        listed = self.nft("-j", "list", "table", "inet", name, check=False)
        return json.loads(listed.stdout) if listed.returncode == 0 else None

    def in_use(self, name, table="fwsessiond"):
        """The name of a set or chain of the generation fwsessiond's table uses now (`bound4` ->
        `bound4_a`): a full load fills the other generation and switches to it."""
        listed = json.loads(self.nft("-j", "list", "counters", "table", "inet", table).stdout)
        names = {item["counter"]["name"] for item in listed["nftables"] if "counter" in item}
        generation = "a" if "in_use_a" in names else "b"
        return f"{name}_{generation}"

    def set_elements(self, set_name, table="fwsessiond"):
        listed = self.nft("-j", "list", "set", "inet", table, self.in_use(set_name, table))
        for item in json.loads(listed.stdout)["nftables"]:
            if "set" in item:
                return [e for e in item["set"].get("elem", []) if not _is_sentinel(e)]
        return []

    def start_server(self, *args, data=None, config=None, store="memory"):
        argv = ["--dataplane", "nftables"] + ([] if "--listen" in args else ["--listen", "127.0.0.1:0"])
        if data is not None:
            argv += ["--data", str(data)]
        elif store == "memory":
            argv += ["--store", "memory"]
        if config is not None:
            path = self.tmp_path / f"dataplane-config-{len(self.servers)}.json"
            path.write_text(json.dumps(config))
            argv += ["--config", str(path)]
        server = NamespacedServer(self, [*argv, *args]).start(timeout=60)
        self.servers.append(server)
        return server

    def relay(self, port):
        """A loopback port in this namespace that reaches 127.0.0.1:port in the gateway's."""
        path = self.tmp_path / f"api-{port}-{len(self.relays)}.sock"
        inner = subprocess.Popen(
            ["ip", "netns", "exec", self.gateway, "socat", f"UNIX-LISTEN:{path},fork,mode=600", f"TCP:127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            local = probe.getsockname()[1]
        outer = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{local},bind=127.0.0.1,fork,reuseaddr", f"UNIX-CONNECT:{path}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.relays += [inner, outer]
        deadline = time.monotonic() + 5
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return local

    def remove(self):
        for server in self.servers:
            server.kill()
        for relay in self.relays:
            relay.kill()
        for agent in self.agents:
            agent.stop()
        for namespace in (self.gateway, self.peer):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def _is_sentinel(element):
    """fwsessiond keeps a sentinel with IP protocol 0 (`ip`) in each set to notice a flush."""
    value = element.get("elem", {}).get("val") if isinstance(element, dict) and "elem" in element else element
    concat = value.get("concat", []) if isinstance(value, dict) else []
    return "ip" in concat or 0 in concat[:2]


class NamespacedServer(Server):
    """fwsessiond in the gateway namespace, reached through a relay."""

    def __init__(self, topology, args):
        super().__init__(args, command=["ip", "netns", "exec", topology.gateway, binary(), "serve"])
        self.topology = topology

    def started(self):
        # The logged address is the gateway namespace's loopback: reach it through a relay.
        port = int(re.search(r":(\d+)$", self.base_url).group(1))
        self.base_url = f"http://127.0.0.1:{self.topology.relay(port)}"
        deadline = time.monotonic() + 5
        while True:
            try:
                self.http.get(self.url("/healthz"), timeout=1)
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


@pytest.fixture
def topology(tmp_path):
    require_namespaces()
    made = Topology(tmp_path)
    yield made
    made.remove()
