"""EcoFlow PowerOcean: its MQTT frames decoded into a cache of reported fields, exported."""
