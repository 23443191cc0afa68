"""When a session asks the systems for data, on a clock the tests set."""

from __future__ import annotations

from exporter.powerocean.config import PowerOceanConfig
from exporter.powerocean.schedule import Due, RequestSchedule

DEFAULTS = PowerOceanConfig(devices={"SN1": "SN1", "SN2": "SN2"})


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
