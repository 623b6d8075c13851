"""Events are published only once their change is durable: a write answered 503 produces no
event, and every event a subscriber received describes state that a kill -9 does not undo."""
import json
import pathlib
import signal
import subprocess
import time

from conftest import FTP, wait_until
from test_durability import Writer
from test_events import subscribe

SHIM = pathlib.Path(__file__).parent / "faults" / "failing_disk.c"


def created_sessions(reader):
    return [json.loads(data)["sessionId"] for _, event, data in reader.events if event == "session.created"]


def test_a_write_answered_503_produces_no_event(start_server, tmp_path):
    library = tmp_path / "failing_disk.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM), "-ldl"], check=True)
    trigger = tmp_path / "disk-is-full"
    env = {"LD_PRELOAD": str(library), "FWS_FAULT_TRIGGER": str(trigger), "FWS_FAULT_PATH": "fwsessiond.sqlite3"}
    server = start_server(data=tmp_path / "data", env=env)
    reader = subscribe(server)
    server.create_session(id="before")
    wait_until(lambda: created_sessions(reader) == ["before"])

    trigger.touch()
    assert server.post("/sessions", {"id": "during", "clientAddress": "10.0.0.2"}).status_code == 503
    time.sleep(1.5)  # the commit thread retries every second: still failing, still nothing to tell
    assert created_sessions(reader) == ["before"], "an event was published for a write answered 503"

    trigger.unlink()
    wait_until(lambda: server.get("/readyz").status_code == 200, timeout=15)
    # The retry made the unacknowledged change durable after all: subscribers are told to re-read
    # the state rather than being sent an event for a change its caller was told had failed.
    wait_until(lambda: "reset" in reader.types(), timeout=10)
    assert server.post("/sessions", {"id": "after", "clientAddress": "10.0.0.4"}).status_code == 201
    wait_until(lambda: created_sessions(reader) == ["before", "after"])
    assert reader.types().index("reset") < len(reader.types()) - 1


def test_every_event_received_before_a_kill_9_describes_state_present_after_the_restart(start_server, tmp_path):
    data = tmp_path / "data"
    server = start_server(data=data)
    server.allow_protocol(FTP)
    reader = subscribe(server)
    writers = [Writer(server.base_url, i) for i in range(6)]
    for writer in writers:
        writer.start()
    time.sleep(1.0)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    for writer in writers:
        writer.stop = True
        writer.join(10)
    reader.ended.wait(10)

    received = {"session.created": 0, "bind.created": 0, "bind.allowed": 0}
    restarted = start_server(data=data)
    for _, event, data_text in reader.events:
        if event not in received:
            continue
        payload = json.loads(data_text)
        received[event] += 1
        if event == "session.created":
            assert restarted.get(f"/sessions/{payload['sessionId']}").status_code == 200, payload
        else:
            bind = payload["bind"]
            answer = restarted.get(f"/sessions/{bind['sessionId']}/binds/{bind['id']}")
            assert answer.status_code == 200, f"{event} for {bind['id']} but the bind is gone after the restart"
            if event == "bind.allowed":
                assert answer.json()["state"] == "allowed", f"bind.allowed for {bind['id']} but it is not allowed"
    print(f"events received before kill -9: {received}; every one present after the restart")
    assert received["bind.allowed"] > 0, "the burst did not get going before the kill"
