"""Broken configs, checked in-process: every error names the file, the key and the reason,
and none shows a secret.

``check-config`` runs through click's test runner; web configs (read by ``run`` only) through
``load_web_config``. tests/integration keeps one case of each as a real process.
"""

from __future__ import annotations

import base64
from pathlib import Path

import bcrypt
import pytest
import trustme
from click.testing import CliRunner

from exporter.cli import main
from exporter.config import ConfigError
from exporter.configfile import load_config
from exporter.refu.channels import load_refu_mapping
from exporter.webconfig import load_web_config
from tests.support.secrets import assert_no_secret

REFU_SETTINGS = load_refu_mapping().settings
#: A password, kept in files and the environment by the cases below.
SECRET = "hunter2-pässwort"


def check_config(path: Path) -> tuple[int, list[str]]:
    """Exit status and stderr lines of ``ess-exporter check-config PATH``."""
    result = CliRunner().invoke(main, ["check-config", str(path)])
    return result.exit_code, result.stderr.splitlines()


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path, REFU_SETTINGS)
    return raised.value.problems


BROKEN_REFU_TARGETS = [
    ("min_soc_percent: ten", "min_soc_percent", "must be a number 0..100, got 'ten'"),
    ("min_soc_percent: 150", "min_soc_percent", "must be a number 0..100, got 150"),
    ("charge_soc_percent: -1", "charge_soc_percent", "must be a number 0..100, got -1"),
    ("min_soc_percent: .nan", "min_soc_percent", "must be a number 0..100, got nan"),
    ("capacity_wh: -5", "capacity_wh", "must be a number > 0, got -5"),
    ("capacity_wh: 0", "capacity_wh", "must be a number > 0, got 0"),
    ("max_nominal_power_va: true", "max_nominal_power_va", "must be a number > 0, got True"),
    ("alias: [a]", "alias", "must be text, got ['a']"),
    ("unit_id: 256", "unit_id", "must be a whole number 0..255, got 256"),
    ("unit_id: 1.5", "unit_id", "must be a whole number 0..255, got 1.5"),
    ("address: 'http://10.0.0.1:502'", "address", "must be host:port, not a URL"),
    ("address: '10.0.0.1:0'", "address", "port must be a number 1..65535, got '0'"),
    ("address: '10.0.0.1:http'", "address", "port must be a number 1..65535, got 'http'"),
    ("address: '[::1'", "address", "must be [IPv6 address]:port"),
    ("address: 'a b:502'", "address", "contains spaces or control characters"),
    ("colour: red", "colour", "unknown key"),
    ('name: "a\\tb"', "name", "must not contain control characters"),
]
#: The keys a target needs, given in each case but the one about that key.
REQUIRED_TARGET_KEYS = {"name": "name: a, ", "address": "address: '10.0.0.1:502', "}


@pytest.mark.parametrize(("setting", "key", "reason"), BROKEN_REFU_TARGETS)
def test_check_config_names_file_key_and_reason(tmp_path, setting, key, reason):
    config = tmp_path / "config.yml"
    required = "".join(text for name, text in REQUIRED_TARGET_KEYS.items() if name != key)
    config.write_text(f"refu:\n  targets:\n    - {{{required}{setting}}}\n")
    assert check_config(config) == (2, [f"{config}: refu.targets[0].{key}: {reason}"])


LOGIN = "powerocean:\n  devices: [R371A]\n  login: {email: owner@example.com, "
#: A broken config and the one problem it gives, after the file's name.
BROKEN_SECTIONS = [
    pytest.param(
        "refu:\n  targets: {name: a, address: '10.0.0.1:502'}\n",
        "refu.targets: must be a list",
        id="targets not a list",
    ),
    pytest.param(
        "powerocean:\n  devices: [R371A]\n  broker: {url: 'mqtt://127.0.0.1:1883'}\n"
        "  request_all_on_connect: 'yes'\n",
        "powerocean.request_all_on_connect: must be true or false",
        id="a quoted yes for true or false",
    ),
    pytest.param(
        LOGIN + "password_file: latin-1-password}\n",
        "powerocean.login.password_file: cannot read: not UTF-8 text",
        id="a secret file not in UTF-8",
    ),
    pytest.param(
        LOGIN + "password_env: ESS_UNSET_PASSWORD}\n",
        "powerocean.login.password_env: environment variable ESS_UNSET_PASSWORD is not set",
        id="a secret's environment variable not set",
    ),
]


