"""GET /metrics: Prometheus text that promtool accepts and a real Prometheus scrapes."""
import json
import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import FTP, binary, wait_until


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_pass_promtool_and_count_what_happened(server):
    session = server.create_session()
    server.create_bind(session["id"], "udp", "203.0.113.10:5004")
    server.decide("udp", "inbound", "198.51.100.7:1", "203.0.113.10:5004")
    server.decide("udp", "inbound", "198.51.100.7:1", "203.0.113.10:5005")
    server.get("/sessions/nobody")
    response = server.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'fwsessiond_http_requests_total{route="/sessions/{id}",method="GET",status="404"} 1' in text
    assert 'fwsessiond_decisions_total{verdict="discard",reason="bind-pending"} 1' in text
    assert 'fwsessiond_decisions_total{verdict="discard",reason="no-bind"} 1' in text
    assert 'fwsessiond_hresults_total{hresult="HRESULT_FROM_WIN32(ERROR_NOT_FOUND)"} 1' in text
    assert 'fwsessiond_binds{state="pending"} 1' in text
    assert 'fwsessiond_sessions{state="active"} 1' in text
    assert 'fwsessiond_events_total{type="bind.created"} 1' in text
    assert "fwsessiond_http_request_duration_seconds_bucket" in text
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (make deps does)")
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_real_prometheus_scrapes_fwsessiond(start_server, tmp_path):
    lines = subprocess.run([binary(), "token", "create", "--role", "viewer", "--name", "prometheus"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    token, entry = lines[0], json.loads(lines[1])
    admin = subprocess.run([binary(), "token", "create", "--role", "admin", "--name", "admin"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    server = start_server(store="memory", config={"tokens": [entry, json.loads(admin[1])]})
    headers = {"Authorization": "Bearer " + admin[0]}
    for _ in range(3):
        assert server.post("/rules", {"name": "ftp", "action": "allow", "protocols": [FTP], "users": ["All Users"]},
                           headers=headers).status_code == 201
    port = free_port()
    target = server.base_url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: fwsessiond
    authorization:
      type: Bearer
      credentials: {token}
    static_configs:
      - targets: ["{target}"]
""")
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus is missing: install Debian's prometheus package (make deps does)")
    prometheus = subprocess.Popen(
        ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def created_rules():
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/api/v1/query", timeout=2, params={
                    "query": 'fwsessiond_http_requests_total{route="/rules",method="POST",status="201"}'}).json()
            except requests.RequestException:
                return None
            results = answer.get("data", {}).get("result", [])
            return results[0]["value"][1] if results else None

        assert wait_until(created_rules, timeout=30, interval=0.5) == "3"
    finally:
        prometheus.terminate()
        prometheus.wait(10)


def test_the_grafana_dashboard_and_scrape_config_use_real_metrics(server, tmp_path):
    import re
    from conftest import REPO
    dashboard = json.loads((REPO / "deploy" / "grafana" / "fwsessiond-dashboard.json").read_text())
    server.get("/healthz")  # request series appear with the first request
    exported = {line.split(" ")[2] for line in server.get("/metrics").text.splitlines() if line.startswith("# TYPE")}
    histogram_parts = {name + suffix for name in exported for suffix in ("_bucket", "_sum", "_count")}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for metric in re.findall(r"fwsessiond_[a-z_]+", target["expr"]):
                assert metric in exported | histogram_parts, f"panel '{panel['title']}' uses unknown {metric}"
    config = (REPO / "deploy" / "prometheus" / "prometheus.yml").read_text()
    (tmp_path / "token").write_text("fws_example\n")
    (tmp_path / "prometheus.yml").write_text(config.replace("/etc/prometheus/fwsessiond.token", str(tmp_path / "token")))
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (make deps does)")
    check = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
