"""Address parsing and secret scrubbing, in-process."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from exporter.config import parse_address, scrub
from exporter.modbus.config import DEFAULT_MODBUS_PORT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.10:502", ("192.0.2.10", 502)),
        ("192.0.2.10", ("192.0.2.10", 502)),
        ("refu-1.lan:1502", ("refu-1.lan", 1502)),
        ("[::1]:5020", ("::1", 5020)),
        ("[2001:db8::1]", ("2001:db8::1", 502)),
        ("::1", ("::1", 502)),
        ("2001:db8:0:0::1", ("2001:db8::1", 502)),
    ],
)
def test_address_forms(text, expected):
    assert parse_address(text, DEFAULT_MODBUS_PORT) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        ":502",
        "http://h:502",
        "u@h:502",
        "h:0",
        "h:65536",
        "h:٣",
        "h :502",
        "h\x00",
        "[::1",
        "[h]:1",
        "-h:1",
        "h" * 254,
    ],
)
def test_addresses_refused(text):
    with pytest.raises(ValueError):
        parse_address(text, DEFAULT_MODBUS_PORT)


def test_scrub_blanks_every_form_and_every_part():
    secret = "pässwörd+/=&Secret-1234"
    encoded = base64.b64encode(secret.encode()).decode()
    text = f"a {secret} b {encoded} c {quote(secret, safe='')} d {secret[5:14]} e {secret[:7]} f"
    assert scrub(text, [secret]) == f"a *** b ***== c *** d *** e {secret[:7]} f"


def test_scrub_leaves_text_without_secrets_alone():
    assert scrub("nothing to hide", ["", "a-long-secret"]) == "nothing to hide"
