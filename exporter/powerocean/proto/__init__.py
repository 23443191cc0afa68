"""Protobuf schema of the PowerOcean MQTT payloads and its generated module."""
