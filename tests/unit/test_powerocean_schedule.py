"""When a session asks the systems for data, on a clock the tests set."""

from __future__ import annotations

from exporter.powerocean.config import PowerOceanConfig
from exporter.powerocean.schedule import Due, RequestSchedule
from exporter.powerocean.wire import DATA_REQUESTS, GET_ALL, LATEST_QUOTAS

DEFAULTS = PowerOceanConfig(devices={"SN1": "SN1", "SN2": "SN2"})
ON_CONNECT = ["energy_stream", "get_all", "latest_quotas"]


def named(due: Due) -> list[tuple[str, tuple[str, ...]]]:
    return [(request.name, serials) for request, serials in due]


def test_the_defaults_ask_on_connect_then_every_20_and_30_seconds() -> None:
    schedule = RequestSchedule(DEFAULTS, ["SN1", "SN2"], start=100.0)
    both = ("SN1", "SN2")
    assert named(schedule.due(100.0)) == [
        ("energy_stream", both),
        ("get_all", both),
        ("latest_quotas", both),
    ]
    assert schedule.next_at() == 120.0
    assert named(schedule.due(119.9)) == []
    for at in (110.0, 125.0, 150.0):  # both systems report
        schedule.heard("SN1", at)
        schedule.heard("SN2", at)
    assert named(schedule.due(120.0)) == [("energy_stream", both)]
    assert named(schedule.due(130.0)) == [("latest_quotas", both)]
    assert named(schedule.due(140.0)) == [("energy_stream", both)]
    assert not schedule.silent(150.0)


def test_a_silent_system_is_asked_again_each_minute_and_the_connection_kept() -> None:
    schedule = RequestSchedule(DEFAULTS, ["SN1", "SN2"], start=0.0)
    schedule.due(0.0)
    for at in range(10, 300, 10):  # SN1 reports, SN2 is silent from the start
        schedule.heard("SN1", float(at))
        due = dict(named(schedule.due(float(at))))
        assert due.get("get_all") == (("SN2",) if at % 60 == 0 else None), at
    assert not schedule.silent(300.0)


def test_a_connection_silent_for_two_minutes_is_made_anew() -> None:
    schedule = RequestSchedule(DEFAULTS, ["SN1", "SN2"], start=0.0)
    schedule.due(0.0)
    schedule.heard("SN1", 30.0)
    assert [name for name, _ in named(schedule.due(60.0))] == [
        "energy_stream",
        "get_all",
        "latest_quotas",
    ]
    assert named(schedule.due(90.0)) == [
        ("energy_stream", ("SN1", "SN2")),
        ("get_all", ("SN1",)),
        ("latest_quotas", ("SN1", "SN2")),
    ]
    assert not schedule.silent(149.9)
    assert schedule.silent(150.0)  # nothing since SN1 at 30 s


def test_settings_of_0_leave_requests_and_silence_out() -> None:
    config = PowerOceanConfig(
        devices={"SN1": "SN1"},
        keepalive_seconds=0,
        request_all_on_connect=False,
        latest_quotas_seconds=0,
        silent_after_seconds=0,
    )
    schedule = RequestSchedule(config, ["SN1"], start=0.0)
    assert schedule.due(0.0) == []
    assert schedule.next_at() is None
    assert not schedule.silent(1e9)


def test_a_system_is_sent_only_the_requests_its_model_takes() -> None:
    """SN2 takes no energy-stream switch (an Ocean 2): not on connect, not at its interval,
    not when it is silent; SN1 takes every request."""
    takes = {"SN1": DATA_REQUESTS, "SN2": (GET_ALL, LATEST_QUOTAS)}
    schedule = RequestSchedule(DEFAULTS, ["SN1", "SN2"], start=0.0, requests_of=takes.__getitem__)
    assert named(schedule.due(0.0)) == [
        ("energy_stream", ("SN1",)),
        ("get_all", ("SN1", "SN2")),
        ("latest_quotas", ("SN1", "SN2")),
    ]
    schedule.heard("SN1", 15.0)
    schedule.heard("SN2", 15.0)
    assert named(schedule.due(20.0)) == [("energy_stream", ("SN1",))]
    assert named(schedule.due(30.0)) == [("latest_quotas", ("SN1", "SN2"))]
    schedule.heard("SN1", 35.0)  # SN2 is silent from 15 s on
    assert named(schedule.due(40.0)) == [("energy_stream", ("SN1",))]
    schedule.heard("SN1", 55.0)
    assert named(schedule.due(60.0)) == [
        ("energy_stream", ("SN1",)),
        ("latest_quotas", ("SN1", "SN2")),
    ]
    schedule.heard("SN1", 70.0)
    assert named(schedule.due(75.0)) == [("get_all", ("SN2",)), ("latest_quotas", ("SN2",))]


def test_a_model_told_later_is_heeded_from_then_on() -> None:
    takes = {"SN1": DATA_REQUESTS}
    schedule = RequestSchedule(DEFAULTS, ["SN1"], start=0.0, requests_of=takes.__getitem__)
    assert [name for name, _ in named(schedule.due(0.0))] == ON_CONNECT
    takes["SN1"] = (GET_ALL, LATEST_QUOTAS)  # a frame told the system's model
    schedule.heard("SN1", 10.0)
    assert named(schedule.due(20.0)) == []
    assert named(schedule.due(30.0)) == [("latest_quotas", ("SN1",))]
