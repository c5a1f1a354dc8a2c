"""What the gateway raises when GitHub will not give it an answer.

Besides these, a call may raise ``app.retry.Defer`` (GitHub asked us to wait: run the
job again later without spending an attempt). None of these is ever turned into a green result.
"""

from __future__ import annotations

from app.retry import PermanentError


class GitHubError(Exception):
    """Base of the gateway's errors; the job fails and the queue retries it."""


class GitHubUnavailable(GitHubError):
    """5xx replies, timeouts or connection errors outlasted our retries, or a reply made no
    sense. Transient: the job queue retries the job with its backoff."""


class GitHubRejected(GitHubError):
    """GitHub refused the request (4xx other than rate limits), e.g. a missing permission.

    Not a ``PermanentError``: a 404 just after a push can be replication lag, and a missing
    permission can be granted; the queue's attempts bound the retries.
    """

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class GitHubNotFound(GitHubRejected):
    """404 or 410. Reads that expect it (a policy file, a team membership) handle it."""


class AppNotInstalled(GitHubRejected, PermanentError):
    """No installation token could be had: the App was uninstalled or suspended there."""
