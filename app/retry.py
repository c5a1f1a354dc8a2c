"""Exceptions a job handler raises to tell the queue what to do with its job."""

from __future__ import annotations

from datetime import datetime


class Defer(Exception):
    """Run this job again at ``until`` without spending an attempt.

    Raised when GitHub or Slack asks us to wait (secondary rate limit, exhausted primary limit,
    Retry-After): spinning would only make the limit last longer.
    """

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until
        self.reason = reason


class PermanentError(Exception):
    """Retrying cannot help (e.g. the App was uninstalled): mark the job dead at once."""
