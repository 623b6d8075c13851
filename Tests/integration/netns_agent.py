"""A helper that runs inside one network namespace (`ip netns exec NS python3 netns_agent.py`) and
opens sockets there on request: JSON commands on stdin, one JSON answer per line on stdout.

Listeners record what reached them; senders say whether the kernel let the packet out (a drop in
the output path makes sendto() fail with EPERM). Every wait is bounded.
"""
import errno
import json
import select
import socket
import sys
import threading
import time


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class Agent:
    def __init__(self):
        self.udp = {}          # (addr, port) -> socket
        self.tcp = {}          # (addr, port) -> listening socket
        self.received = []     # [proto, local addr, local port, peer addr, peer port, data]
        self.connections = {}  # id -> connected socket (either side)
        self.next_id = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.pump, daemon=True).start()

    def pump(self):
        while True:
            with self.lock:
                sockets = list(self.udp.values()) + list(self.tcp.values()) + \
                    [c for c in self.connections.values() if c.fileno() >= 0]
            if not sockets:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select(sockets, [], [], 0.05)
            except (OSError, ValueError):
                continue
            for sock in ready:
                self.read(sock)

    def read(self, sock):
        with self.lock:
            if sock in self.udp.values():
                try:
                    data, peer = sock.recvfrom(65535)
                except OSError:
                    return
                local = sock.getsockname()
                self.received.append(["udp", local[0], local[1], peer[0], peer[1], data.decode(errors="replace")])
            elif sock in self.tcp.values():
                try:
                    conn, peer = sock.accept()
                except OSError:
                    return
                local = conn.getsockname()
                self.next_id += 1
                self.connections[self.next_id] = conn
                self.received.append(["tcp-accept", local[0], local[1], peer[0], peer[1], ""])
            else:
                try:
                    data = sock.recv(65535)
                except OSError:
                    data = b""
                if not data:
                    for key, value in list(self.connections.items()):
                        if value is sock:
                            del self.connections[key]
                    sock.close()
                    return
                local, peer = sock.getsockname(), sock.getpeername()
                self.received.append(["tcp", local[0], local[1], peer[0], peer[1], data.decode(errors="replace")])

    def handle(self, command):
        op = command["op"]
        if op == "listen":
            address, port = command["address"], command["port"]
            kind = socket.SOCK_DGRAM if command["protocol"] == "udp" else socket.SOCK_STREAM
            sock = socket.socket(family_of(address), kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family_of(address) == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, port))
            if kind == socket.SOCK_STREAM:
                sock.listen(128)
            with self.lock:
                (self.udp if kind == socket.SOCK_DGRAM else self.tcp)[(address, port)] = sock
            return {"ok": True}
        if op == "udp_send":
            # From a listening socket when one holds the source (replies of a bidirectional bind),
            # else from a new socket bound to the source.
            source, destination = tuple(command["source"]), tuple(command["destination"])
            with self.lock:
                sock = self.udp.get(source)
            own = sock is None
            if own:
                sock = socket.socket(family_of(source[0]), socket.SOCK_DGRAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(source)
            try:
                sock.sendto(command.get("data", "x").encode(), destination)
                return {"sent": True}
            except OSError as error:
                return {"sent": False, "errno": errno.errorcode.get(error.errno, str(error.errno))}
            finally:
                if own:
                    sock.close()
        if op == "udp_send_many":
            # [[source, destination, payload], ...] in order; whether each left the host.
            results = []
            for source, destination, payload in command["packets"]:
                results.append(self.handle({"op": "udp_send", "source": source, "destination": destination,
                                            "data": payload})["sent"])
            return {"sent": results}
        if op == "tcp_connect":
            # Non-blocking connects of many (source, destination) pairs at once; which completed
            # within the timeout. Completed ones stay open (ids returned) for later sends.
            pending = []
            for source, destination in command["pairs"]:
                sock = socket.socket(family_of(source[0]), socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((source[0], source[1]))
                sock.setblocking(False)
                try:
                    sock.connect((destination[0], destination[1]))
                except BlockingIOError:
                    pass
                except OSError:
                    pass
                pending.append(sock)
            deadline = time.monotonic() + command.get("timeout", 0.5)
            done = [None] * len(pending)
            while time.monotonic() < deadline and any(d is None for d in done):
                waiting = [s for s, d in zip(pending, done) if d is None]
                _, writable, _ = select.select([], waiting, [], max(0.0, deadline - time.monotonic()))
                for sock in writable:
                    index = pending.index(sock)
                    done[index] = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
            results = []
            keep = command.get("keep", True)
            for sock, ok in zip(pending, done):
                if ok and not keep:
                    sock.close()
                    results.append(0)
                elif ok:
                    sock.setblocking(True)
                    with self.lock:
                        self.next_id += 1
                        self.connections[self.next_id] = sock
                        results.append(self.next_id)
                else:
                    sock.close()
                    results.append(None)
            return {"connected": results}
        if op == "tcp_send":
            with self.lock:
                sock = self.connections.get(command["id"])
            if sock is None:
                return {"sent": False, "errno": "closed"}
            try:
                sock.settimeout(1)
                sock.sendall(command.get("data", "x").encode())
                return {"sent": True}
            except OSError as error:
                return {"sent": False, "errno": errno.errorcode.get(error.errno, str(error.errno))}
        if op == "received":
            time.sleep(command.get("settle", 0))
            with self.lock:
                got, self.received = self.received, []
            return {"received": got}
        if op == "close":
            with self.lock:
                for sock in list(self.udp.values()) + list(self.tcp.values()) + list(self.connections.values()):
                    sock.close()
                self.udp, self.tcp, self.connections = {}, {}, {}
            return {"ok": True}
        return {"error": f"unknown op {op}"}


def main():
    agent = Agent()
    for line in sys.stdin:
        try:
            answer = agent.handle(json.loads(line))
        except Exception as error:  # answered, so the test sees what failed
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
