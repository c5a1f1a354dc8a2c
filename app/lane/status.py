"""The commit status ``hotfix-lane/policy``: a pure builder of its request body."""

from __future__ import annotations

from app.github.names import STATUS_CONTEXT
from app.lane.text import one_line, truncate
from app.rules.model import Evaluation, State

# GitHub refuses longer status descriptions with a 422.
DESCRIPTION_LIMIT = 140

# Commit status states are spelled as our ``State`` values; the table keeps that explicit.
_STATES: dict[State, str] = {
    State.SUCCESS: "success",
    State.FAILURE: "failure",
    State.PENDING: "pending",
    State.ERROR: "error",
}


def status_body(state: str, description: str, *, public_url: str | None) -> dict[str, str]:
    """A status body; ``target_url`` (the "Details" link) only with ``PUBLIC_URL``, since
    GitHub rejects an empty one."""
    body = {"state": state, "context": STATUS_CONTEXT, "description": description}
    if public_url:
        body["target_url"] = public_url
    return body


def build_status(evaluation: Evaluation, *, public_url: str | None) -> dict[str, str]:
    """The body of ``POST /repos/{owner}/{repo}/statuses/{sha}`` for ``evaluation``."""
    description = truncate(one_line(evaluation.description), DESCRIPTION_LIMIT)
    return status_body(_STATES[evaluation.state], description, public_url=public_url)
