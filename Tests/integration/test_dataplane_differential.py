"""One implementation of the truth: for random states and random packets, the kernel's verdict
(the packet really reached its listener, or really left the gateway) and `/decisions` agree.

States: sessions with pending, allowed and terminating binds, TCP and UDP, IPv4 and IPv6,
specific and wildcard addresses; IP filters inline (includes and excludes) and stored (changed
after approval); revocations by a policy change; bidirectional UDP. Packets: inbound TCP SYNs and
UDP datagrams from peers inside and outside the filters, to bound and unbound ports, then UDP
replies from the binds to recent and other peers. The gateway's host ruleset drops what
fwsessiond's table does not accept, so `no-bind` means "not delivered" too.
"""
import collections
import json
import os
import random

from conftest import FTP, H323, SIP
from netns import Topology, topology  # noqa: F401  (fixture)

SEED = int(os.environ.get("FWS_DIFFERENTIAL_SEED", "20261203"))
PACKETS = int(os.environ.get("FWS_DIFFERENTIAL_PACKETS", "10000"))
PORTS = list(range(20000, 20060))
PEER_PORTS = [7000, 7001, 7002]


def random_ranges(rng, family):
    pool = Topology.PEERS_V4 if family == 4 else Topology.PEERS_V6
    picks = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            picks.append(rng.choice(pool))
        else:
            first = rng.randrange(len(pool) - 1)
            last = rng.randrange(first, min(len(pool), first + 8))
            picks.append(f"{pool[first]}-{pool[last]}")
    return picks


def random_filter(rng, family):
    include = random_ranges(rng, family)
    if rng.random() < 0.2:
        include.append(rng.choice(random_ranges(rng, 6 if family == 4 else 4)))
    exclude = random_ranges(rng, family) if rng.random() < 0.4 else []
    return {"include": include, "exclude": exclude}


