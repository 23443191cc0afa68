"""The configuration file as a whole: each device's section, read and checked at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from exporter.config import ConfigError, Reader, SettingCheck, read_document
from exporter.powerocean.config import PowerOceanConfig, read_powerocean_section
from exporter.refu.config import RefuConfig, read_refu_section
from exporter.sunspec.config import SunSpecConfig, read_sunspec_section


@dataclass(frozen=True)
class Config:
    """The whole configuration file: each device's section."""

    refu: RefuConfig = field(default_factory=RefuConfig)
    powerocean: PowerOceanConfig | None = None
    sunspec: SunSpecConfig = field(default_factory=SunSpecConfig)


def load_config(path: Path, refu_settings: Mapping[str, SettingCheck] | None = None) -> Config:
    """Read ``path``; ``refu_settings`` are the per-target keys the REFU mapping accepts."""
    reader = Reader(path)
    top = reader.section(read_document(path), "", ("refu", "powerocean", "sunspec"))
    refu = read_refu_section(reader, top.get("refu"), refu_settings or {})
    sunspec = read_sunspec_section(reader, top.get("sunspec"))
    powerocean = read_powerocean_section(reader, top["powerocean"]) if "powerocean" in top else None
    if reader.problems:
        raise ConfigError(reader.problems)
    return Config(refu=refu, powerocean=powerocean, sunspec=sunspec)
