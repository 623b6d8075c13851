"""The nftables data plane with real packets: fwsessiond in a gateway namespace programs the
kernel, peers in another namespace send TCP and UDP, listeners in the gateway say what arrived.

The gateway has a host ruleset with a drop policy that lets through what fwsessiond's table
marked (the coexistence the README documents), so a packet fwsessiond does not accept is not
delivered, whether its table dropped it or left it alone.
"""
import json
import subprocess
import time

import pytest

from conftest import FTP, SIP, assert_problem, binary, wait_until
from netns import topology  # noqa: F401  (fixture)

GW = "10.77.0.1"
GW2 = "10.77.0.2"
PEER = "10.77.0.100"
OTHER = "10.77.0.101"


def delivered(topology, protocol="udp", settle=0.3):
    """(peer address, local port) of what reached the gateway's listeners since the last call."""
    return {(item[3], item[2]) for item in topology.gw.received(settle) if item[0] in (protocol, "tcp-accept")}


def udp_from(topology, peer, destination, port, data="x"):
    topology.pe.udp_send((peer, 40000 + hash(peer) % 1000), (destination, port), data)


def approve(server, session, protocol, address, guid=FTP, **fields):
    response = server.retroactive(session, protocol, address, guid, **fields)
    assert response.status_code == 200 and response.json()["hresult"] == "S_OK", response.text
    return response.json()["binds"][0]


def test_pending_drops_approval_opens_only_to_the_filter(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="ftp")
    bind = server.create_bind("ftp", "udp", f"{GW}:5000")
    topology.gw.listen("udp", GW, 5000)

    udp_from(topology, PEER, GW, 5000)
    assert delivered(topology) == set(), "a packet to a pending bind reached its listener"

    approve(server, "ftp", "udp", f"{GW}:5000", ipFilter={"include": [PEER]})
    udp_from(topology, PEER, GW, 5000)
    udp_from(topology, OTHER, GW, 5000)
    assert delivered(topology) == {(PEER, 5000)}, "only the filter's peer gets through"

    counters = server.get(f"/sessions/ftp/binds/{bind['id']}").json()["counters"]
    assert counters == {"accepted": 1, "discarded": 2}, "the bind's counters are the kernel's"


def test_tcp_connections_follow_the_bind(topology):
    server = topology.start_server()
    server.allow_protocol(FTP)
    server.create_session(id="ftp")
    server.create_bind("ftp", "tcp", f"{GW}:2121")
    topology.gw.listen("tcp", GW, 2121)
    pair = ((PEER, 0), (GW, 2121))

    assert topology.pe.tcp_connect([pair], timeout=0.5) == [None], "a SYN to a pending bind was answered"
    approve(server, "ftp", "tcp", f"{GW}:2121", ipFilter={"include": [PEER]})
    [connection] = topology.pe.tcp_connect([pair], timeout=2)
    assert connection is not None, "the approved peer could not connect"
    assert topology.pe.tcp_connect([((OTHER, 0), (GW, 2121))], timeout=0.5) == [None]
    topology.pe.tcp_send(connection, "before")
    assert any(item[0] == "tcp" and item[5] == "before" for item in topology.gw.received(0.3))

    # A revocation stops the open connection too: every packet is checked, not only new ones.
    rule = server.get("/rules").json()["items"][0]
    assert server.delete(f"/rules/{rule['id']}").status_code == 204
    topology.pe.tcp_send(connection, "after")
    assert not any(item[0] == "tcp" and item[5] == "after" for item in topology.gw.received(1.0)), \
        "data on an established connection passed after the revocation"
