"""``ess-exporter metrics``: every metric the exporter can serve, as JSON rows or markdown:
a row per channel of the mappings, then the exporter's own metrics. ``docs/metrics.md`` is
the markdown (``REGENERATE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exporter.metrics import BUILD_INFO, describe, describe_health
from exporter.powerocean.channels import PowerOceanMapping, load_powerocean_mapping
from exporter.powerocean.collector import POWEROCEAN_HEALTH
from exporter.refu.channels import load_refu_mapping
from exporter.refu.collector import REFU_HEALTH
from exporter.sunspec.channels import SunSpecMapping, load_sunspec_mapping
from exporter.sunspec.collector import SUNSPEC_HEALTH_METRICS

Row = dict[str, Any]

#: Every metric the exporter makes itself, in the order ``ess-exporter metrics`` lists them.
HEALTH_METRICS = (*REFU_HEALTH, *POWEROCEAN_HEALTH, *SUNSPEC_HEALTH_METRICS, BUILD_INFO)

#: Section titles of the markdown, in order, by the rows' ``device``.
SECTIONS = {
    "refu": "REFU battery inverter",
    "powerocean": "EcoFlow PowerOcean",
    "sunspec": "SunSpec inverter",
    "exporter": "The exporter itself",
}
REGENERATE = "ess-exporter metrics --format markdown > docs/metrics.md"


def metric_rows() -> list[Row]:
    """Every channel of the mappings, then the exporter's own metrics."""
    refu = [describe(channel, "refu", ("target",)) for channel in load_refu_mapping().channels]
    return [
        *refu,
        *_powerocean_rows(load_powerocean_mapping()),
        *_sunspec_rows(load_sunspec_mapping()),
        *(describe_health(metric) for metric in HEALTH_METRICS),
    ]


def _powerocean_rows(mapping: PowerOceanMapping) -> Iterator[Row]:
    """A channel of a message with entries (packs, ...) is labelled by the entry too."""
    entry_labels = {r.schema: r.entry_label for r in mapping.routes.values() if r.entry_label}
    for channel in mapping.channels:
        entry = entry_labels.get(channel.location.message)
        yield describe(channel, "powerocean", ("serial", entry) if entry else ("serial",))


def _sunspec_rows(mapping: SunSpecMapping) -> Iterator[Row]:
    """A channel of a repeated group is labelled by the numbers of its instances too."""
    for group in mapping.groups():
        for channel in group.channels:
            yield describe(channel, "sunspec", ("target", *group.index_labels))


def markdown(rows: list[Row]) -> str:
    """The reference: per device a table of metrics, then its enum states and alarm bits."""
    lines = [
        "# Metric reference",
        "",
        f"Generated from the mappings by `{REGENERATE}`; do not edit by hand.",
        "Units are base units (`_ratio` is 0..1). Health and build metrics have the source "
        "`exporter`. Besides these, `/metrics` carries the Prometheus client's `process_*` "
        "and `python_*` metrics. A SunSpec value is the number the device sends times ten to "
        "the power of its scale factor (read with it), times the scale here.",
    ]
    for device, title in SECTIONS.items():
        section = [row for row in rows if row["device"] == device]
        if section:
            lines += ["", f"## {title}", "", *_table(section), *_values(section)]
    return "\n".join(lines) + "\n"


def _table(rows: list[Row]) -> list[str]:
    """One line per series shape; rows that differ only in their source (a metric several
    models or messages fill) share a line that names every source."""
    sources: dict[str, list[str]] = {}
    for row in rows:
        help_cell = row["help"].replace("|", "\\|").replace("\n", " ")
        line = (
            f"| `{row['metric']}` | {row['kind']} | {row['unit']} | {_labels(row)} "
            f"| {row['scale']:g} | {{}} | {help_cell} |"
        )
        sources.setdefault(line, []).append(row["source"])
    return [
        "| metric | kind | unit | labels | scale | source | help |",
        "|---|---|---|---|---|---|---|",
        *(line.format(", ".join(names)) for line, names in sources.items()),
    ]


def _labels(row: Row) -> str:
    """Label names; a constant label shows its value (``report="energy_stream"``)."""
    constant = row["labels"]
    return ", ".join(
        f'`{name}="{constant[name]}"`' if name in constant else f"`{name}`"
        for name in row["label_names"]
    )


def _values(rows: list[Row]) -> list[str]:
    """The documented enum states and alarm bits, one list per metric and one item per series:
    ``state`` with its raw value, or ``bit`` with its ``alarm`` text."""
    lines: list[str] = []
    listed: set[tuple[str, ...]] = set()
    for row in rows:
        items = [f'- `state="{name}"` (raw {raw})' for raw, name in row["states"].items()]
        items += [f'- `bit="{bit}", alarm="{text}"`' for bit, text in row["bits"].items()]
        if items and (row["metric"], *items) not in listed:  # once for models sharing it
            listed.add((row["metric"], *items))
            lines += ["", f"#### `{row['metric']}`", "", *items]
    return ["", "### Enum states and alarm bits", *lines] if lines else []
