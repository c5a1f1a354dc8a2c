"""Counting GitHub requests, per job and in total.

The worker wraps each job in ``count_requests()``; the gateway's transport calls
``record_request`` for every HTTP request it sends (token exchanges, retries and 304s included,
since each is a request GitHub sees). The per-job counter lives in a ``ContextVar`` holding a
mutable object, so tasks spawned inside a job add to the same count.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge, Histogram

REQUESTS_PER_JOB = Histogram(
    "hotfix_lane_github_requests_per_job",
    "GitHub requests sent while processing one job.",
    buckets=(0, 1, 2, 3, 4, 6, 8, 12, 20, 40, 80),
)
REQUESTS_TOTAL = Counter(
    "hotfix_lane_github_requests_total",
    "GitHub requests sent, by method and kind of route.",
    ["method", "route_class"],
)

RESPONSES_TOTAL = Counter(
    "hotfix_lane_github_responses_total",
    "GitHub answers, by kind of route and HTTP status (0: no answer, a network error).",
    ["route_class", "status"],
)
RATE_LIMIT_REMAINING = Gauge(
    "hotfix_lane_github_rate_limit_remaining",
    "Requests left in GitHub's primary rate limit, as its last answer said, per installation "
    '("app" for the App\'s own JWT calls).',
    ["installation"],
)

# A handful of route classes keeps the label set small: never a repository or a sha.
_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"/app/installations/\d+/access_tokens$", "token"),
        (r"/app$", "app"),
        (r"/pulls/\d+/commits$", "pull_commits"),
        (r"/pulls/\d+/files$", "pull_files"),
        (r"/pulls/\d+/reviews$", "pull_reviews"),
        (r"/pulls/\d+$", "pull"),
        (r"/commits/[^/]+/check-runs$", "check_runs"),
        (r"/commits/[^/]+/status$", "combined_status"),
        (r"/check-runs(/\d+)?$", "check_run_write"),
        (r"/statuses/[^/]+$", "status_write"),
        (r"/teams/[^/]+/memberships/[^/]+$", "team_membership"),
        (r"/contents/", "contents"),
        (r"/issues/\d+/comments$", "issue_comment"),
        (r"/issues$", "issue"),
    )
)


def route_class(path: str) -> str:
    for pattern, name in _ROUTES:
        if pattern.search(path):
            return name
    return "other"


@dataclass
class RequestCount:
    """Requests sent so far in the current job; ``by_route`` tells which kinds."""

    total: int = 0
    by_route: Tally[str] = field(default_factory=Tally)


_current: ContextVar[RequestCount | None] = ContextVar("github_request_count", default=None)


def record_request(method: str, path: str) -> None:
    route = route_class(path)
    REQUESTS_TOTAL.labels(method=method, route_class=route).inc()
    count = _current.get()
    if count is not None:
        count.total += 1
        count.by_route[route] += 1


def record_response(path: str, status: int) -> None:
    RESPONSES_TOTAL.labels(route_class=route_class(path), status=str(status)).inc()


def record_rate_limit(installation_id: int | None, remaining: str | None) -> None:
    """The ``x-ratelimit-remaining`` GitHub sent to an installation's (or the App's) call."""
    if remaining is not None and remaining.isdigit():
        label = "app" if installation_id is None else str(installation_id)
        RATE_LIMIT_REMAINING.labels(installation=label).set(int(remaining))


@contextmanager
def count_requests() -> Iterator[RequestCount]:
    """Count the GitHub requests sent inside the block; observed in the per-job histogram."""
    count = RequestCount()
    token = _current.set(count)
    try:
        yield count
    finally:
        _current.reset(token)
        REQUESTS_PER_JOB.observe(count.total)
