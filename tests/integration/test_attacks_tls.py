"""TLS from --web.config.file against real clients: client certificates, versions, ciphers."""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.support.exporter_process import ExporterProcess


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, object]:
    """A server CA, a client CA with two clients, and a stranger's CA with one."""
    directory = tmp_path_factory.mktemp("pki")
    server_ca, client_ca, stranger_ca = trustme.CA(), trustme.CA(), trustme.CA()
    server_ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(directory / "server.pem")
    )
    client_ca.cert_pem.write_to_path(str(directory / "clients-ca.pem"))
    return {
        "directory": directory,
        "server_ca": server_ca,
        "prometheus": client_ca.issue_cert("prometheus.example"),
        "other": client_ca.issue_cert("other.example"),
        "stranger": stranger_ca.issue_cert("prometheus.example"),
    }


def client_context(pki: dict, certificate: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    pki["server_ca"].configure_trust(context)
    if certificate is not None:
        pki[certificate].configure_cert(context)
    return context


def answers(process: ExporterProcess, context: ssl.SSLContext) -> bool:
    """True when /-/healthy answers 200 over TLS with this client context."""
    try:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{process.port}/-/healthy", timeout=5, context=context
        ) as response:
            return response.status == 200
    except OSError:  # handshake refused, reset, or an alert after it
        return False


def start(directory: Path, tls: str) -> Iterator[ExporterProcess]:
    web = directory / f"web-{abs(hash(tls))}.yml"
    web.write_text(f"tls_server_config: {{cert_file: server.pem, key_file: server.pem, {tls}}}\n")
    process = ExporterProcess("--web.config.file", str(web))
    yield process
    process.stop()


CLIENT_AUTH_CASES = [
    # client_auth_type, answers without a certificate, with one of the client CA, a stranger's
    ("NoClientCert", True, True, True),
    ("RequestClientCert", True, True, False),
    ("VerifyClientCertIfGiven", True, True, False),
    ("RequireAnyClientCert", False, True, False),
    ("RequireAndVerifyClientCert", False, True, False),
]


@pytest.mark.parametrize(("kind", "bare", "client", "stranger"), CLIENT_AUTH_CASES)
def test_client_auth_type(pki, kind, bare, client, stranger):
    ca = "" if kind == "NoClientCert" else ", client_ca_file: clients-ca.pem"
    for process in start(pki["directory"], f"client_auth_type: {kind}{ca}"):
        process.wait_until_served(client_context(pki, "prometheus"))
        assert answers(process, client_context(pki, None)) is bare
        assert answers(process, client_context(pki, "prometheus")) is client
        assert answers(process, client_context(pki, "stranger")) is stranger
        assert process.running


def test_client_allowed_sans(pki):
    tls = (
        "client_auth_type: RequireAndVerifyClientCert, client_ca_file: clients-ca.pem, "
        "client_allowed_sans: [prometheus.example]"
    )
    for process in start(pki["directory"], tls):
        process.wait_until_served(client_context(pki, "prometheus"))
        assert answers(process, client_context(pki, "prometheus"))
        assert not answers(process, client_context(pki, "other"))


def test_min_version_refuses_older_clients(pki):
    for process in start(pki["directory"], "min_version: TLS13"):
        process.wait_until_served(client_context(pki, None))
        old = client_context(pki, None)
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        assert not answers(process, old)


def test_cipher_suites_limit_tls12(pki):
    tls = "max_version: TLS12, cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]"
    for process in start(pki["directory"], tls):
        process.wait_until_served(client_context(pki, None))
        context = client_context(pki, None)
        with (
            ssl.create_connection(("127.0.0.1", process.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="127.0.0.1") as connection,
        ):
            assert connection.version() == "TLSv1.2"
            assert connection.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256"
