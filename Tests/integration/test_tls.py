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
