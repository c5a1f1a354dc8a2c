"""pull_request and pull_request_review deliveries: (re-)evaluate the pull request."""

from __future__ import annotations

import logging
from typing import TypeVar

from sqlmodel import Session

from app.github.payloads import (
    PullRequest,
    PullRequestEvent,
    PullRequestReviewEvent,
    WebhookEvent,
    parse_event,
)
from app.lane.evaluation import evaluate_pull_request
from app.lane.tracking import get_tracked
from app.services import EventContext

log = logging.getLogger(__name__)

E = TypeVar("E", bound=WebhookEvent)


def read(context: EventContext, model: type[E]) -> E | None:
    """The delivery as ``model``; None (logged) when it lacks what we need.

    A payload we cannot read is not retried: it would fail the same way every time.
    """
    event = parse_event(context.event, context.payload)
    if not isinstance(event, model) or event.repository is None:
        log.warning(
            "%s.%s delivery lacks the fields we read; skipped", context.event, context.action or "-"
        )
        return None
    if event.installation_id is None:
        log.warning(
            "%s.%s delivery has no installation; skipped", context.event, context.action or "-"
        )
        return None
    return event


async def on_pull_request(context: EventContext) -> None:
    """Opened, edited, pushed to, labelled, reopened, ready: evaluate the new state."""
    event = read(context, PullRequestEvent)
    if event is None or event.repository is None or event.installation_id is None:
        return
    await evaluate_pull_request(
        context,
        installation_id=event.installation_id,
        repository=event.repository,
        pr=event.pull_request,
    )


async def on_review(context: EventContext) -> None:
    """A review was submitted or dismissed: evaluate the pull request again."""
    event = read(context, PullRequestReviewEvent)
    if event is None or event.repository is None or event.installation_id is None:
        return
    pr = event.pull_request
    with Session(context.services.engine) as session:
        row = get_tracked(session, repo_full_name=event.repository.full_name, number=pr.number)
    if row is not None and row.head_sha == pr.head.sha:
        # Review deliveries carry a shortened pull request; our stored copy is complete.
        pr = PullRequest.model_validate_json(row.pull_request)
    await evaluate_pull_request(
        context, installation_id=event.installation_id, repository=event.repository, pr=pr
    )
