"""A disk that fails makes writes 503 (never a crash, never a 2xx) and /readyz says so."""
import pathlib
import subprocess

from conftest import assert_problem, wait_until

SHIM = pathlib.Path(__file__).parent / "faults" / "failing_disk.c"


def test_writes_fail_with_503_while_the_disk_fails_and_recover_after(start_server, tmp_path):
    library = tmp_path / "failing_disk.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM), "-ldl"], check=True)
    trigger = tmp_path / "disk-is-full"
    data = tmp_path / "data"
    env = {"LD_PRELOAD": str(library), "FWS_FAULT_TRIGGER": str(trigger), "FWS_FAULT_PATH": "fwsessiond.sqlite3"}
    server = start_server(data=data, env=env)
    server.create_session(id="before")
    server.create_bind("before", "udp", "203.0.113.10:5004")

    trigger.touch()
    failed = server.post("/sessions", {"id": "during", "clientAddress": "10.0.0.2"})
    assert_problem(failed, 503, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)", "0x8007001D")
    assert_problem(server.get("/readyz"), 503, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)")
    refused = server.post("/sessions", {"id": "refused", "clientAddress": "10.0.0.3"})
    assert_problem(refused, 503, "HRESULT_FROM_WIN32(ERROR_WRITE_FAULT)")
    assert server.get("/sessions/refused").status_code == 404, "a refused write changes nothing"
    assert server.get("/healthz").status_code == 200
    assert server.get("/sessions/before").status_code == 200, "reads go on from memory"
    decision = server.decide("udp", "inbound", "198.51.100.7:1", "203.0.113.10:5004")
    assert decision["reason"] == "bind-pending", "the data plane keeps getting decisions"
    assert server.process.poll() is None

    trigger.unlink()
    wait_until(lambda: server.get("/readyz").status_code == 200, timeout=15)
    assert server.post("/sessions", {"id": "after", "clientAddress": "10.0.0.4"}).status_code == 201
    assert server.stop() == 0, server.log

    restarted = start_server(data=data)
    for sid in ("before", "after"):
        assert restarted.get(f"/sessions/{sid}").status_code == 200, sid
    assert restarted.get("/sessions/refused").status_code == 404
