"""A TCP proxy in front of a PostgreSQL server for the array tests, which can lose the answer to
one COMMIT the way a network failure at that moment would: the COMMIT reaches the server and
commits, its answer never reaches the client, and both connections are closed."""
import socket
import threading

# The CommandComplete message of a COMMIT: tag 'C', length 11, "COMMIT\0".
_COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"


class LossyProxy:
    """Listens on 127.0.0.1 (`port`) and forwards every connection to the server on `target_port`."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.marker = None
        self.lock = threading.Lock()
        self.fired = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def lose_commit_answer_after(self, marker: bytes):
        """Once a client sends `marker` (a piece of SQL), the answer to its next COMMIT is lost (once)."""
        with self.lock:
            self.marker = marker

    def url(self, database="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            _Pair(self, client, server).start()

    def _claim(self, data: bytes) -> bool:
        """Whether this client data holds the marker (and the proxy has not fired yet)."""
        with self.lock:
            return self.marker is not None and not self.fired.is_set() and self.marker in data

    def close(self):
        self.listener.close()


class _Pair:
    def __init__(self, proxy, client, server):
        self.proxy, self.client, self.server = proxy, client, server
        self.marked = False
        self.dropping = threading.Event()

    def start(self):
        threading.Thread(target=self._upstream, daemon=True).start()
        threading.Thread(target=self._downstream, daemon=True).start()

    def _close(self):
        for sock in (self.client, self.server):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _upstream(self):
        try:
            while data := self.client.recv(65536):
                if not self.marked and self.proxy._claim(data):
                    self.marked = True
                if self.marked and not self.dropping.is_set() and b"COMMIT" in data:
                    self.dropping.set()
                self.server.sendall(data)
        except OSError:
            pass

    def _downstream(self):
        seen = b""
        try:
            while data := self.server.recv(65536):
                if self.dropping.is_set():
                    # Wait for the server to report the COMMIT done, then cut both ends.
                    seen += data
                    if _COMMIT_DONE in seen:
                        self.proxy.fired.set()
                        self._close()
                        return
                    continue
                self.client.sendall(data)
        except OSError:
            pass
        self._close()
