"""Open API request signing: the documented vector and the reference's worked examples."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.powerocean.open_api import new_nonce, sign_string, signature

AK, SK = "AKtestExporter0001", "SKtestSecret0000000000000000001"
SERIAL = "HJ31ZZZ0000000001"

EXAMPLES = [
    pytest.param(
        {"sn": "123456789", "params": {"cmdSet": 11, "id": 24, "eps": 0}},
        "Fp4SvIprYSDPXtYJidEtUAd1o",
        "WIbFEKre0s6sLnh4ei7SPUeYnptHG6V",
        "345164",
        "1671171709428",
        "params.cmdSet=11&params.eps=0&params.id=24&sn=123456789"
        "&accessKey=Fp4SvIprYSDPXtYJidEtUAd1o&nonce=345164&timestamp=1671171709428",
        "07c13b65e037faf3b153d51613638fa80003c4c38d2407379a7f52851af1473e",
        id="documented-vector",
    ),
    pytest.param(
        {},
        AK,
        SK,
        "123456",
        "1735689600000",
        f"accessKey={AK}&nonce=123456&timestamp=1735689600000",
        "a021716ddf1f4115347950df39d977557fe3db3332bc3e252121b0ed804b7746",
        id="A-no-params",
    ),
    pytest.param(
        {"sn": SERIAL},
        AK,
        SK,
        "654321",
        "1735689600123",
        f"sn={SERIAL}&accessKey={AK}&nonce=654321&timestamp=1735689600123",
        "2bab2ac32398c54ba20d9d8c12bf13f498b437af8b89c1d9a1716ce639703559",
        id="B-quota-all",
    ),
    pytest.param(
        {"sn": SERIAL, "params": {"quotas": ["sysGridPwr", "mpptPwr", "bpSoc"]}},
        AK,
        SK,
        "111222",
        "1735689600456",
        "params.quotas[0]=sysGridPwr&params.quotas[1]=mpptPwr&params.quotas[2]=bpSoc"
        f"&sn={SERIAL}&accessKey={AK}&nonce=111222&timestamp=1735689600456",
        "73ac9d3a9eb9d708e9a5972b0a5f63e1994f2b5aa95a2594dcb73dc83607eaf7",
        id="C-quota-list",
    ),
]


@pytest.mark.parametrize(
    ("params", "access_key", "secret_key", "nonce", "timestamp", "text", "sign"), EXAMPLES
)
def test_worked_examples_reproduce(
    params: dict[str, Any],
    access_key: str,
    secret_key: str,
    nonce: str,
    timestamp: str,
    text: str,
    sign: str,
) -> None:
    assert sign_string(params, access_key, nonce, timestamp) == text
    assert signature(params, access_key, secret_key, nonce, timestamp) == sign


def test_numbers_for_nonce_and_timestamp_sign_the_same() -> None:
    assert signature({"sn": SERIAL}, AK, SK, 654321, 1735689600123) == (
        "2bab2ac32398c54ba20d9d8c12bf13f498b437af8b89c1d9a1716ce639703559"
    )


def test_pasted_keys_lose_surrounding_whitespace() -> None:
    assert signature({}, f" {AK}\n", f"\t{SK} \n", "123456", "1735689600000") == (
        "a021716ddf1f4115347950df39d977557fe3db3332bc3e252121b0ed804b7746"
    )


def test_documented_flattening_example() -> None:
    params = {
        "name": "demo1",
        "ids": [1, 2, 3],
        "deviceList": [{"id": 1}, {"id": 2}],
        "deviceInfo": {"id": 1},
    }
    assert sign_string(params, "K", "1", "2") == (
        "deviceInfo.id=1&deviceList[0].id=1&deviceList[1].id=2&ids[0]=1&ids[1]=2&ids[2]=3"
        "&name=demo1&accessKey=K&nonce=1&timestamp=2"
    )


def test_flatten_nested_lists_objects_and_json_words() -> None:
    params = {
        "a": {"b": {"c": [True, False, None]}, "list": [[1, 2], {"x": "y"}]},
        "flag": True,
        "off": False,
        "nothing": None,
        "ratio": 0.5,
    }
    assert sign_string(params, "K", "1", "2") == (
        "a.b.c[0]=true&a.b.c[1]=false&a.b.c[2]=null&a.list[0][0]=1&a.list[0][1]=2&a.list[1].x=y"
        "&flag=true&nothing=null&off=false&ratio=0.5&accessKey=K&nonce=1&timestamp=2"
    )


def test_values_are_signed_raw_and_sorted_by_ascii_key() -> None:
    params = {"b": "x y&z", "B": "upper", "a_": 1, "a.b": "dot"}
    assert sign_string(params, "K", "1", "2") == (
        "B=upper&a.b=dot&a_=1&b=x y&z&accessKey=K&nonce=1&timestamp=2"
    )


def test_empty_containers_add_nothing() -> None:
    assert sign_string({"a": {}, "b": []}, "K", "1", "2") == "accessKey=K&nonce=1&timestamp=2"


def test_nonce_is_six_digits_and_changes() -> None:
    nonces = {new_nonce() for _ in range(50)}
    assert all(len(nonce) == 6 and nonce.isdigit() for nonce in nonces)
    assert len(nonces) > 1
