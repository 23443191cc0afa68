"""OpenApiClient against a local HTTPS Open API that checks every signature."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import trustme

from exporter.config import Secret
from exporter.powerocean.https import ApiError
from exporter.powerocean.login import BrokerCredentials
from exporter.powerocean.open_api import OpenApiClient
from exporter.simulate import free_port
from tests.support.fake_open_api import (
    CERTIFICATION_PATH,
    DEVICE_LIST_PATH,
    QUOTA_ALL_PATH,
    FakeOpenApi,
    SilentServer,
    device,
)

# Keys with characters that base64 and URL-encoding change, so every form differs.
ACCESS_KEY = "AKtest+Exporter/0001=ak"
SECRET_KEY = "SKtest/Secret+0000 0000&0000=1"
SERIAL, PLUS = "HJ31ZZZ0000000001", "R371ZZZ0000000001"
QUOTA = {
    "sysGridPwr": -1234.5,
    "mpptPwr": 3000,
    "bpSoc": 87,
    "pcsAPhase.vol": "231.2",
    "mpptHeartBeat": [{"mpptPv": [{"pwr": 1500, "vol": 400.1, "amp": 3.7}]}],
    "bp_addr.BPSN0001": '{"bpSoc": 88, "bpPwr": -500}',
}
TIMEOUT = 1.0
#: Slack on top of a timeout, for a busy machine.
MARGIN_SECONDS = 3.0
SECRET = Secret(SECRET_KEY)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def api(tmp_path: Path, ca: trustme.CA) -> Iterator[FakeOpenApi]:
    fake = FakeOpenApi(
        tmp_path / "api",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        ca=ca,
        broker_host="mqtt-e.example.test",
        broker_port=8883,
        devices=[device(SERIAL, "House", online=True), device(PLUS, "Garage", online=False)],
        quotas={SERIAL: QUOTA, PLUS: {"bpSoc": 50}},
        not_served=[PLUS],
    )
    with fake:
        yield fake


def client(
    api: FakeOpenApi | str,
    *,
    access_key: str = ACCESS_KEY,
    secret_key: str = SECRET_KEY,
    ca_file: Path | None = None,
    timeout: float = TIMEOUT,
) -> OpenApiClient:
    if isinstance(api, FakeOpenApi):
        url, ca_file = api.url, ca_file or api.ca_file
    else:
        url = api
    return OpenApiClient(url, access_key, Secret(secret_key), timeout=timeout, ca_file=ca_file)


def key_forms() -> list[str]:
    forms = []
    for key in (ACCESS_KEY, SECRET_KEY):
        encoded = base64.b64encode(key.encode()).decode()
        urlsafe = base64.urlsafe_b64encode(key.encode()).decode()
        forms += [key, encoded, urlsafe, encoded.rstrip("="), quote(key), quote(key, safe="")]
        forms += [quote_plus(key), quote(encoded, safe="")]
    return forms


def assert_no_key(error: ApiError) -> None:
    for text in (str(error), repr(error), *map(str, error.args)):
        for form in key_forms():
            assert form.lower() not in text.lower(), f"{form!r} in {text!r}"


def test_certification_decodes_broker_credentials(api: FakeOpenApi) -> None:
    credentials = client(api).certification()
    assert credentials == BrokerCredentials(
        host="mqtt-e.example.test",
        port=8883,
        tls=True,
        username=api.certificate_account,
        password=Secret(api.certificate_password),
        client_id=f"ess-exporter-{api.certificate_account}",
        user_id=api.certificate_account,
        ca_file=api.ca_file,
    )
    assert api.certificate_password not in repr(credentials)
    assert api.calls[CERTIFICATION_PATH] == 1
    assert not api.rejections


def test_plain_broker_from_certification(api: FakeOpenApi) -> None:
    api.protocol, api.broker_port = "mqtt", 1883
    credentials = client(api).certification()
    assert (credentials.tls, credentials.port) == (False, 1883)


def test_device_list_decodes(api: FakeOpenApi) -> None:
    assert client(api).device_list() == {SERIAL: "House", PLUS: "Garage"}


def test_quota_all_returns_data_as_sent_and_follows_changes(api: FakeOpenApi) -> None:
    open_api = client(api)
    assert open_api.quota_all(SERIAL) == QUOTA
    api.update_quota(SERIAL, bpSoc=90)
    assert open_api.quota_all(SERIAL)["bpSoc"] == 90
    assert api.calls[QUOTA_ALL_PATH] == 2
    assert api.calls[DEVICE_LIST_PATH] == 0


def test_keys_pasted_with_whitespace_still_sign(api: FakeOpenApi) -> None:
    open_api = client(api, access_key=f" {ACCESS_KEY}\n", secret_key=f"{SECRET_KEY}\n")
    assert open_api.quota_all(SERIAL) == QUOTA


def test_each_request_takes_a_new_nonce_and_a_ms_timestamp(api: FakeOpenApi) -> None:
    given: list[str] = []

    def nonce() -> str:
        given.append(str(100_000 + len(given)))
        return given[-1]

    def make(clock: Callable[[], float]) -> OpenApiClient:
        return OpenApiClient(
            api.url,
            ACCESS_KEY,
            SECRET,
            timeout=TIMEOUT,
            ca_file=api.ca_file,
            clock=clock,
            nonce=nonce,
        )

    make(time.time).device_list()
    make(time.time).quota_all(SERIAL)
    assert given == ["100000", "100001"]
    with pytest.raises(ApiError) as caught:  # an hour off: the fake refuses the timestamp
        make(lambda: time.time() - 3600).device_list()
    assert caught.value.code == "8521"


def test_wrong_secret_gives_signature_message(api: FakeOpenApi) -> None:
    with pytest.raises(ApiError) as caught:
        client(api, secret_key="not-the-secret").device_list()
    assert "signature is wrong: check the secret key" in str(caught.value)
    assert (caught.value.code, caught.value.permanent) == ("8521", False)
    assert api.rejections["8521"] == 1


def test_wrong_access_key_gives_region_or_key_message(api: FakeOpenApi) -> None:
    with pytest.raises(ApiError) as caught:
        client(api, access_key="AKsomebodyElse").certification()
    assert "wrong region or key (accessKey is invalid): check api_url and the keys" in str(
        caught.value
    )
    assert (caught.value.code, caught.value.permanent) == ("8513", True)


def test_model_not_served_is_permanent_and_names_the_refused_models(api: FakeOpenApi) -> None:
    refused = {"PowerOcean Plus": ["R371", "R372"], "Ocean 2": ["RE11"]}
    errors = []
    for models in (None, refused):
        listing = OpenApiClient(
            api.url, ACCESS_KEY, SECRET, timeout=TIMEOUT, ca_file=api.ca_file, refused_models=models
        )
        with pytest.raises(ApiError) as caught:
            listing.quota_all(PLUS)
        errors.append(caught.value)
    assert [str(error) for error in errors] == [
        f"EcoFlow Open API quota of {PLUS}: the Open API does not serve this device (1006):"
        " use the app login mode (powerocean.login) instead",
        f"EcoFlow Open API quota of {PLUS}: the Open API does not serve this device (1006);"
        " it refuses PowerOcean Plus (R371, R372), Ocean 2 (RE11):"
        " use the app login mode (powerocean.login) instead",
    ]
    assert [(error.code, error.permanent) for error in errors] == [("1006", True)] * 2


def test_unknown_code_is_transient_and_shows_the_message(api: FakeOpenApi) -> None:
    api.fail_next = [("9999", "busy")]
    with pytest.raises(ApiError) as caught:
        client(api).device_list()
    assert "code 9999: busy" in str(caught.value)
    assert (caught.value.code, caught.value.permanent) == ("9999", False)


def test_http_error_is_transient(api: FakeOpenApi) -> None:
    api.error_status = 503
    with pytest.raises(ApiError) as caught:
        client(api).device_list()
    assert caught.value.permanent is False
    assert "503" in str(caught.value)


def test_unreachable_api_fails_fast_and_transient() -> None:
    started = time.monotonic()
    with pytest.raises(ApiError) as caught:
        client(f"https://127.0.0.1:{free_port()}").certification()
    assert time.monotonic() - started < TIMEOUT + MARGIN_SECONDS
    assert caught.value.permanent is False
    assert "connection refused" in str(caught.value)
    assert_no_key(caught.value)


def test_silent_api_times_out_transient() -> None:
    with SilentServer() as silent:
        started = time.monotonic()
        with pytest.raises(ApiError) as caught:
            client(silent.url, timeout=0.3).device_list()
        elapsed = time.monotonic() - started
    assert elapsed < 0.3 + MARGIN_SECONDS
    assert caught.value.permanent is False
    assert "no answer within 0.3 s" in str(caught.value)


def test_untrusted_certificate_is_refused(api: FakeOpenApi, tmp_path: Path) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    with pytest.raises(ApiError) as caught:
        client(api, ca_file=other_ca).device_list()
    assert "certificate" in str(caught.value)
    assert api.calls[DEVICE_LIST_PATH] == 0


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_redirect_is_not_followed(api: FakeOpenApi, scheme: str) -> None:
    api.redirect_to = (
        f"{scheme}://127.0.0.1:{api.url.rsplit(':', 1)[1]}{QUOTA_ALL_PATH}?sn={SERIAL}"
    )
    with pytest.raises(ApiError) as caught:
        client(api).device_list()
    assert "redirected (HTTP 302" in str(caught.value)
    assert "not followed" in str(caught.value)
    assert caught.value.permanent is False
    assert api.calls == {DEVICE_LIST_PATH: 1}


def test_plain_http_api_url_is_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        client("http://127.0.0.1:1")


def test_no_key_in_any_error_text(api: FakeOpenApi) -> None:
    """The fake echoes every form of both keys; none survives into an error."""
    echo = " ".join(key_forms())
    errors = []
    api.fail_next = [("9999", echo), ("8521", echo), ("1006", echo)]
    for _ in api.fail_next[:]:
        with pytest.raises(ApiError) as caught:
            client(api).device_list()
        errors.append(caught.value)
    api.redirect_to = f"https://127.0.0.1/{echo.replace(' ', '/')}"
    with pytest.raises(ApiError) as caught:
        client(api).device_list()
    errors.append(caught.value)
    api.redirect_to = None
    for make in (
        lambda: client(api, secret_key="wrong").device_list(),
        lambda: client(api, access_key="AK+wrong/").device_list(),
        lambda: client(api).quota_all(PLUS),
    ):
        with pytest.raises(ApiError) as caught:
            make()
        errors.append(caught.value)
    assert len(errors) == 7
    for error in errors:
        assert_no_key(error)


def test_echoed_keys_are_scrubbed_before_the_message_is_cut(api: FakeOpenApi) -> None:
    api.fail_next = [("7777", "x" * 190 + " ".join(key_forms()))]
    with pytest.raises(ApiError) as caught:
        client(api).device_list()
    assert "code 7777: xxx" in str(caught.value)
    assert_no_key(caught.value)
    for key in (ACCESS_KEY, SECRET_KEY):  # not even the start of a key survives the cut
        assert key[:8].lower() not in str(caught.value).lower()


def test_fake_refuses_a_content_type_on_get(api: FakeOpenApi) -> None:
    """The upstream answers 8521 to a GET with a Content-Type; the fake does the same."""
    headers = OpenApiClient(api.url, ACCESS_KEY, SECRET, timeout=TIMEOUT)._signed_headers({})
    context = ssl.create_default_context(cafile=str(api.ca_file))
    host, port = api.url.removeprefix("https://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), timeout=TIMEOUT, context=context)
    try:
        connection.request("GET", DEVICE_LIST_PATH, headers=headers)
        assert json.loads(connection.getresponse().read())["code"] == "0"
        connection.request(
            "GET", DEVICE_LIST_PATH, headers={**headers, "Content-Type": "application/json"}
        )
        assert json.loads(connection.getresponse().read())["code"] == "8521"
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("status", "body"),
    [(200, b"<html>busy</html>"), (200, b'["not", "an", "object"]'), (502, b"Bad Gateway")],
)
def test_an_answer_that_is_not_the_apis_json_is_transient(
    api: FakeOpenApi, status: int, body: bytes
) -> None:
    api.raw_answer = (status, body)
    with pytest.raises(ApiError) as caught:
        client(api).device_list()
    assert caught.value.permanent is False
    assert caught.value.code == ""
