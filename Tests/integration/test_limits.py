"""Limits with clear answers: body size, connections, slow clients."""
import socket
import time

from conftest import assert_problem


def address(server):
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def test_body_over_the_cap_is_refused_before_it_is_sent(start_server):
    server = start_server(store="memory", config={"limits": {"maxBodyBytes": 4096}})
    conn = socket.create_connection(address(server))
    conn.sendall(b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 104857600\r\n\r\n")
    conn.settimeout(5)
    answer = conn.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "application/problem+json" in answer and '"hresult":"E_INVALIDARG"' in answer
    conn.close()
    assert server.get("/healthz").status_code == 200


def test_chunked_body_over_the_cap_is_413(start_server):
    server = start_server(store="memory", config={"limits": {"maxBodyBytes": 4096}})
    conn = socket.create_connection(address(server))
    conn.settimeout(5)
    request = b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"x" * 2048
    conn.sendall(request + b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(4)) + b"0\r\n\r\n")
    answer = conn.recv(65536).decode()
    assert answer.startswith("HTTP/1.1 413"), answer


def test_connections_over_the_limit_do_not_harm_served_ones(start_server):
    server = start_server(store="memory", config={"limits": {"maxConnections": 20}})
    held = [socket.create_connection(address(server)) for _ in range(30)]
    try:
        # The served ones (the first 20) still work on their kept-alive connections.
        for conn in held[:5]:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            conn.settimeout(5)
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        refused = 0
        for conn in held[20:]:
            conn.settimeout(2)
            try:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                if conn.recv(4096) == b"":
                    refused += 1
            except OSError:
                refused += 1
        assert refused == 10, "connections beyond the limit must be closed"
    finally:
        for conn in held:
            conn.close()
    assert server.get("/healthz").status_code == 200


def test_slow_clients_are_cut_off_and_cannot_starve_others(start_server):
    server = start_server(store="memory", config={"limits": {"connectionTimeoutSeconds": 2, "maxConnections": 1000}})
    half_open = []
    for i in range(200):
        conn = socket.create_connection(address(server))
        conn.sendall(b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n" if i % 2 else b"GET /heal")
        half_open.append(conn)
    started = time.monotonic()
    response = server.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 1.0, f"a normal request took {elapsed:.2f}s next to 200 half-open connections"
    time.sleep(3.5)
    closed = 0
    for conn in half_open:
        conn.settimeout(1)
        try:
            if conn.recv(4096) == b"":
                closed += 1
        except OSError:
            closed += 1
        conn.close()
    assert closed == 200, f"only {closed} of 200 slow connections were cut off after the timeout"
