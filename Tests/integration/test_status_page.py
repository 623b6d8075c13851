"""The built-in status page at /ui, in a real headless Chromium: seeded state shows, new approvals
appear live, and a screenshot is kept as a test artifact."""
import pathlib
import shutil
import time

import pytest

from conftest import FTP, REPO, wait_until

ARTIFACTS = REPO / "test-artifacts"


def fresh(read):
    """read() again when what it found was replaced meanwhile: the page re-renders its tables and
    totals on every refresh, so an element found just before one goes stale before it is read."""
    from selenium.common.exceptions import StaleElementReferenceException
    for _ in range(50):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.02)
    return read()


def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("Chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1440,1000",
                 "--disable-dev-shm-usage"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_status_page_shows_state_and_live_approvals(server):
    page = server.get("/ui")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "<script src" not in page.text and "<link" not in page.text, "the page must be self-contained"

    server.create_session(id="ws17-1", clientAddress="10.1.2.3", user={"name": "CONTOSO\\alice", "groups": []})
    server.create_session(id="voip-7", clientAddress="10.1.9.9")
    seeded = server.create_bind("ws17-1", "tcp", "203.0.113.10:40000")
    server.allow_protocol(FTP)
    server.retroactive("ws17-1", ipFilter={"include": ["198.51.100.7"]})
    server.create_bind("voip-7", "udp", "203.0.113.10:5004")

    driver = browser()
    try:
        driver.get(server.url("/ui"))
        row = lambda bind_id: driver.find_elements("css selector", f'tr[data-bind="{bind_id}"]')
        wait_until(lambda: row(seeded["id"]), timeout=15)
        assert "allowed" in row(seeded["id"])[0].text and "198.51.100.7" in row(seeded["id"])[0].text
        assert "CONTOSO\\alice" in driver.find_element("id", "sessions").text
        assert "allow" in driver.find_element("id", "rules").text
        wait_until(lambda: driver.find_element("id", "conn").text == "live", timeout=15)

        live = server.create_bind("voip-7", "udp", "203.0.113.10:5006")
        server.retroactive("voip-7", "udp", "203.0.113.10:5006", FTP, flags=["bidirectional"])
        wait_until(lambda: row(live["id"]) and "allowed" in row(live["id"])[0].text, timeout=15)
        assert "bind.allowed" in driver.find_element("id", "events").text

        search = driver.find_element("id", "search")
        search.send_keys("alice")
        wait_until(lambda: not row(live["id"]) and row(seeded["id"]), timeout=5)
        search.clear()
        search.send_keys(" ")
        time.sleep(0.5)
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "status-page.png"))
        assert (ARTIFACTS / "status-page.png").stat().st_size > 10_000
    finally:
        driver.quit()


def test_status_page_asks_for_a_token_when_access_control_is_on(start_server):
    import json
    import subprocess
    from conftest import binary
    lines = subprocess.run([binary(), "token", "create", "--role", "viewer", "--name", "dashboard"],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    server = start_server(store="memory", config={"tokens": [json.loads(lines[1])]})
    driver = browser()
    try:
        driver.get(server.url("/ui"))
        wait_until(lambda: driver.find_element("id", "tokenbox").is_displayed(), timeout=15)
        driver.find_element("id", "token").send_keys(lines[0])
        driver.find_element("id", "save").click()
        wait_until(lambda: driver.find_element("id", "conn").text == "live", timeout=15)
        assert "Default rule" in driver.find_element("id", "rules").text
    finally:
        driver.quit()


def test_status_page_shows_true_totals_says_how_much_it_shows_and_reaches_the_rest(server):
    """3,005 sessions: the page shows one page of them with the server's counts (those /metrics
    exports) and says so, turns pages, and finds a session and a bound address beyond the first
    page by asking the server."""
    import concurrent.futures
    import threading
    import requests as http

    local = threading.local()

    def create(i):
        client = getattr(local, "client", None) or http.Session()
        local.client = client
        response = client.post(server.url("/sessions"), json={"id": f"load-{i:04d}", "clientAddress": "10.2.0.1"},
                               timeout=30)
        assert response.status_code == 201, response.text

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(3005)))
    first = server.create_bind("load-0000", "udp", "203.0.113.20:5000")
    last = server.create_bind("load-3004", "tcp", "203.0.113.77:4000")
    metrics = server.get("/metrics").text
    assert 'fwsessiond_sessions{state="active"} 3005' in metrics and 'fwsessiond_binds{state="pending"} 2' in metrics

    driver = browser()
    try:
        driver.get(server.url("/ui"))
        text = lambda element_id: fresh(lambda: driver.find_element("id", element_id).text)
        stat = lambda name: fresh(lambda: driver.find_element("css selector", f'[data-stat="{name}"]').text)
        wait_until(lambda: "of 3,005" in text("sessions-count"), timeout=20)
        assert text("sessions-count").startswith("showing 1–100 of 3,005")
        assert stat("sessions") == "sessions 3,005" and stat("binds") == "binds 2" and stat("pending") == "pending 2"
        assert len(driver.find_elements("css selector", "#sessions tbody tr")) == 100
        assert driver.find_elements("css selector", f'tr[data-bind="{first["id"]}"]')
        assert not driver.find_elements("css selector", f'tr[data-bind="{last["id"]}"]')
        assert "showing 1 of 2" in text("binds-count")

        driver.find_element("id", "next").click()
        wait_until(lambda: text("sessions-count").startswith("showing 101–200 of 3,005"), timeout=10)
        assert driver.find_elements("css selector", 'tr[data-session="load-0150"]')

        search = driver.find_element("id", "search")
        search.send_keys("load-3004")
        wait_until(lambda: driver.find_elements("css selector", f'tr[data-bind="{last["id"]}"]'), timeout=10)
        assert driver.find_elements("css selector", 'tr[data-session="load-3004"]')
        assert "of 3,005" in text("sessions-count")
        search.clear()
        search.send_keys("203.0.113.77:4000")
        wait_until(lambda: driver.find_elements("css selector", f'tr[data-bind="{last["id"]}"]')
                   and not driver.find_elements("css selector", f'tr[data-bind="{first["id"]}"]'), timeout=10)

        # Live changes move the totals with the server's counts.
        server.allow_protocol(FTP)
        assert server.retroactive("load-3004", "tcp", "203.0.113.77:4000", FTP).json()["hresult"] == "S_OK"
        wait_until(lambda: stat("allowed") == "allowed 1" and stat("pending") == "pending 1", timeout=10)
    finally:
        driver.quit()
