"""What ships: the release binary, the systemd unit and the Debian package (`make deb`).

systemd is not init where the tests run, so the unit is not started; `unit_sandbox.py` runs the
binary the way the unit has systemd run it (its seccomp filter, user, umask and environment).
These tests need root (setuid, mount namespaces, dpkg), as CI runs them; `make test` builds the
release binary and the package first.
"""
import contextlib
import fcntl
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest
import requests

from conftest import FTP, REPO, Server

UNIT = REPO / "deploy" / "fwsessiond.service"
LAUNCHER = REPO / "Tests" / "integration" / "unit_sandbox.py"
DEBIAN_PYTHON = "/usr/bin/python3"  # Debian's interpreter, where python3-seccomp lives
UNIT_UID = 61184  # the first UID systemd hands out for DynamicUser=yes; no passwd entry, like there

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: setuid, mount namespaces, dpkg")


def release_binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("FWSESSIOND_RELEASE_BIN", REPO / ".build" / "release" / "fwsessiond"))
    if not path.exists():
        pytest.fail(f"release binary not found at {path}: run `make build-release` (or make test)")
    return path


def package() -> pathlib.Path:
    version = re.match(r"fwsessiond \(([^)]+)\)", (REPO / "deploy" / "debian" / "changelog").read_text()).group(1)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    path = pathlib.Path(os.environ.get("FWSESSIOND_DEB", REPO / f"fwsessiond_{version}_{arch}.deb"))
    if not path.exists():
        pytest.fail(f"package not found at {path}: run `make deb` (or make test)")
    return path


def toolchain_root() -> pathlib.Path:
    """Where the Swift runtime libraries of this machine live, from the debug binary's links."""
    debug = REPO / ".build" / "debug" / "fwsessiond"
    found = re.search(r"libswiftCore\.so => (\S+)", subprocess.run(["ldd", str(debug)], capture_output=True,
                                                                   text=True).stdout)
    assert found, "the debug binary should link libswiftCore.so dynamically"
    library_folder = pathlib.Path(found.group(1)).parent
    root = pathlib.Path(str(library_folder).split("/usr/lib/swift")[0])
    return library_folder if str(root) in ("", "/", "/usr") else root


def without_toolchain(*command, also=()):
    """`command` in a mount namespace where the toolchain is an empty folder (as on a gateway);
    `also` are more shell commands run there first, as root."""
    script = "; ".join(["set -e", f"mount -t tmpfs tmpfs {toolchain_root()}", *also, 'exec "$@"'])
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", *map(str, command)]


@contextlib.contextmanager
def notify_socket(folder: pathlib.Path):
    """An AF_UNIX datagram socket like systemd's NOTIFY_SOCKET; yields a reader of messages."""
    path = folder / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    os.chmod(path, 0o777)
    listener.settimeout(20)

    def receive():
        return listener.recv(4096).decode()

    try:
        yield path, receive
    finally:
        listener.close()


def sandbox_folder() -> pathlib.Path:
    """A folder the unit's user can reach (pytest's tmp_path sits under a 0700 folder)."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="fwsessiond-unit-"))
    folder.chmod(0o755)
    return folder


def sandboxed(unit, env, binary=None, deny=(), drop_ins=()):
    """The launcher's command line: ExecStart of `unit` as UNIT_UID under the unit's filter."""
    command = [DEBIAN_PYTHON, str(LAUNCHER), "--unit", str(unit), "--uid", str(UNIT_UID), "--gid", str(UNIT_UID)]
    for drop_in in drop_ins:
        command += ["--drop-in", str(drop_in)]
    if binary:
        command += ["--binary", str(binary)]
    for name, value in env.items():
        command += ["--env", f"{name}={value}"]
    for name in deny:
        command += ["--deny", name]
    return command + ["--"]


def process_status(pid) -> dict:
    lines = pathlib.Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def exercise(server):
    """Enough of the API to reach SQLite commits, the timers, Dispatch's threads and the streams."""
    with requests.get(server.url("/events"), stream=True, timeout=10) as events:
        assert events.status_code == 200
        server.allow_protocol(FTP)
        session = server.create_session(id="unit-1")
        server.create_bind(session["id"])
        assert server.retroactive(session["id"], ipFilter={"include": ["198.51.100.7"]}).json()["hresult"] == "S_OK"
        received = b""
        for chunk in events.iter_content(chunk_size=None):
            received += chunk
            if b"bind.allowed" in received:
                break
    assert server.decide("tcp", "inbound", "198.51.100.7:20", "203.0.113.10:40000")["verdict"] == "accept"
    assert server.get("/metrics").status_code == 200
    assert server.get("/readyz").status_code == 200


