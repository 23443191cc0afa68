"""What every device read over Modbus TCP at scrape time shares: one target's scrape and
counters (``target``), the targets kept for ``/probe`` (``pool``) and their health metrics
(``health``)."""
