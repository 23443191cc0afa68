"""EcoFlow PowerOcean: protobuf schema and MQTT payload codec."""
