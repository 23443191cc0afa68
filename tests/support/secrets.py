"""Checks that no form of a secret reached a text (a log, an error, a scrape)."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    plain = [
        secret,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]
    return plain + [encode(text, safe="") for text in plain for encode in (quote, quote_plus)]


def assert_no_secret(text: str, secret: str) -> None:
    """No 8 characters in a row of any form of ``secret``, in any letter case."""
    folded = text.lower()
    for form in forms(secret):
        for start in range(len(form) - 7):
            piece = form[start : start + 8]
            assert piece.lower() not in folded, f"part of a secret: {piece}"
