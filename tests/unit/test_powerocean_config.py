"""The powerocean section of the config, read in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.config import ConfigError
from exporter.configfile import load_config
from exporter.powerocean.config import DEFAULT_OPEN_API


def load(tmp_path: Path, text: str):
    (tmp_path / "secret").write_text("SKsecret0000000000000000000001\n")
    path = tmp_path / "config.yml"
    path.write_text(text)
    return load_config(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, text)
    return [line.split(": ", 1)[1] for line in error.value.problems]


BROKER = "  broker: {url: 'mqtt://127.0.0.1:1883'}\n"


def test_devices_are_serials_or_serials_with_a_name(tmp_path):
    config = load(
        tmp_path, "powerocean:\n" + BROKER + "  devices: [R371A, {serial: R371B, name: garage}]\n"
    )
    assert config.powerocean.devices == {"R371A": "R371A", "R371B": "garage"}


@pytest.mark.parametrize(
    ("devices", "reason"),
    [
        ("[R371A, R371A]", "devices[1]: serial 'R371A' is listed twice"),
        ("['a/b']", "devices[0]: not a serial number (no / + # or space): 'a/b'"),
        ("[{name: x}]", "devices[0].serial: must be non-empty text"),
        ("[{serial: R371A, nick: x}]", "devices[0].nick: unknown key"),
        ("[]", "devices: must be a non-empty list of serial numbers"),
    ],
)
def test_bad_devices_are_named(tmp_path, devices, reason):
    found = problems(tmp_path, "powerocean:\n" + BROKER + f"  devices: {devices}\n")
    assert any(reason in line for line in found), found


def test_open_api_keys_and_their_defaults(tmp_path):
    config = load(
        tmp_path,
        "powerocean:\n  open_api:\n    access_key: ' AKkey '\n    secret_key_file: secret\n",
    )
    keys = config.powerocean.open_api
    assert (keys.access_key, keys.secret_key.reveal()) == (
        "AKkey",
        "SKsecret0000000000000000000001",
    )
    assert (keys.api_url, keys.poll_seconds) == (DEFAULT_OPEN_API, 60.0)
    assert config.powerocean.devices == {}  # the account's device list
    assert "SKsecret" not in repr(config)


def test_open_api_secret_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EF_SECRET", "SKfromEnvironment000000000001")
    config = load(
        tmp_path, "powerocean:\n  open_api: {access_key: AK, secret_key_env: EF_SECRET}\n"
    )
    assert config.powerocean.open_api.secret_key.reveal() == "SKfromEnvironment000000000001"


@pytest.mark.parametrize(
    ("open_api", "reason"),
    [
        ("{access_key: AK, secret_key: plain}", "open_api.secret_key: not allowed"),
        ("{access_key: AK}", "open_api: needs secret_key_file or secret_key_env"),
        ("{secret_key_file: secret}", "open_api.access_key: must be non-empty text"),
        (
            "{access_key: AK, secret_key_file: secret, api_url: 'http://x'}",
            "open_api.api_url: must be an https:// URL",
        ),
        (
            "{access_key: AK, secret_key_file: secret, poll_seconds: 5}",
            "open_api.poll_seconds: must be a number >= 30",
        ),
        ("{access_key: AK, secret_key_file: secret, region: eu}", "open_api.region: unknown key"),
    ],
)
def test_bad_open_api_settings_are_named(tmp_path, open_api, reason):
    found = problems(tmp_path, f"powerocean:\n  open_api: {open_api}\n")
    assert any(reason in line for line in found), found


def test_exactly_one_transport(tmp_path):
    text = (
        "powerocean:\n" + BROKER + "  open_api: {access_key: AK, secret_key_file: secret}\n"
        "  devices: [R371A]\n"
    )
    reason = "powerocean: needs exactly one of 'broker', 'login' or 'open_api'"
    assert reason in problems(tmp_path, text)


def test_the_data_requests_and_their_defaults(tmp_path):
    defaults = load(tmp_path, "powerocean:\n" + BROKER + "  devices: [R371A]\n").powerocean
    assert (
        defaults.request_all_on_connect,
        defaults.keepalive_seconds,
        defaults.latest_quotas_seconds,
        defaults.silent_after_seconds,
    ) == (True, 20.0, 30.0, 60.0)
    text = "  latest_quotas_seconds: 45\n  silent_after_seconds: 0\n"
    config = load(tmp_path, "powerocean:\n" + BROKER + "  devices: [R371A]\n" + text)
    assert (config.powerocean.latest_quotas_seconds, config.powerocean.silent_after_seconds) == (
        45.0,
        0.0,
    )


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("latest_quotas_seconds: -1", "latest_quotas_seconds: must be a number >= 0, got -1"),
        (
            "latest_quotas_seconds: often",
            "latest_quotas_seconds: must be a number >= 0, got 'often'",
        ),
        ("silent_after_seconds: -60", "silent_after_seconds: must be a number >= 0, got -60"),
        ("silent_after_seconds: true", "silent_after_seconds: must be a number >= 0, got True"),
    ],
)
def test_bad_request_settings_name_file_key_and_reason(tmp_path, setting, reason):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, "powerocean:\n" + BROKER + "  devices: [R371A]\n  " + setting + "\n")
    assert error.value.problems == [f"{tmp_path / 'config.yml'}: powerocean.{reason}"]
