"""The running exporter, assembled from its configuration: used by ``run``, ``demo`` and tests."""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Iterator

from prometheus_client import REGISTRY

from exporter import __version__
from exporter.configfile import Config
from exporter.eventloop import EventLoopThread
from exporter.exposition import InfoFamily
from exporter.metrics import build_info
from exporter.modules import BuiltOnFirstProbe, Collector, ScrapeModule
from exporter.powerocean.cache import MessageCache
from exporter.powerocean.channels import load_powerocean_mapping
from exporter.powerocean.collector import PowerOceanCollector
from exporter.powerocean.config import PowerOceanConfig
from exporter.powerocean.connection import PowerOceanConnection
from exporter.powerocean.devices import Devices
from exporter.powerocean.ingest import Ingest
from exporter.powerocean.open_api import OpenApiClient, QuotaPoller
from exporter.powerocean.quota import QuotaIngest
from exporter.refu.channels import RefuMapping, load_refu_mapping
from exporter.refu.collector import RefuCollector
from exporter.server import HttpServer
from exporter.sunspec.collector import SunSpecCollector
from exporter.webconfig import WebConfig

log = logging.getLogger(__name__)


#: Set when the image is built (Docker build arguments REVISION and BRANCH).
REVISION_ENV, BRANCH_ENV = "ESS_EXPORTER_REVISION", "ESS_EXPORTER_BRANCH"


class _BuildInfo:
    """``ess_exporter_build_info``; revision and branch are "unknown" outside a built image."""

    def collect(self) -> Iterator[InfoFamily]:
        yield build_info(
            __version__,
            os.environ.get(REVISION_ENV) or "unknown",
            os.environ.get(BRANCH_ENV) or "unknown",
            platform.python_version(),
        )


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
    ) -> None:
        # HTTP and device reads share one event loop, on a thread of its own.
        self._loop = EventLoopThread("asyncio")
        refu = RefuCollector(config.refu, refu_mapping or load_refu_mapping())
        #: Transports that run on threads of their own, in the order they start.
        self._transports: list[PowerOceanConnection | QuotaPoller] = []
        # prometheus_client's registry holds its process, platform and GC collectors.
        collectors: list[Collector] = [REGISTRY, _BuildInfo()]
        if config.powerocean is not None:
            collectors.append(self._powerocean(config.powerocean))
        # The devices read when Prometheus scrapes: each a /probe module (the first the default).
        sunspec = config.sunspec
        modules: list[ScrapeModule] = [
            refu,
            SunSpecCollector(sunspec)
            if sunspec.targets
            else BuiltOnFirstProbe("sunspec", lambda: SunSpecCollector(sunspec)),
        ]
        try:
            self.http = HttpServer(
                host, port, self._loop, web_config, collectors=collectors, modules=modules
            )
        except BaseException:
            self._loop.stop()
            raise
        self.port = self.http.port

    def _powerocean(self, config: PowerOceanConfig) -> PowerOceanCollector:
        """The PowerOcean transport for the configured mode, its ingest and its collector."""
        mapping = load_powerocean_mapping()
        cache = MessageCache()
        devices = Devices(config.devices)
        stale_after = config.stale_after_seconds
        ingest: Ingest | QuotaIngest
        if config.open_api is None:
            ingest = Ingest(mapping, cache, devices, stale_after=stale_after)
            connection = PowerOceanConnection(
                config,
                ingest,
                devices=devices,
                requests_of=lambda serial: mapping.data_requests(ingest.model_of(serial)),
            )
            self._transports.append(connection)
        else:
            keys = config.open_api
            api = OpenApiClient(
                keys.api_url,
                keys.access_key,
                keys.secret_key,
                timeout=config.timeout_seconds,
                ca_file=keys.ca_file,
                refused_models=mapping.open_api.refused_models,
            )
            ingest = QuotaIngest(mapping, cache, devices, stale_after=stale_after)
            connection = PowerOceanConnection(config, ingest.stream, devices=devices, open_api=api)
            poller = QuotaPoller(api, ingest, devices, interval=keys.poll_seconds)
            self._transports += [connection, poller]
        return PowerOceanCollector(
            mapping, cache, ingest, connection, devices=devices, stale_after=stale_after
        )

    def start(self) -> None:
        """Start the transports' threads; HTTP is answered from construction on."""
        for transport in self._transports:
            transport.start()
        log.info("listening on port %d", self.port)

    def stop(self) -> None:
        self.http.stop()
        for transport in reversed(self._transports):
            transport.stop()
        self._loop.stop()
