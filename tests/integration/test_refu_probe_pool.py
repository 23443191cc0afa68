"""/probe targets under load: more than the pool keeps, scraped at once, none dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from exporter.configfile import Config
from exporter.modbus.pool import TargetPool
from exporter.modbus.target import RELEARN_PLAN_SECONDS, Address, ScrapeResult
from exporter.refu.channels import load_refu_mapping
from exporter.refu.config import RefuConfig
from exporter.refu.plan import plan_reads
from exporter.refu.target import RefuTarget
from exporter.simulate import free_port
from exporter.simulate.refu import RefuSimulator
from tests.support.lying_modbus import LyingModbusServer
from tests.support.scrape import scrape

TARGETS = 12


def refu_pool(clock: Callable[[], float], **limits: float) -> TargetPool[RefuTarget]:
    """REFU targets made as the exporter makes them, on ``clock``."""
    mapping = load_refu_mapping()
    plan = plan_reads(mapping.register_channels, max_gap=10)
    return TargetPool(
        lambda address: RefuTarget(address, mapping, plan, clock=clock), clock=clock, **limits
    )


def test_more_targets_than_the_pool_keeps_are_all_read_at_once(exporter_for):
    with RefuSimulator("127.0.0.1", free_port(), delay_seconds=0.2) as sim:
        config = Config(refu=RefuConfig(probe_targets_max=3))
        exporter = exporter_for(config)

        def probe(unit: int):
            url = f"http://127.0.0.1:{exporter.port}/probe?module=refu"
            return scrape(f"{url}&target=127.0.0.1:{sim.port}&unit_id={unit}")

        for _ in range(2):  # the second round finds the first round's targets still there
            with ThreadPoolExecutor(TARGETS) as pool:
                results = list(pool.map(probe, range(1, TARGETS + 1)))
            assert [r.value("refu_up") for r in results] == [1.0] * TARGETS
        # Counters survived: each target counts both rounds' requests.
        assert {r.value("refu_modbus_requests_total") for r in results} == {4.0}


def test_unused_targets_are_forgotten_and_busy_ones_kept():
    with RefuSimulator("127.0.0.1", free_port()) as sim:
        asyncio.run(forget_unused_targets(Address("127.0.0.1", sim.port, 1)))


async def forget_unused_targets(device: Address) -> None:
    """The pool on the event loop its targets are read on, with a clock the test sets."""
    now = [1000.0]
    pool = refu_pool(lambda: now[0], max_targets=2, idle_seconds=600, busy_seconds=60)
    assert (await pool.get(device).scrape(5.0)).up
    assert pool.get(device).requests == 2  # kept, with its counters
    for host in ("192.0.2.2", "192.0.2.3", "192.0.2.4"):
        pool.get(Address(host, 502, 1))
    assert len(pool) == 4  # over the limit, but every target is in use
    now[0] += 61
    pool.get(Address("192.0.2.5", 502, 1))
    assert len(pool) == 2  # the four unused ones beyond the limit are gone
    assert pool.get(device).requests == 0  # forgotten: it starts over
    now[0] += 601
    pool.get(Address("192.0.2.6", 502, 1))
    assert len(pool) == 1  # only the one just asked for: the rest were idle too long


def test_registers_a_device_refused_are_read_again_an_hour_later_by_the_pools_clock():
    now = [1000.0]
    pool = refu_pool(lambda: now[0])

    async def scrapes(device: LyingModbusServer) -> list[ScrapeResult[Any]]:
        host, port = device.address.rsplit(":", 1)
        target = pool.get(Address(host, int(port), 1))
        results = [await target.scrape(10)]  # honest: the whole plan
        device.lie = "exception:2"
        results.append(await target.scrape(10))  # every register refused: all holes
        device.lie = "none"
        now[0] += RELEARN_PLAN_SECONDS - 1
        results.append(await target.scrape(10))  # within the hour: the holes stay
        now[0] += 2
        results.append(await target.scrape(10))  # an hour on: planned afresh
        target.close()
        return results

    with LyingModbusServer() as device:
        honest, refused, within, after = asyncio.run(scrapes(device))
    assert all(result.up for result in (honest, refused, within, after))
    assert len(refused.values) < len(honest.values)
    assert within.values == refused.values
    assert after.values == honest.values
