"""The routing table: which handler runs for which ``(event, action)``.

This is the one place to read to see everything the app reacts to. ``"*"`` matches any action.
Events with no entry are stored and marked done with a debug line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from app.lane import checks, comments, merges, pull_requests, repository
from app.services import EventContext

Handler = Callable[[EventContext], Awaitable[None]]
Routes = Mapping[tuple[str, str], Handler]

ROUTES: Routes = {
    # The runbook's rules, evaluated whenever the pull request changes.
    ("pull_request", "opened"): pull_requests.on_pull_request,
    ("pull_request", "reopened"): pull_requests.on_pull_request,
    ("pull_request", "edited"): pull_requests.on_pull_request,
    ("pull_request", "synchronize"): pull_requests.on_pull_request,
    ("pull_request", "labeled"): pull_requests.on_pull_request,
    ("pull_request", "unlabeled"): pull_requests.on_pull_request,
    ("pull_request", "ready_for_review"): pull_requests.on_pull_request,
    # The merge: bypass judged, hotfix recorded in the ledger, audit channel told.
    ("pull_request", "closed"): merges.on_pull_request_closed,
    ("pull_request_review", "submitted"): pull_requests.on_review,
    ("pull_request_review", "dismissed"): pull_requests.on_review,
    # ... and whenever a check on its head finishes (scan, fast path).
    ("check_run", "completed"): checks.on_check_run,
    ("check_suite", "completed"): checks.on_check_suite,
    ("status", "*"): checks.on_status,
    ("check_run", "rerequested"): checks.on_rerequested,
    ("check_suite", "rerequested"): checks.on_rerequested,
    # The review team's sign-off past the rate limit.
    ("issue_comment", "created"): comments.on_comment,
    # Cache upkeep.
    ("push", "*"): repository.on_push,
    ("installation", "deleted"): repository.on_installation_deleted,
}


def find_handler(routes: Routes, event: str, action: str | None) -> Handler | None:
    return routes.get((event, action or "*")) or routes.get((event, "*"))