def test_the_unit_serves_under_its_own_seccomp_filter_as_its_user_and_stops_cleanly():
    folder = sandbox_folder()
    try:
        shutil.copy(release_binary(), folder / "fwsessiond")
        configuration = folder / "etc"
        configuration.mkdir()
        shutil.copy(REPO / "deploy" / "debian" / "config.json", configuration / "config.json")
        state = folder / "state"
        state.mkdir(mode=0o750)
        os.chown(state, UNIT_UID, UNIT_UID)
        with notify_socket(folder) as (notify, receive):
            env = {"STATE_DIRECTORY": state, "CONFIGURATION_DIRECTORY": configuration, "NOTIFY_SOCKET": notify}
            for round in (1, 2):
                # The packaged configuration listens on 127.0.0.1:8080; port 0 keeps the test clear of it.
                server = Server(["--listen", "127.0.0.1:0"],
                                command=sandboxed(UNIT, env, binary=folder / "fwsessiond")).start()
                try:
                    assert receive().startswith("READY=1\nSTATUS=listening on http://127.0.0.1:")
                    status = process_status(server.process.pid)
                    assert status["Uid"].split() == [str(UNIT_UID)] * 4 and status["Gid"].split()[0] == str(UNIT_UID)
                    assert status["Seccomp"] == "2" and status["NoNewPrivs"] == "1"
                    assert int(status["Seccomp_filters"]) >= 2, "the syscall filter and the unit's restrictions"
                    assert int(status["CapBnd"], 16) == 0 and int(status["CapEff"], 16) == 0
                    if round == 1:
                        exercise(server)
                    else:  # the same data folder: the restore path runs under the filter too
                        assert server.get("/sessions/unit-1/binds").json()["items"][0]["state"] == "allowed"
                    assert server.stop() == 0, server.log
                    assert receive() == "STOPPING=1"
                    assert "stopped" in server.log
                finally:
                    server.kill()
        database = state / "fwsessiond.sqlite3"
        assert database.stat().st_uid == UNIT_UID
        assert database.stat().st_mode & 0o027 == 0, "UMask=0027"
        # A bad configuration exits with the status the unit does not restart.
        (configuration / "config.json").write_text('{"listen": "127.0.0.1:8080", "limits": {"maxBind": 5}}')
        result = subprocess.run([*sandboxed(UNIT, env, binary=folder / "fwsessiond")], capture_output=True,
                                text=True, timeout=30)
        prevented = re.search(r"^RestartPreventExitStatus=(\d+)$", UNIT.read_text(), re.MULTILINE).group(1)
        assert result.returncode == int(prevented) and "limits.maxBind" in result.stderr, result.stderr
    finally:
        shutil.rmtree(folder)