@pytest.mark.parametrize(("content", "problem"), BROKEN_SECTIONS)
def test_a_broken_section_gives_one_line_naming_file_key_and_reason(
    tmp_path, monkeypatch, content, problem
):
    (tmp_path / "latin-1-password").write_bytes(SECRET.encode("latin-1"))
    monkeypatch.delenv("ESS_UNSET_PASSWORD", raising=False)
    [found] = problems(tmp_path, content)
    assert found == f"{tmp_path / 'config.yml'}: {problem}"
    assert_no_secret(found, SECRET)


@pytest.mark.parametrize(
    "content", ["refu:\n", "refu:\n  targets:\n", "refu:\n  targets:\n#    - name: a\n"]
)
def test_a_section_or_target_list_with_everything_commented_out_is_empty(tmp_path, content):
    """What a user has after uncommenting a section of examples/config.yml but no target."""
    config = tmp_path / "config.yml"
    config.write_text(f"{content}sunspec:\n  targets:\n", encoding="utf-8")
    loaded = load_config(config, load_refu_mapping().settings)
    assert (loaded.refu.targets, loaded.sunspec.targets) == ((), ())
    assert check_config(config) == (0, [])  # nothing on stderr


@pytest.mark.parametrize("source", ["password_file: password", "password_env: ESS_PASSWORD"])
def test_a_secret_shows_in_no_text_form_of_the_config(tmp_path, monkeypatch, source):
    (tmp_path / "password").write_text(SECRET + "\n", encoding="utf-8")
    monkeypatch.setenv("ESS_PASSWORD", SECRET)
    config = tmp_path / "config.yml"
    config.write_text(LOGIN + source + "}\n", encoding="utf-8")
    loaded = load_config(config)
    password = loaded.powerocean.login.password
    assert password.reveal() == SECRET
    assert str(password) == "********"
    for text in (repr(loaded), repr(password)):
        assert_no_secret(text, SECRET)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("conf.d", "Is a directory"),
        ("missing.yml", "No such file or directory"),
        ("latin-1.yml", "not UTF-8 text"),
    ],
)
def test_a_config_that_cannot_be_read_gives_one_line_naming_it(tmp_path, name, reason):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "latin-1.yml").write_bytes(
        "refu:\n  # Wechselrichter im Gäste-WC\n".encode("latin-1")
    )
    config = tmp_path / name
    assert check_config(config) == (2, [f"{config}: cannot read: {reason}"])


@pytest.mark.parametrize("address", ["10.0.0.1", "::1", "[::1]:5020", "refu-1.lan:1502"])
def test_addresses_that_check_config_accepts(tmp_path, address):
    config = tmp_path / "config.yml"
    config.write_text(
        f"refu:\n  targets:\n    - {{name: a, address: '{address}', min_soc_percent: 5}}\n"
    )
    assert check_config(config) == (0, [])


