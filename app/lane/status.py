"""The commit status ``hotfix-lane/policy``: a pure builder of its request body."""

from __future__ import annotations

from app.github.names import CHECK_RUN_NAME, STATUS_CONTEXT
from app.rules.evaluate import fit_description
from app.rules.model import Evaluation, State
from app.settings import Settings

# When not even a clause of the description fits (GitHub refuses more than 140 characters
# with a 422), the status points at the check run, which has it all.
_SEE_CHECK_RUN = f"See the {CHECK_RUN_NAME} check run."

# Commit status states are spelled as our ``State`` values; the table keeps that explicit.
_STATES: dict[State, str] = {
    State.SUCCESS: "success",
    State.FAILURE: "failure",
    State.PENDING: "pending",
    State.ERROR: "error",
}


def details_url(settings: Settings, repo: str, number: int | None) -> str | None:
    """The pull request's details page, the status's and check run's "Details" link: only
    with ``PUBLIC_URL`` and the web view on, so that every link opens a page that exists."""
    if settings.public_url is None or not settings.web_enabled or number is None:
        return None
    return f"{settings.public_url}/{repo}/pull/{number}"


def status_body(state: str, description: str, *, target_url: str | None) -> dict[str, str]:
    """A status body; ``target_url`` (the "Details" link) only when there is a page to
    send people to, since GitHub rejects an empty one."""
    body = {"state": state, "context": STATUS_CONTEXT, "description": description}
    if target_url:
        body["target_url"] = target_url
    return body


def build_status(evaluation: Evaluation, *, target_url: str | None) -> dict[str, str]:
    """The body of ``POST /repos/{owner}/{repo}/statuses/{sha}`` for ``evaluation``.

    The description is one line, said shorter in whole pieces if it is too long, never cut
    inside a word, a login or a command.
    """
    description = fit_description(evaluation.description, fallbacks=(_SEE_CHECK_RUN,))
    return status_body(_STATES[evaluation.state], description, target_url=target_url)
