"""The running exporter, assembled from its configuration: used by ``run``, ``demo`` and tests."""

from __future__ import annotations

import logging

from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR
from prometheus_client.core import InfoMetricFamily
from prometheus_client.registry import Collector

from exporter import __version__
from exporter.config import Config
from exporter.eventloop import EventLoopThread
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.connection import PowerOceanConnection
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.schema import PowerOceanMapping, load_powerocean_mapping
from exporter.refu.collector import TargetPool
from exporter.refu.device import RefuMapping, load_refu_mapping
from exporter.refu.target import Address
from exporter.server import ExporterApp, HttpServer
from exporter.webconfig import WebConfig

log = logging.getLogger(__name__)


class _BuildInfo:
    def collect(self):  # type: ignore[no-untyped-def]
        family = InfoMetricFamily("ess_exporter_build", "Version of the ess-exporter.")
        family.add_metric([], {"version": __version__})
        yield family


class Exporter:
    """Every part of a running exporter; ``start()`` serves, ``stop()`` ends it cleanly."""

    def __init__(
        self,
        config: Config,
        *,
        host: str = "",
        port: int = 9640,
        web_config: WebConfig | None = None,
        refu_mapping: RefuMapping | None = None,
        powerocean_mapping: PowerOceanMapping | None = None,
    ) -> None:
        self.config = config
        web_config = web_config or WebConfig()
        self._loop = EventLoopThread("modbus")
        pool = TargetPool(
            refu_mapping or load_refu_mapping(), self._loop, max_gap=config.refu.max_gap
        )
        targets = [
            (t.name, pool.configure(Address(t.host, t.port, t.unit_id), t.settings))
            for t in config.refu.targets
        ]
        collectors: list[Collector] = [
            PROCESS_COLLECTOR,
            PLATFORM_COLLECTOR,
            GC_COLLECTOR,
            _BuildInfo(),
        ]
        self.powerocean: PowerOceanConnection | None = None
        if config.powerocean is not None:
            mapping = powerocean_mapping or load_powerocean_mapping()
            cache = MessageCache()
            self.ingest = Ingest(
                mapping,
                cache,
                config.powerocean.devices,
                stale_after=config.powerocean.stale_after_seconds,
            )
            self.powerocean = PowerOceanConnection(config.powerocean, self.ingest)
            collectors.append(
                PowerOceanCollector(
                    mapping,
                    cache,
                    self.ingest,
                    self.powerocean,
                    devices=config.powerocean.devices,
                    stale_after=config.powerocean.stale_after_seconds,
                )
            )
        app = ExporterApp(
            refu_pool=pool,
            refu_targets=targets,
            refu_timeout=config.refu.timeout_seconds,
            collectors=collectors,
            web_config=web_config,
        )
        self.http = HttpServer(app, host, port, web_config)

    @property
    def port(self) -> int:
        return self.http.port

    def start(self) -> None:
        """Serve on background threads (tests, demo)."""
        if self.powerocean is not None:
            self.powerocean.start()
        self.http.start()
        log.info("listening on port %d", self.port)

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted."""
        if self.powerocean is not None:
            self.powerocean.start()
        log.info("listening on port %d", self.port)
        self.http.serve_forever()

    def stop(self) -> None:
        self.http.stop()
        if self.powerocean is not None:
            self.powerocean.stop()
        self._loop.stop()
