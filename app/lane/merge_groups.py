"""merge_group checks_requested: our status on the merge queue's group, so a queue that
requires ``hotfix-lane/policy`` does not stall.

GitHub builds a temporary branch (``gh-readonly-queue/<base>/pr-<n>-<sha>``) holding the
queued pull requests on top of the base and asks for its checks. The group is green when every
pull request in it was green at its own head by our last published status; any other is named
in a failure. The pull requests are read from the branch name (the newest one) and from the
group's own commits, which the queue writes as merges ("Merge pull request #n") or squashes
("Title (#n)"). A pull request we never evaluated is not green: it fails closed.
"""

from __future__ import annotations

import logging
import re

from pydantic import ValidationError
from sqlmodel import Session

from app.github.names import STATUS_CONTEXT
from app.github.payloads import Lenient, WebhookEvent
from app.lane.evaluation import require_gateway
from app.lane.tracking import get_tracked
from app.rules.evaluate import fit_description
from app.services import EventContext
from app.store import publications

log = logging.getLogger(__name__)

_BRANCH_PR = re.compile(r"/pr-(\d+)-[0-9a-f]+$")
_MESSAGE_PR = re.compile(r"^Merge pull request #(\d+) |\(#(\d+)\)$")
# A group holds a handful of pull requests; a long branch is read this far.
MAX_PULLS = 100


class _Group(Lenient):
    head_sha: str
    head_ref: str = ""
    base_sha: str | None = None


class MergeGroupEvent(WebhookEvent):
    merge_group: _Group


async def on_merge_group(context: EventContext) -> None:
    """checks_requested: publish the group's status from its pull requests' statuses."""
    try:
        event = MergeGroupEvent.model_validate(context.payload)
    except ValidationError:
        log.warning("merge_group delivery lacks the fields we read; skipped")
        return
    if event.repository is None or event.installation_id is None:
        return
    gateway = require_gateway(context)
    repo, group = event.repository.full_name, event.merge_group
    numbers = pulls_in(
        group.head_ref,
        await gateway.compared_messages(event.installation_id, repo, group.base_sha, group.head_sha)
        if group.base_sha
        else (),
    )
    not_green = _not_green(context, repo, numbers)
    if not numbers:
        state, text = "failure", "No pull request found in the merge group: not checked."
    elif not_green:
        state = "failure"
        text = "Not green at their heads: " + ", ".join(
            f"#{number} ({why})" for number, why in not_green
        )
    else:
        state = "success"
        text = "Every pull request in the group was green: " + ", ".join(f"#{n}" for n in numbers)
    description = fit_description(text, fallbacks=(f"{state}: see the pull requests",))
    await gateway.set_status(
        event.installation_id,
        repo,
        group.head_sha,
        {"state": state, "context": STATUS_CONTEXT, "description": description},
    )
    log.info("merge group %s of %s: %s (%s)", group.head_sha[:12], repo, state, description)


def pulls_in(head_ref: str, messages: tuple[str, ...]) -> tuple[int, ...]:
    """The pull request numbers of a merge group, from its branch and its commits' subjects."""
    found: dict[int, None] = {}
    for message in messages:
        subject = message.split("\n", 1)[0].strip()
        match = _MESSAGE_PR.search(subject)
        if match:
            found[int(match.group(1) or match.group(2))] = None
    branch = _BRANCH_PR.search(head_ref)
    if branch:
        found[int(branch.group(1))] = None
    return tuple(found)[:MAX_PULLS]


def _not_green(context: EventContext, repo: str, numbers: tuple[int, ...]) -> list[tuple[int, str]]:
    """Each pull request whose last status from us at its head is not success, and why."""
    found: list[tuple[int, str]] = []
    with Session(context.services.engine) as session:
        for number in numbers:
            tracked = get_tracked(session, repo_full_name=repo, number=number)
            if tracked is None:
                found.append((number, "not evaluated"))
                continue
            status = publications.get_publication(
                session=session,
                repo_full_name=repo,
                head_sha=tracked.head_sha,
                kind=publications.STATUS,
            )
            if status is None:
                found.append((number, "not evaluated"))
            elif status.state != "success":
                found.append((number, status.state))
    return found
