"""Scraping the exporter over HTTP, parsed with prometheus_client's own parser."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

#: The Accept header Prometheus sends (OpenMetrics first, the text format as a fallback).
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


@dataclass
class Scrape:
    status: int
    text: str
    samples: list[Sample]
    families: dict[str, str]  # name -> type

    def values(self, name: str, /, **labels: str) -> list[float]:
        return [
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def value(self, name: str, /, **labels: str) -> float:
        """The one sample of ``name`` with these labels (among possibly more labels)."""
        found = self.values(name, **labels)
        assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
        return found[0]

    def has(self, name: str, /, **labels: str) -> bool:
        return bool(self.values(name, **labels))


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def scrape(url: str, headers: dict[str, str] | None = None, timeout: float = 30) -> Scrape:
    """GET ``url``; a 200 answer is parsed as the Prometheus text format."""
    status, text = get(url, headers, timeout)
    if status != 200:
        return Scrape(status, text, [], {})
    return parse(text)


def parse(text: str) -> Scrape:
    """A 200 answer's body in the Prometheus text format, parsed."""
    families = list(text_string_to_metric_families(text))
    samples = [sample for family in families for sample in family.samples]
    return Scrape(200, text, samples, {f.name: f.type for f in families})


def scrape_until(port: int, predicate: Callable[[Scrape], bool], timeout: float = 10.0) -> Scrape:
    """Scrape ``/metrics`` on ``port`` until ``predicate`` holds; the last scrape at the deadline.

    A refused connection (a process still starting) is tried again.
    """
    deadline = time.monotonic() + timeout
    last: Scrape | None = None
    while True:
        try:
            last = scrape(f"http://127.0.0.1:{port}/metrics")
            if predicate(last):
                return last
        except OSError:
            pass
        if time.monotonic() > deadline:
            if last is None:
                raise AssertionError(f"nothing answered on port {port}")
            return last
        time.sleep(0.05)