def test_without_setpriority_in_the_filter_the_service_is_killed_before_it_logs():
    """The control: the unit's filter as it was (no SystemCallFilter=setpriority) kills the binary
    with SIGSYS when Dispatch starts its first worker thread; so the test above can fail."""
    folder = sandbox_folder()
    try:
        state = folder / "state"
        state.mkdir()
        os.chown(state, UNIT_UID, UNIT_UID)
        shutil.copy(release_binary(), folder / "fwsessiond")
        command = sandboxed(UNIT, {"STATE_DIRECTORY": state, "CONFIGURATION_DIRECTORY": REPO / "deploy" / "debian"},
                            binary=folder / "fwsessiond", deny=["setpriority"])
        result = subprocess.run([*command, "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
        assert result.returncode == -signal.SIGSYS, (
            f"exit {result.returncode}: if Dispatch no longer calls setpriority, the unit's "
            f"SystemCallFilter=setpriority line can go\n{result.stderr}")
        assert "listening" not in result.stderr
    finally:
        shutil.rmtree(folder)


def test_the_release_binary_runs_without_the_swift_toolchain():
    binary = release_binary()
    dynamic = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]", dynamic)
    assert needed and not [library for library in needed if "swift" in library.lower()], needed
    assert str(toolchain_root()) not in dynamic, "no RUNPATH into the toolchain"
    # The control: the debug build links the toolchain's libraries and cannot start without them.
    control = subprocess.run(without_toolchain(REPO / ".build" / "debug" / "fwsessiond", "routes"),
                             capture_output=True, text=True, timeout=30)
    assert control.returncode != 0, control.stderr
    assert re.search(r"libswift\w*\.so: cannot open shared object file", control.stderr), control.stderr
    server = Server(["--listen", "127.0.0.1:0", "--store", "memory"],
                    command=without_toolchain(binary, "serve")).start()
    try:
        assert server.create_session()["clientAddress"] == "10.1.2.3"
        assert server.stop() == 0, server.log
    finally:
        server.kill()


# --------------------------------------------------------------------------- the Debian package

INSTALLED_UNIT = pathlib.Path("/lib/systemd/system/fwsessiond.service")
STATE = pathlib.Path("/var/lib/fwsessiond")
PRIVATE = pathlib.Path("/var/lib/private")
LEFT_BEHIND_CANDIDATES = [
    "/usr/sbin/fwsessiond", "/etc/fwsessiond", str(INSTALLED_UNIT), "/usr/share/fwsessiond",
    "/usr/share/doc/fwsessiond", "/usr/share/man/man8/fwsessiond.8.gz", str(STATE), str(PRIVATE / "fwsessiond"),
    "/etc/systemd/system/multi-user.target.wants/fwsessiond.service",
    "/var/lib/systemd/deb-systemd-helper-enabled/fwsessiond.service.dsh-also",
    "/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/fwsessiond.service",
]


def dpkg(*args):
    """dpkg, waiting while another apt or dpkg run holds the lock (the machine may be shared)."""
    for _ in range(60):
        result = subprocess.run(["dpkg", *args], capture_output=True, text=True, timeout=300)
        if result.returncode == 0 or "lock" not in result.stderr:
            return result
        subprocess.run(["sleep", "2"])
    return result


def installed() -> bool:
    status = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", "fwsessiond"], capture_output=True, text=True)
    return status.returncode == 0 and "not-installed" not in status.stdout and "config-files" not in status.stdout


@contextlib.contextmanager
def exclusive_package_test():
    """One package test at a time on this machine, on a machine without fwsessiond installed."""
    with open("/run/lock/fwsessiond-package-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if installed() or subprocess.run(["dpkg-query", "-W", "fwsessiond"], capture_output=True).returncode == 0:
            pytest.fail("fwsessiond is already installed (or its configuration is): this test installs and purges "
                        "it, so it runs only where it is not; `dpkg -P fwsessiond` if a test run left it behind")
        created_private = not PRIVATE.exists()
        try:
            yield
        finally:
            if subprocess.run(["dpkg-query", "-W", "fwsessiond"], capture_output=True).returncode == 0:
                dpkg("--purge", "fwsessiond")
            if created_private and PRIVATE.exists() and not any(PRIVATE.iterdir()):
                PRIVATE.rmdir()


def test_lintian_has_no_unexplained_findings():
    """Every tag lintian finds (errors down to pedantic) is fixed or overridden with its reason
    (deploy/debian/fwsessiond.lintian-overrides: a comment above each override)."""
    result = subprocess.run(["lintian", "--pedantic", "--display-info", "--fail-on", "error,warning,info,pedantic",
                             str(package())], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    lines = (REPO / "deploy" / "debian" / "fwsessiond.lintian-overrides").read_text().splitlines()
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert index > 0 and lines[index - 1].startswith("#"), f"override without its reason: {line}"


def test_the_package_installs_serves_as_its_unit_and_purges_without_a_trace():
    deb = package()
    with exclusive_package_test():
        present_before = {path for path in LEFT_BEHIND_CANDIDATES if os.path.lexists(path)}
        assert not present_before, present_before
        contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                                  check=True).stdout
        shipped = {line.split()[-1].lstrip(".").rstrip("/") or "/" for line in contents.splitlines()}
        existed = {path for path in shipped if os.path.lexists(path)}  # shared folders such as /usr/share/doc

        result = dpkg("--install", str(deb))
        assert result.returncode == 0, result.stdout + result.stderr
        files = subprocess.run(["dpkg", "-L", "fwsessiond"], capture_output=True, text=True, check=True).stdout.split()
        for path in ["/usr/sbin/fwsessiond", "/etc/fwsessiond/config.json", str(INSTALLED_UNIT),
                     "/usr/share/fwsessiond/fwsessiond.example.json",
                     "/usr/share/fwsessiond/grafana/fwsessiond-dashboard.json",
                     "/usr/share/fwsessiond/prometheus/prometheus.yml", "/usr/share/man/man8/fwsessiond.8.gz"]:
            assert path in files and os.path.exists(path), path
        fields = subprocess.run(["dpkg-query", "-W", "-f", "${Conffiles}\n${Depends}", "fwsessiond"],
                                capture_output=True, text=True, check=True).stdout
        assert "/etc/fwsessiond/config.json" in fields
        # Depends: names the package of every library the binary links (dpkg-shlibdeps computed it).
        for library in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]", subprocess.run(
                ["readelf", "-d", "/usr/sbin/fwsessiond"], capture_output=True, text=True, check=True).stdout):
            resolved = re.search(re.escape(library) + r" => (\S+)", subprocess.run(
                ["ldd", "/usr/sbin/fwsessiond"], capture_output=True, text=True).stdout)
            if resolved:
                owner = subprocess.run(["dpkg", "-S", os.path.realpath(resolved.group(1))], capture_output=True,
                                       text=True).stdout.split(":")[0]
                assert owner in fields, f"{library} comes from {owner}, which Depends: does not name"
        assert not os.path.lexists("/etc/systemd/system/multi-user.target.wants/fwsessiond.service"), \
            "installed, not enabled"
        verify = subprocess.run(["systemd-analyze", "verify", str(INSTALLED_UNIT)], capture_output=True, text=True)
        assert "fwsessiond.service" not in verify.stdout + verify.stderr, verify.stdout + verify.stderr

        # The state directory as systemd makes it for DynamicUser=yes: /var/lib/private (0700)
        # holds it, /var/lib/fwsessiond links to it; the service's namespace makes it reachable.
        PRIVATE.mkdir(mode=0o700, exist_ok=True)
        (PRIVATE / "fwsessiond").mkdir(mode=0o750)
        os.chown(PRIVATE / "fwsessiond", UNIT_UID, UNIT_UID)
        STATE.symlink_to("private/fwsessiond")
        reachable = tempfile.mkdtemp(prefix="fwsessiond-state-")
        namespace = [f"mount --bind {PRIVATE}/fwsessiond {reachable}", f"mount -t tmpfs -o mode=0755 tmpfs {PRIVATE}",
                     f"mkdir {PRIVATE}/fwsessiond", f"mount --bind {reachable} {PRIVATE}/fwsessiond"]
        run_dir = sandbox_folder()
        try:
            with notify_socket(run_dir) as (notify, receive):
                env = {"STATE_DIRECTORY": STATE, "CONFIGURATION_DIRECTORY": "/etc/fwsessiond", "NOTIFY_SOCKET": notify}
                command = without_toolchain(*sandboxed(INSTALLED_UNIT, env), also=namespace)
                server = Server(["--listen", "127.0.0.1:0"], command=command).start()
                try:
                    assert receive().startswith("READY=1")
                    assert server.create_session(id="packaged")["id"] == "packaged"
                    assert server.stop() == 0, server.log
                finally:
                    server.kill()
        finally:
            shutil.rmtree(run_dir)
            os.rmdir(reachable)
        assert (PRIVATE / "fwsessiond" / "fwsessiond.sqlite3").exists()

        result = dpkg("--remove", "fwsessiond")
        assert result.returncode == 0, result.stdout + result.stderr
        assert not os.path.exists("/usr/sbin/fwsessiond") and not INSTALLED_UNIT.exists()
        assert os.path.exists("/etc/fwsessiond/config.json"), "remove keeps the configuration"
        assert (PRIVATE / "fwsessiond" / "fwsessiond.sqlite3").exists(), "remove keeps the database"

        result = dpkg("--purge", "fwsessiond")
        assert result.returncode == 0, result.stdout + result.stderr
        assert subprocess.run(["dpkg-query", "-W", "fwsessiond"], capture_output=True).returncode != 0
        left = sorted(path for path in {*LEFT_BEHIND_CANDIDATES, *shipped, *map(os.path.normpath, files)}
                      if os.path.lexists(path) and path not in existed)
        assert not left, left


