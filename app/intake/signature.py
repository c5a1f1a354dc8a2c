"""GitHub's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC of the raw body>``."""

from __future__ import annotations

import hashlib
import hmac

_PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The header value GitHub would send for ``body`` (used by tests and the benchmark)."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """True only for a well-formed sha256 signature that matches, compared in constant time.

    The legacy ``X-Hub-Signature`` (SHA-1) header is deliberately never consulted.
    """
    if not header or not header.startswith(_PREFIX):
        return False
    given = header[len(_PREFIX) :].strip().lower()
    if len(given) != 64:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)
