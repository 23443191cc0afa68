"""What every device read over Modbus TCP at scrape time shares: its configuration
(``config``), one target's scrape and counters (``target``), the targets kept for
``/probe`` (``pool``), their health metrics (``health``) and the collector (``collector``)."""
