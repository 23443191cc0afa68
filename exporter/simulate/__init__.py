"""Simulated devices (a REFU Modbus server, a PowerOcean publisher) for the demo and tests."""

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now, for a simulator or broker to take."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port