class World:
    """The random state, built through the API, and the sockets that listen for it."""

    def __init__(self, rng, server, topology):
        self.rng, self.server, self.topology = rng, server, topology
        self.binds = []  # dicts as the API returns them, with "family"
        self.stored = [server.post("/ip-filters", random_filter(rng, rng.choice((4, 6)))).json()["id"] for _ in range(4)]

    def build(self, sessions=12, binds_per_session=10):
        rng, server = self.rng, self.server
        server.allow_protocol(FTP)
        server.allow_protocol(H323)
        self.revoking_rule = server.allow_protocol(SIP)["id"]
        for index in range(sessions):
            sid = f"d{index}"
            server.create_session(id=sid, clientAddress="10.1.0.1")
            for _ in range(binds_per_session):
                family = rng.choice((4, 6))
                protocol = rng.choice(("tcp", "udp"))
                if rng.random() < 0.25:
                    host = "0.0.0.0" if family == 4 else "::"
                else:
                    host = rng.choice(Topology.GATEWAY_V4 if family == 4 else Topology.GATEWAY_V6)
                port = rng.choice(PORTS)
                address = f"{host}:{port}" if family == 4 else f"[{host}]:{port}"
                made = server.post(f"/sessions/{sid}/binds", {"protocol": protocol, "address": address})
                if made.status_code != 201:
                    assert made.status_code == 409, made.text  # the address is held already
                    continue
                bind = made.json()
                bind.update(family=family, host=host, port=port)
                self.binds.append(bind)
                self.shape(bind)

    def shape(self, bind):
        """Approve (with a random filter and flags), close, or leave pending."""
        rng, server = self.rng, self.server
        fate = rng.random()
        if fate < 0.2:
            return
        body = {"protocol": bind["protocol"], "address": bind["address"],
                "protocolGuid": rng.choice((FTP, H323, SIP))}
        kind = rng.random()
        if kind < 0.4:
            body["ipFilter"] = random_filter(rng, bind["family"])
        elif kind < 0.7:
            body["ipFilterId"] = rng.choice(self.stored)
        if bind["protocol"] == "udp" and rng.random() < 0.6:
            body["flags"] = ["bidirectional"]
        answer = server.post(f"/sessions/{bind['sessionId']}/retroactive-binds", body)
        # A wildcard address may also match a terminating bind of the session; after the policy
        # change SIP is allowed to nobody.
        if answer.status_code in (403, 409):
            assert answer.json()["hresult"] in ("FWX_E_TERMINATING", "FWX_E_PROTOCOL_RULES_DENIED"), answer.text
            return
        assert answer.status_code == 200, answer.text
        if fate > 0.9:
            assert server.delete(f"/sessions/{bind['sessionId']}/binds/{bind['id']}").status_code == 200

    def mutate(self):
        """Between the phases: stored filters change, a policy change revokes every SIP approval,
        some binds close, some pending ones are approved."""
        rng, server = self.rng, self.server
        for filter_id in self.stored[:2]:
            family = rng.choice((4, 6))
            operation = rng.choice(("include-range", "exclude-range"))
            ranged = server.post(f"/ip-filters/{filter_id}/{operation}", {"range": random_ranges(rng, family)[0]})
            assert ranged.status_code == 200, ranged.text
        assert server.delete(f"/rules/{self.revoking_rule}").status_code == 204
        for bind in rng.sample(self.binds, len(self.binds) // 10):
            server.delete(f"/sessions/{bind['sessionId']}/binds/{bind['id']}")
        for bind in self.binds:
            if rng.random() < 0.3:
                self.shape(bind)

    def listen(self):
        """A listener on every bound (protocol, address, port), and on a few unbound ports."""
        seen = set()
        for bind in self.binds:
            key = (bind["protocol"], bind["host"], bind["port"])
            if key not in seen:
                seen.add(key)
                self.topology.gw.listen(bind["protocol"], bind["host"], bind["port"])
        for protocol in ("tcp", "udp"):
            for host in ("0.0.0.0", "::"):
                for port in (20998, 20999):
                    self.topology.gw.listen(protocol, host, port)
        for family_pool in (Topology.PEERS_V4, Topology.PEERS_V6):
            for peer in family_pool:
                for port in PEER_PORTS:
                    self.topology.pe.listen("udp", peer, port)

    def destination(self, protocol=None):
        """Mostly a bound address, sometimes any port of the gateway."""
        rng = self.rng
        if rng.random() < 0.85:
            bind = rng.choice(self.binds)
            protocol = bind["protocol"] if rng.random() < 0.9 else rng.choice(("tcp", "udp"))
            family, host = bind["family"], bind["host"]
            if host in ("0.0.0.0", "::"):
                host = rng.choice(Topology.GATEWAY_V4 if family == 4 else Topology.GATEWAY_V6)
            return protocol, family, host, bind["port"]
        family = rng.choice((4, 6))
        host = rng.choice(Topology.GATEWAY_V4 if family == 4 else Topology.GATEWAY_V6)
        return rng.choice(("tcp", "udp")), family, host, rng.choice(PORTS + [20998, 20999])


def endpoint(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def decide(server, queries):
    results = []
    for start in range(0, len(queries), 5000):
        answer = server.post("/decisions/batch", {"decisions": queries[start:start + 5000]})
        assert answer.status_code == 200, answer.text
        results += answer.json()["results"]
    return results


def inbound_phase(world, count, tally, disagreements):
    rng, topology, server = world.rng, world.topology, world.server
    packets = []
    for index in range(count):
        protocol, family, host, port = world.destination()
        peer = rng.choice(Topology.PEERS_V4 if family == 4 else Topology.PEERS_V6)
        packets.append({"index": index, "protocol": protocol, "peer": peer, "peer_port": rng.choice(PEER_PORTS),
                        "host": host, "port": port})
    decisions = decide(server, [{"protocol": p["protocol"], "direction": "inbound",
                                 "source": endpoint(p["peer"], p["peer_port"]),
                                 "destination": endpoint(p["host"], p["port"])} for p in packets])
    udp = [p for p in packets if p["protocol"] == "udp"]
    tag = f"p{rng.randrange(1 << 30)}-"
    topology.pe.udp_send_many([((p["peer"], p["peer_port"]), (p["host"], p["port"]), f"{tag}{p['index']}") for p in udp])
    arrived = {item[5] for item in topology.gw.received(0.5) if item[0] == "udp"}
    reached = {p["index"]: f"{tag}{p['index']}" in arrived for p in udp}
    tcp = [p for p in packets if p["protocol"] == "tcp"]
    for start in range(0, len(tcp), 200):
        chunk = tcp[start:start + 200]
        connected = topology.pe.tcp_connect([((p["peer"], 0), (p["host"], p["port"])) for p in chunk],
                                            timeout=0.4, keep=False)
        for p, connection in zip(chunk, connected):
            reached[p["index"]] = connection is not None
    topology.gw.received(0)  # accepted connections: already judged from the connecting side
    for p, decision in zip(packets, decisions):
        expected = decision["verdict"] == "accept"
        if reached[p["index"]] != expected:
            disagreements.append(("inbound", p, decision, reached[p["index"]]))
        if p["protocol"] == "udp" and decision.get("bindId"):
            tally[decision["bindId"]][decision["verdict"]] += 1
    return collections.Counter(d["reason"] for d in decisions)


def outbound_phase(world, count, tally, disagreements):
    rng, topology, server = world.rng, world.topology, world.server
    sources = [b for b in world.binds if b["protocol"] == "udp"]
    packets = []
    for index in range(count):
        bind = rng.choice(sources)
        pool = Topology.PEERS_V4 if bind["family"] == 4 else Topology.PEERS_V6
        packets.append({"index": index, "bind": bind, "peer": rng.choice(pool), "peer_port": rng.choice(PEER_PORTS)})
    decisions = decide(server, [{"protocol": "udp", "direction": "outbound",
                                 "source": endpoint(p["bind"]["host"], p["bind"]["port"]),
                                 "destination": endpoint(p["peer"], p["peer_port"])} for p in packets])
    tag = f"r{rng.randrange(1 << 30)}-"
    sent = topology.gw.udp_send_many([((p["bind"]["host"], p["bind"]["port"]), (p["peer"], p["peer_port"]),
                                       f"{tag}{p['index']}") for p in packets])
    arrived = {item[5] for item in topology.pe.received(0.5) if item[0] == "udp"}
    for p, decision, left in zip(packets, decisions, sent):
        reached = left and f"{tag}{p['index']}" in arrived
        if reached != (decision["verdict"] == "accept"):
            disagreements.append(("outbound", p, decision, reached))
        if decision.get("bindId"):
            tally[decision["bindId"]][decision["verdict"]] += 1
    return collections.Counter(d["reason"] for d in decisions)


def test_the_kernel_and_decisions_agree_on_random_states_and_packets(topology):
    rng = random.Random(SEED)
    # /decisions remember up to limits.recentPeersPerBind peers per bind (64 by default); the kernel
    # remembers dataplane.maxRecentPeers in all: with 96 possible peers per bind here, raise the former.
    server = topology.start_server(config={"timers": {"gracePeriodSeconds": 3600, "pendingTimeoutSeconds": 3600},
                                           "limits": {"recentPeersPerBind": 1000}})
    world = World(rng, server, topology)
    world.build()
    world.listen()
    states = collections.Counter(b["state"] for s in range(12) for b in server.get(f"/sessions/d{s}/binds?limit=1000").json()["items"])
    tally = collections.defaultdict(collections.Counter)
    disagreements = []
    inbound = PACKETS * 4 // 10
    outbound = PACKETS // 10
    reasons = inbound_phase(world, inbound, tally, disagreements)
    reasons += outbound_phase(world, outbound, tally, disagreements)
    world.mutate()
    reasons += inbound_phase(world, inbound, tally, disagreements)
    reasons += outbound_phase(world, outbound, tally, disagreements)
    print(f"seed {SEED}: {len(world.binds)} binds ({dict(states)}), {2 * (inbound + outbound)} packets, "
          f"reasons {dict(reasons)}, {len(disagreements)} disagreements")
    assert not disagreements, "\n".join(json.dumps(d, default=str) for d in disagreements[:10])
    for reason in ("allowed", "ip-filter", "bind-pending", "bind-terminating", "no-bind",
                   "bidirectional-reply", "not-recent-peer", "not-bidirectional"):
        assert reasons[reason] > 0, f"the random packets never produced {reason}"
    # Counters: a UDP bind's kernel counts are exactly the datagrams the decisions judged.
    for bind in world.binds:
        if bind["protocol"] != "udp" or bind["id"] not in tally:
            continue
        answer = server.get(f"/sessions/{bind['sessionId']}/binds/{bind['id']}")
        if answer.status_code != 200:
            continue
        counters = answer.json()["counters"]
        expected = {"accepted": tally[bind["id"]]["accept"], "discarded": tally[bind["id"]]["discard"]}
        assert counters == expected, f"bind {bind['id']}: kernel {counters}, decisions {expected}"
