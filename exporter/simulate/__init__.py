"""Simulated devices on real protocol servers, to run and test the exporter without hardware."""
