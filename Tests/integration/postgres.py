"""Throwaway PostgreSQL clusters for the array tests: a template data folder made once per test
run with initdb, copied for each test into a temporary folder, started on a free loopback port
(as the `postgres` user when running as root, which PostgreSQL requires), stopped and deleted
afterwards. Missing PostgreSQL binaries fail the test: `make test` installs them."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

_TEMPLATE = None


def _bin_dir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): run `make deps` "
                    "(apt-get install postgresql libpq-dev)")
    return os.path.dirname(found[-1])


def _as_postgres(argv):
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _owned_tempdir(prefix: str) -> str:
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _template() -> str:
    global _TEMPLATE
    if _TEMPLATE is None:
        root = _owned_tempdir("fws-pg-template-")
        data = os.path.join(root, "data")
        subprocess.run(_as_postgres([os.path.join(_bin_dir(), "initdb"), "--no-sync", "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "-D", data]), check=True, capture_output=True)
        _TEMPLATE = data
    return _TEMPLATE


class PostgresCluster:
    """One PostgreSQL server on 127.0.0.1 with its own data folder."""

    def __init__(self):
        self.bin = _bin_dir()
        self.root = _owned_tempdir("fws-pg-")
        self.data = os.path.join(self.root, "data")
        subprocess.run(["cp", "-a", _template(), self.data], check=True)
        os.chmod(self.data, 0o700)
        self.port = _free_port()
        self.log = os.path.join(self.root, "postgres.log")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout=60):
        options = (f"-c listen_addresses=127.0.0.1 -k {self.root} -p {self.port} -c fsync=off "
                   f"-c max_connections=200 -c shared_buffers=32MB")
        subprocess.run(_as_postgres([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-o", options, "-l", self.log,
                                     "-w", "-t", str(timeout), "start"]), check=True, capture_output=True)
        return self

    def stop(self, mode="fast"):
        subprocess.run(_as_postgres([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"]),
                       capture_output=True)

    def psql(self, sql: str) -> str:
        result = subprocess.run([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                 "-d", "postgres", "-Atqc", sql], check=True, capture_output=True, text=True)
        return result.stdout.strip()

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def postgres():
    """A running throwaway PostgreSQL, stopped and deleted after the test."""
    started = time.monotonic()
    cluster = PostgresCluster().start()
    cluster.ready_seconds = time.monotonic() - started
    yield cluster
    cluster.destroy()
