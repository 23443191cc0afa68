"""The HTTP side: the run command, the landing page, TLS and basic auth from --web.config.file."""

from __future__ import annotations

import base64
import signal
import ssl
import urllib.request

import bcrypt
import pytest
import trustme

from tests.support.exporter_process import wait_until_served
from tests.support.scrape import get, scrape


def test_run_serves_its_own_metrics_and_stops_on_sigterm(run_exporter, refu_sim, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text(
        f"refu:\n  targets:\n    - {{name: sim, address: '127.0.0.1:{refu_sim.port}'}}\n"
    )
    process, port = run_exporter("--config", str(config))
    wait_until_served(f"http://127.0.0.1:{port}/-/healthy")
    result = scrape(f"http://127.0.0.1:{port}/metrics")
    assert result.value("refu_up", target="sim") == 1
    assert result.has("process_resident_memory_bytes")
    assert result.value("ess_exporter_build_info", version="0.1.0") == 1
    status, page = get(f"http://127.0.0.1:{port}/")
    assert status == 200
    link = f'<a href="probe?module=refu&amp;target=127.0.0.1%3A{refu_sim.port}&amp;unit_id=1">'
    assert f"<li>sim: 127.0.0.1:{refu_sim.port} ({link}/probe</a>)</li>" in page
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_a_bad_config_stops_run_with_exit_2(run_exporter, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("powerocean:\n  devices: [SN1]\n  broker: {url: 'http://x', password: s}\n")
    process, _ = run_exporter("--config", str(config))
    assert process.wait(timeout=15) == 2
    errors = process.stderr.read()
    assert f"{config}: powerocean.broker.url: must start with mqtt:// or mqtts://" in errors
    assert f"{config}: powerocean.broker.password: not allowed" in errors
    assert " s\n" not in errors and "'s'" not in errors


def test_basic_auth_and_tls_from_the_web_config(run_exporter, tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=4)).decode()
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config: {cert_file: server.pem, key_file: server.pem}\n"
        f"basic_auth_users: {{prometheus: '{hashed}'}}\n"
    )
    _, port = run_exporter("--web.config.file", str(web))
    context = ssl.create_default_context()
    ca.configure_trust(context)
    url = f"https://127.0.0.1:{port}/metrics"
    wait_until_served(url, context)

    def status(password: str | None) -> int:
        request = urllib.request.Request(url)
        if password is not None:
            token = base64.b64encode(f"prometheus:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status(None) == 401
    assert status("wrong") == 401
    assert status("s3cret") == 200
    with pytest.raises(OSError):  # plain HTTP on the TLS port
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
