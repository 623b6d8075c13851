"""HTTPS through libmicrohttpd's GnuTLS support, and mutual TLS, with certificates made here."""
import subprocess

import pytest
import requests

from conftest import assert_problem


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=fwsessiond test CA",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=tmp_path)
    for name, extension in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                            ("client", "extendedKeyUsage=clientAuth")):
        (tmp_path / f"{name}.ext").write_text(extension + "\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=tmp_path)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=tmp_path)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stranger",
            "-keyout", "stranger.key", "-out", "stranger.pem", cwd=tmp_path)
    return tmp_path


def test_https_with_a_client_that_verifies_the_certificate(start_server, pki):
    server = start_server("--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                          store="memory", verify=str(pki / "ca.pem"))
    assert server.base_url.startswith("https://127.0.0.1:")
    curl = subprocess.run(["curl", "-sS", "--cacert", str(pki / "ca.pem"), server.url("/healthz")],
                          capture_output=True, text=True)
    assert curl.returncode == 0 and '"status":"ok"' in curl.stdout, curl.stderr
    untrusted = subprocess.run(["curl", "-sS", server.url("/healthz")], capture_output=True, text=True)
    assert untrusted.returncode != 0, "curl must refuse a certificate it cannot verify"
    created = server.post("/sessions", {"clientAddress": "10.0.0.1"})
    assert created.status_code == 201
    plain = server.base_url.replace("https://", "http://")
    with pytest.raises(requests.RequestException):
        requests.get(plain + "/healthz", timeout=5)


def test_mutual_tls_requires_a_certificate_from_the_ca(start_server, pki):
    server = start_server("--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                          "--tls-client-ca", str(pki / "ca.pem"), store="memory", verify=str(pki / "ca.pem"))
    anonymous = server.get("/sessions")
    assert_problem(anonymous, 403, "E_ACCESSDENIED")
    stranger = requests.get(server.url("/sessions"), verify=str(pki / "ca.pem"),
                            cert=(str(pki / "stranger.pem"), str(pki / "stranger.key")), timeout=10)
    assert stranger.status_code == 403
    curl = subprocess.run(["curl", "-sS", "--cacert", str(pki / "ca.pem"), "--cert", str(pki / "client.pem"),
                           "--key", str(pki / "client.key"), server.url("/sessions")], capture_output=True, text=True)
    assert curl.returncode == 0 and '"items":[]' in curl.stdout, curl.stdout + curl.stderr


def test_tls_files_must_exist_and_go_together(start_server, pki, tmp_path):
    from conftest import binary
    missing = subprocess.run([binary(), "serve", "--listen", "127.0.0.1:0", "--store", "memory",
                              "--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(pki / "server.key")],
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode != 0 and "nope.pem" in missing.stderr
    alone = subprocess.run([binary(), "serve", "--listen", "127.0.0.1:0", "--store", "memory",
                            "--tls-cert", str(pki / "server.pem")], capture_output=True, text=True, timeout=30)
    assert alone.returncode != 0 and "go together" in alone.stderr


def test_refused_client_certificates_are_logged_with_the_client_address(start_server, pki):
    server = start_server("--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                          "--tls-client-ca", str(pki / "ca.pem"), store="memory", verify=str(pki / "ca.pem"))
    refused = server.get("/sessions")
    assert_problem(refused, 403, "E_ACCESSDENIED")
    request_id = refused.headers["X-Request-Id"]
    from conftest import wait_until
    line = wait_until(lambda: next((l for l in server.log_lines if f"request.id={request_id}" in l), None), timeout=10)
    assert " notice " in line and "http.status=403" in line and "client.address=127.0.0.1:" in line, line
    assert "client certificate" in line


def reissue(pki, ca_name):
    """A new CA and a server certificate from it, written over server.pem / server.key."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={ca_name}",
            "-keyout", f"{ca_name}.key", "-out", f"{ca_name}.pem", cwd=pki)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=server", "-keyout", "next.key", "-out", "next.csr", cwd=pki)
    openssl("x509", "-req", "-in", "next.csr", "-CA", f"{ca_name}.pem", "-CAkey", f"{ca_name}.key", "-CAcreateserial",
            "-days", "2", "-extfile", "server.ext", "-out", "next.pem", cwd=pki)
    (pki / "server.pem").write_bytes((pki / "next.pem").read_bytes())
    (pki / "server.key").write_bytes((pki / "next.key").read_bytes())


def test_sighup_reloads_the_tls_files_without_dropping_connections_or_event_streams(start_server, pki):
    import signal
    from conftest import wait_until
    server = start_server("--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "server.key"),
                          store="memory", verify=str(pki / "ca.pem"))
    import requests as http
    old_ca = str(pki / "ca.pem")
    # verify is passed per request: requests lets REQUESTS_CA_BUNDLE override a session's verify.
    keep_alive = http.Session()
    assert keep_alive.get(server.url("/healthz"), verify=old_ca, timeout=10).status_code == 200
    events = []

    def read_events():
        try:
            with http.get(server.url("/events"), stream=True, verify=old_ca, timeout=60) as response:
                for line in response.iter_lines(decode_unicode=True):
                    if line.startswith("event: "):
                        events.append(line[7:])
        except requests.RequestException:
            pass  # the server is killed when the test ends
    import threading
    threading.Thread(target=read_events, daemon=True).start()
    wait_until(lambda: "fwsessiond_event_subscribers 1" in server.get("/metrics").text, timeout=10)

    reissue(pki, "next-ca")
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "configuration reloaded" in server.log, timeout=10)
    fresh = http.get(server.url("/healthz"), verify=str(pki / "next-ca.pem"), timeout=10)
    assert fresh.status_code == 200, "a new connection does not get the new certificate"
    with pytest.raises(requests.exceptions.SSLError):
        http.get(server.url("/healthz"), verify=old_ca, timeout=10)
    assert keep_alive.get(server.url("/sessions"), verify=old_ca, timeout=10).status_code == 200, \
        "the reload dropped a kept-alive connection"
    assert http.post(server.url("/sessions"), json={"id": "after", "clientAddress": "10.1.2.3"},
                     verify=str(pki / "next-ca.pem"), timeout=10).status_code == 201
    wait_until(lambda: "session.created" in events, timeout=10)

    # A key that does not load keeps the running certificate, and the log says why.
    (pki / "server.key").write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in server.log, timeout=10)
    assert http.get(server.url("/healthz"), verify=str(pki / "next-ca.pem"), timeout=10).status_code == 200
    assert server.process.poll() is None


def test_a_tls_key_the_server_may_not_read_says_permission_denied_with_the_path(pki):
    import os
    import shutil
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the server as nobody")
    import tempfile
    from conftest import binary
    folder = tempfile.mkdtemp(prefix="fwsessiond-tls-")
    try:
        os.chmod(folder, 0o755)
        for name, mode in (("server.pem", 0o644), ("server.key", 0o600)):
            shutil.copy(pki / name, folder)
            os.chmod(f"{folder}/{name}", mode)
        run = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", binary(), "serve",
                              "--listen", "127.0.0.1:0", "--store", "memory", "--tls-cert", f"{folder}/server.pem",
                              "--tls-key", f"{folder}/server.key"], capture_output=True, text=True, timeout=30)
        assert run.returncode != 0
        assert "permission denied" in run.stderr.lower() and f"{folder}/server.key" in run.stderr, run.stderr
    finally:
        shutil.rmtree(folder)
