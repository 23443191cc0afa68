"""ess-exporter: a Prometheus exporter for REFU battery inverters and EcoFlow PowerOcean systems."""

__version__ = "0.1.0"