def test_the_data_plane_drop_in_lets_the_unit_program_its_table_and_nothing_more(tmp_path):
    """With deploy/fwsessiond-dataplane.conf the service, as its unprivileged user under the unit's
    filter, holds CAP_NET_ADMIN only and loads its nftables table (in a network namespace made for
    the test); without the drop-in the same configuration stops the start, saying why."""
    from netns import NamespacedServer, Topology, require_namespaces
    require_namespaces()
    drop_in = REPO / "deploy" / "fwsessiond-dataplane.conf"
    topology = Topology(tmp_path)
    folder = sandbox_folder()
    try:
        shutil.copy(release_binary(), folder / "fwsessiond")
        configuration = folder / "etc"
        configuration.mkdir()
        packaged = json.loads((REPO / "deploy" / "debian" / "config.json").read_text())
        (configuration / "config.json").write_text(json.dumps({**packaged, "dataplane": {"kind": "nftables"}}))
        state = folder / "state"
        state.mkdir(mode=0o750)
        os.chown(state, UNIT_UID, UNIT_UID)
        env = {"STATE_DIRECTORY": state, "CONFIGURATION_DIRECTORY": configuration}
        launcher = ["ip", "netns", "exec", topology.gateway]

        refused = subprocess.run([*launcher, *sandboxed(UNIT, env, binary=folder / "fwsessiond"), "--listen", "127.0.0.1:0"],
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "fwsessiond-dataplane.conf" in refused.stderr, refused.stderr
        assert topology.table() is None

        server = NamespacedServer(topology, ["--listen", "127.0.0.1:0"])
        server.command = [*launcher, *sandboxed(UNIT, env, binary=folder / "fwsessiond", drop_ins=[drop_in])]
        topology.servers.append(server)
        server.start(timeout=60)
        status = process_status(server.process.pid)
        net_admin = 1 << 12
        assert int(status["CapEff"], 16) == net_admin and int(status["CapBnd"], 16) == net_admin, status
        assert status["Uid"].split()[0] == str(UNIT_UID) and status["Seccomp"] == "2"
        server.allow_protocol(FTP)
        server.create_session(id="unit-dp")
        server.create_bind("unit-dp", "udp", "10.77.0.1:5004")
        assert server.retroactive("unit-dp", "udp", "10.77.0.1:5004").json()["hresult"] == "S_OK"
        assert len(topology.set_elements("open4")) == 1, "the approval is in the kernel"
        assert server.stop() == 0, server.log
    finally:
        topology.remove()
        shutil.rmtree(folder)