def test_check_config_gives_one_line_per_error_and_exits_2(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text(
        "refu:\n  timeout_seconds: -1\n  targets:\n"
        "    - {name: a, address: 'host:notaport'}\n    - {name: b, adress: x}\n"
    )
    status, lines = check_config(config)
    assert status == 2
    assert f"{config}: refu.timeout_seconds: must be a number >= 0.1, got -1" in lines
    assert f"{config}: refu.targets[0].address: port must be a number 1..65535, got 'notaport'" in (
        lines
    )
    assert f"{config}: refu.targets[1].adress: unknown key, did you mean 'address'?" in lines

    config.write_text("refu:\n  targets:\n    - {name: a, address: '127.0.0.1:502'}\n")
    assert check_config(config) == (0, [])


def test_credentials_in_a_broker_url_are_refused_without_showing_them(tmp_path):
    config = tmp_path / "config.yml"
    url = "mqtt://user:hunter2-secret@127.0.0.1:1883"
    config.write_text(f"powerocean:\n  broker: {{url: '{url}'}}\n  devices: [X]\n")
    assert check_config(config) == (
        2,
        [
            f"{config}: powerocean.broker.url: must not contain user:password@; "
            "use username and password_file"
        ],
    )


def test_a_yaml_syntax_error_names_the_file_line_and_column_on_one_line(tmp_path):
    [problem] = problems(tmp_path, "refu:\n  targets: [\n")
    path = tmp_path / "config.yml"
    assert problem.startswith(f"{path}: not valid YAML: ")
    assert f'in "{path}", line 3, column 1' in problem
    assert "<unicode string>" not in problem
    assert "\n" not in problem


def test_a_misspelt_key_gets_a_suggestion(tmp_path):
    found = problems(
        tmp_path,
        "refu:\n  timeout_secnds: 3\n  targets:\n    - {name: a, address: h, alais: x}\n"
        "powerocan: {}\n",
    )
    path = tmp_path / "config.yml"
    assert found == [
        f"{path}: powerocan: unknown key, did you mean 'powerocean'?",
        f"{path}: refu.timeout_secnds: unknown key, did you mean 'timeout_seconds'?",
        f"{path}: refu.targets[0].alais: unknown key, did you mean 'alias'?",
    ]


def test_an_unknown_key_like_nothing_gets_no_suggestion(tmp_path):
    [problem] = problems(tmp_path, "grafana: {}\n")
    assert problem == f"{tmp_path / 'config.yml'}: grafana: unknown key"


TLS = "tls_server_config: {cert_file: server.pem, key_file: server.pem, "
CLIENT_CA = TLS + "client_auth_type: RequireAndVerifyClientCert, "
#: Inline key text that is no PEM key, and a secret all the same.
INLINE_KEY = "not-a-pem-but-a-s3cret-key"
#: A broken web config, the key its one error names, and how the reason starts (all of it
#: where the reason does not quote the TLS library).
BROKEN_WEB_CONFIGS = [
    (
        TLS + "client_auth_type: Sometimes}",
        "tls_server_config.client_auth_type",
        "must be one of NoClientCert, RequestClientCert, VerifyClientCertIfGiven, "
        "RequireAnyClientCert, RequireAndVerifyClientCert",
    ),
    (
        TLS + "client_auth_type: [RequireAndVerifyClientCert]}",
        "tls_server_config.client_auth_type",
        "must be one of ",
    ),
    (
        TLS + "client_auth_type: RequireAndVerifyClientCert}",
        "tls_server_config.client_auth_type",
        "RequireAndVerifyClientCert needs client_ca_file or client_ca "
        "(every client certificate is verified)",
    ),
    (
        TLS + "client_ca_file: server.pem}",
        "tls_server_config.client_ca_file",
        "set, but client_auth_type is NoClientCert",
    ),
    (
        TLS + "min_version: TLS9}",
        "tls_server_config.min_version",
        "must be one of TLS10, TLS11, TLS12, TLS13",
    ),
    (
        TLS + "min_version: TLS13, max_version: TLS12}",
        "tls_server_config.min_version",
        "is above max_version",
    ),
    (
        TLS + "cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]}",
        "tls_server_config.cipher_suites",
        "unknown or unsupported 'TLS_RSA_WITH_RC4_128_SHA'; known: TLS_ECDHE_",
    ),
    (
        CLIENT_CA + "client_ca_file: key.pem}",
        "tls_server_config.client_ca_file",
        "cannot load: [X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate or crl found",
    ),
    (
        CLIENT_CA + "client_ca: not-a-certificate}",
        "tls_server_config.client_ca",
        "cannot load: no start line: cadata does not contain a certificate",
    ),
    (
        CLIENT_CA + "client_ca: 'Zertifikat für Gäste'}",
        "tls_server_config.client_ca",
        "cannot load: cadata should be an ASCII string",
    ),
    (CLIENT_CA + "client_ca: 5}", "tls_server_config.client_ca", "must be non-empty text"),
    (
        TLS + "client_ca: not-a-certificate}",
        "tls_server_config.client_ca",
        "set, but client_auth_type is NoClientCert",
    ),
    (
        TLS + "client_allowed_sans: prometheus.example}",
        "tls_server_config.client_allowed_sans",
        "must be a list of names",
    ),
    (
        TLS + "client_allowed_sans: [prometheus.example]}",
        "tls_server_config.client_allowed_sans",
        "needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert",
    ),
    (
        TLS + "prefer_server_cipher_suites: 'no'}",
        "tls_server_config.prefer_server_cipher_suites",
        "must be true or false",
    ),
    (TLS + "curve_preferences: X25519}", "tls_server_config.curve_preferences", "must be a list"),
    (TLS + "bogus: 1}", "tls_server_config.bogus", "unknown key"),
    (
        "tls_server_config: {cert_file: cert.pem, key_file: other-key.pem}",
        "tls_server_config",
        "certificate and key do not load together: ",
    ),
    (
        "tls_server_config: {cert_file: key.pem, key_file: cert.pem}",
        "tls_server_config",
        "certificate and key do not load together: ",
    ),
    (
        "tls_server_config: {cert_file: missing.pem, key_file: server.pem}",
        "tls_server_config.cert_file",
        "no such file: 'missing.pem'",
    ),
    (
        "tls_server_config: {key_file: server.pem}",
        "tls_server_config.cert_file",
        "needs exactly one of cert_file or cert",
    ),
    (
        "tls_server_config: {cert_file: cert.pem, key: ''}",
        "tls_server_config.key",
        "must be non-empty text",
    ),
    (
        f"tls_server_config: {{cert_file: cert.pem, key: {INLINE_KEY}}}",
        "tls_server_config",
        "certificate and key do not load together: ",
    ),
    (
        "http_server_config: {headers: {X-Frame-Options: always}}",
        "http_server_config.headers.X-Frame-Options",
        "must be deny or sameorigin",
    ),
    (
        "http_server_config: {headers: {Server: me}}",
        "http_server_config.headers.Server",
        "unknown key",
    ),
    (
        "basic_auth_users: {prometheus: plain-text-password}",
        "basic_auth_users.prometheus",
        "must be a bcrypt hash",
    ),
    (
        "rate_limit: {interval: soon, burst: 5}",
        "rate_limit.interval",
        "must be a duration such as 100ms, 1s or 1m",
    ),
    ("rate_limit: {interval: 1s, burst: -1}", "rate_limit.burst", "must be a whole number >= 0"),
    ("basic_auth_users: [prometheus]", "basic_auth_users", "must map user names to bcrypt hashes"),
    ("- a list", "", "must be a mapping"),
]


@pytest.fixture(scope="module")
def web_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("web")
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(directory / "server.pem")
    )
    leaf = ca.issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(directory / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(directory / "key.pem"))
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(directory / "other-key.pem"))
    return directory


@pytest.mark.parametrize(("content", "key", "reason"), BROKEN_WEB_CONFIGS)
def test_a_broken_web_config_gives_one_line_naming_file_key_and_reason(
    web_directory, content, key, reason
):
    web = web_directory / "web.yml"
    web.write_text(content + "\n")
    with pytest.raises(ConfigError) as raised:
        load_web_config(web)
    [problem] = raised.value.problems
    assert problem.startswith(f"{web}: {key}: {reason}"), problem
    assert "\n" not in problem
    assert_no_secret(problem, INLINE_KEY)


def test_basic_auth_admits_the_right_password_each_time_and_nothing_else(tmp_path):
    hashed = bcrypt.hashpw(b"right-password", bcrypt.gensalt(rounds=4)).decode()
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users: {{prometheus: '{hashed}'}}\n")
    config = load_web_config(web)

    def basic(password: str) -> str:
        return "Basic " + base64.b64encode(f"prometheus:{password}".encode()).decode()

    headers = [basic("right-password"), basic("right-password"), basic("wrong-password"), None]
    assert [config.authorized(header) for header in headers] == [True, True, False, False]
