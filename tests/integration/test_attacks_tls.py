"""TLS from --web.config.file against real clients: certificates in files or inline, client
certificates, versions, ciphers and curves."""

from __future__ import annotations

import json
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
    server = server_ca.issue_cert("127.0.0.1")
    server.private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
    client_ca.cert_pem.write_to_path(str(directory / "clients-ca.pem"))
    return {
        "directory": directory,
        "server_ca": server_ca,
        "server": server,
        "client_ca": client_ca,
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


def negotiated(process: ExporterProcess, context: ssl.SSLContext) -> tuple[str | None, str]:
    """The TLS version and cipher suite of a connection with this client context."""
    with (
        ssl.create_connection(("127.0.0.1", process.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as connection,
    ):
        return connection.version(), connection.cipher()[0]


#: The server's certificate and key, from files.
SERVER_FILES = "cert_file: server.pem, key_file: server.pem"


def start(directory: Path, tls: str, certificate: str = SERVER_FILES) -> Iterator[ExporterProcess]:
    settings = f"{certificate}, {tls}" if tls else certificate
    web = directory / f"web-{abs(hash(settings))}.yml"
    web.write_text(f"tls_server_config: {{{settings}}}\n")
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


def test_certificate_key_and_client_ca_given_inline(pki):
    """PEM text in the web config instead of file names serves TLS all the same."""
    pem = {
        "cert": pki["server"].cert_chain_pems[0].bytes().decode(),
        "key": pki["server"].private_key_pem.bytes().decode(),
        "client_ca": pki["client_ca"].cert_pem.bytes().decode(),
    }
    cert, key, client_ca = (f"{name}: {json.dumps(text)}" for name, text in pem.items())
    tls = f"client_auth_type: RequireAndVerifyClientCert, {client_ca}"
    for process in start(pki["directory"], tls, certificate=f"{cert}, {key}"):
        process.wait_until_served(client_context(pki, "prometheus"))
        assert answers(process, client_context(pki, "prometheus"))
        assert not answers(process, client_context(pki, None))
        assert not answers(process, client_context(pki, "stranger"))


def test_cipher_suites_limit_tls12(pki):
    tls = "max_version: TLS12, cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]"
    for process in start(pki["directory"], tls):
        process.wait_until_served(client_context(pki, None))
        assert negotiated(process, client_context(pki, None)) == (
            "TLSv1.2",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
        )


@pytest.mark.parametrize(
    ("prefer", "chosen"),
    [("true", "ECDHE-ECDSA-AES128-GCM-SHA256"), ("false", "ECDHE-ECDSA-CHACHA20-POLY1305")],
)
def test_prefer_server_cipher_suites_picks_whose_order_wins(pki, prefer, chosen):
    """The server lists AES first, the client ChaCha20: the preferred side's first is taken."""
    tls = (
        "max_version: TLS12, cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
        f"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256], prefer_server_cipher_suites: {prefer}"
    )
    for process in start(pki["directory"], tls):
        process.wait_until_served(client_context(pki, None))
        context = client_context(pki, None)
        context.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256")
        assert negotiated(process, context) == ("TLSv1.2", chosen)


def test_curve_preferences_refuse_clients_without_the_curve(pki):
    for process in start(pki["directory"], "curve_preferences: [CurveP384]"):
        process.wait_until_served(client_context(pki, None))
        for curve, served in (("secp384r1", True), ("X25519", False), ("prime256v1", False)):
            context = client_context(pki, None)
            context.set_ecdh_curve(curve)
            assert answers(process, context) is served, curve
