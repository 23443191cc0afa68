"""Devices that lie: the running exporter probes a Modbus server that answers wrongly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.support.exporter_process import ExporterProcess
from tests.support.lying_modbus import LyingModbusServer
from tests.support.scrape import Scrape, scrape

TIMEOUT_HEADER = {"X-Prometheus-Scrape-Timeout-Seconds": "3.5"}
#: What a probe allows the device: the exporter's default, within what the header allows.
DEVICE_TIMEOUT_SECONDS = 3.0


@pytest.fixture(scope="module")
def exporter() -> Iterator[ExporterProcess]:
    process = ExporterProcess("--log.level", "info")
    process.wait_until_served()
    yield process
    process.stop()


@pytest.fixture
def device() -> Iterator[LyingModbusServer]:
    with LyingModbusServer() as server:
        yield server


def probe(exporter: ExporterProcess, target: str, unit_id: int = 1, module: str = "refu") -> Scrape:
    return scrape(
        f"{exporter.url}/probe?module={module}&target={quote(target)}&unit_id={unit_id}",
        TIMEOUT_HEADER,
    )


def series_of_target(result: Scrape, target: str) -> int:
    return sum(
        1
        for s in result.samples
        if s.labels.get("target") == target and not s.name.startswith("refu_scrape_errors")
    )


@pytest.mark.parametrize(
    "lie", ["wrong_function", "wrong_transaction", "wrong_unit", "wrong_byte_count"]
)
def test_an_answer_that_does_not_match_the_request_fails_the_scrape_by_reason(
    exporter, device, lie
):
    device.lie = lie
    result = probe(exporter, device.address)
    assert result.status == 200
    assert result.value("refu_up") == 0
    assert result.value("refu_scrape_errors_total", reason=lie) == 1
    assert result.value("refu_scrape_errors_total", reason="invalid_response") == 0
    assert result.value("refu_scrape_duration_seconds") < 1, "failed at once, not by timeout"
    line = exporter.wait_for_log(f"reason={lie}")
    assert device.address in line
    # Nothing of the lying answer became a value.
    assert not result.has("refu_battery_voltage_volts")


@pytest.mark.parametrize("lie", ["wrong_protocol", "wrong_length", "not_modbus"])
def test_an_answer_that_is_no_modbus_tcp_fails_the_scrape_and_the_next_starts_afresh(
    exporter, device, lie
):
    device.lie = lie
    result = probe(exporter, device.address)
    assert result.value("refu_up") == 0
    assert result.value("refu_scrape_errors_total", reason="invalid_response") == 1
    assert result.value("refu_scrape_duration_seconds") < 1, "failed at once, not by timeout"
    assert not result.has("refu_battery_voltage_volts")
    line = exporter.wait_for_log(f"REFU {device.address} failed: reason=invalid_response")
    assert "not a Modbus TCP answer" in line
    device.lie = "none"
    assert probe(exporter, device.address).value("refu_up") == 1


def test_a_sunspec_chain_that_never_ends_fails_the_scrape_after_the_most_models(exporter, device):
    device.lie = "endless_chain"
    result = probe(exporter, device.address, module="sunspec")
    assert result.value("sunspec_up") == 0
    assert result.value("sunspec_scrape_errors_total", reason="invalid_chain") == 1
    assert not result.has("sunspec_model_info")
    line = exporter.wait_for_log(f"SunSpec device {device.address} failed: reason=invalid_chain")
    assert "no end of the SunSpec chain after 256 models" in line
    assert device.requests == 1 + 256  # the marker, then each model's header once


def test_a_mismatch_drops_the_connection(exporter, device):
    device.lie = "wrong_transaction"
    probe(exporter, device.address)
    device.lie = "none"
    result = probe(exporter, device.address)
    assert result.value("refu_up") == 1, "a fresh connection: no stale answer in the way"


def test_a_device_closing_mid_request_fails_the_scrape_at_once(exporter, device):
    device.lie = "close"
    started = time.monotonic()
    result = probe(exporter, device.address)
    assert time.monotonic() - started < DEVICE_TIMEOUT_SECONDS  # the timeout not waited out
    assert result.value("refu_up") == 0
    assert result.value("refu_scrape_errors_total", reason="connection_closed") == 1
    assert "Traceback" not in exporter.log


@pytest.mark.parametrize(
    ("code", "reason"), [(4, "device_failure"), (6, "device_busy"), (11, "gateway_failed")]
)
def test_transient_exception_answers_keep_the_read_plan(exporter, device, code, reason):
    device.lie = "none"
    honest = probe(exporter, device.address, unit_id=7)
    assert honest.value("refu_up") == 1
    device.lie = f"exception:{code}"
    busy = probe(exporter, device.address, unit_id=8)
    assert busy.value("refu_up") == 0
    assert busy.value("refu_scrape_errors_total", reason=reason) == 1
    assert busy.value("refu_modbus_requests_total") == 1, "no block was split and retried"
    device.lie = "none"
    after = probe(exporter, device.address, unit_id=8)
    assert after.value("refu_up") == 1
    assert series_of_target(after, device.address) == series_of_target(honest, device.address)
    assert after.value("refu_modbus_requests_total") - 1 == honest.value(
        "refu_modbus_requests_total"
    )


def test_an_illegal_address_answer_teaches_the_plan_a_hole(exporter, device):
    device.lie = "exception:2"
    refused = probe(exporter, device.address, unit_id=9)
    assert refused.value("refu_up") == 1, "every block split down to single refused channels"
    assert refused.value("refu_modbus_exceptions_total") > 1
    device.lie = "none"
    requests_before = refused.value("refu_modbus_requests_total")
    after = probe(exporter, device.address, unit_id=9)
    assert after.value("refu_modbus_requests_total") == requests_before, "holes are not read"


def test_timeouts_are_counted_with_a_reason_in_the_log(exporter):
    with LyingModbusServer() as silent:
        silent.lie = "stall"
        result = scrape(
            f"{exporter.url}/probe?module=refu&target={silent.address}",
            {"X-Prometheus-Scrape-Timeout-Seconds": "1.5"},
        )
        address = silent.address
    assert result.value("refu_up") == 0
    assert result.value("refu_scrape_errors_total", reason="timeout") == 1
    line = exporter.wait_for_log(f"REFU {address} failed: reason=timeout")
    assert "no complete answer within 1 s" in line


def test_a_long_target_name_is_logged_truncated_without_traceback(exporter):
    name = "a" * 60 + "." + "b" * 60 + ".invalid"
    result = probe(exporter, f"{name}:502")
    assert result.value("refu_up") == 0
    assert result.value("refu_scrape_errors_total", reason="connect_failed") == 1
    line = exporter.wait_for_log("reason=connect_failed")
    assert "a" * 30 in line and "b" * 30 not in line
    assert "Traceback" not in exporter.log
    assert exporter.running
