"""What every device read over Modbus TCP at scrape time shares: one target's scrape
(``target``) and the targets kept for ``/probe`` (``pool``)."""
