"""``/hotfix approve``: the named approver confirms the hotfix at its current head.

Only the approver the commits name may confirm; anyone else is answered, and nothing changes.
The confirmation holds for the head it was given at: after a push it is asked for again.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from app.github.payloads import IssueCommentEvent, PullRequest, snapshot_from_payload
from app.lane.evaluation import evaluate_pull_request, policy_or_defaults, require_gateway
from app.lane.pull_requests import read
from app.lane.tracking import add_confirmation, get_tracked
from app.rules.approver_confirmed import APPROVE_COMMAND
from app.rules.facts import named_approver
from app.services import EventContext

log = logging.getLogger(__name__)


async def on_approve(context: EventContext) -> None:
    event = read(context, IssueCommentEvent)
    if event is None or event.repository is None or event.installation_id is None:
        return
    author = event.comment.user
    if author is None or author.type == "Bot":
        return
    gateway = require_gateway(context)
    repository, number = event.repository, event.issue.number

    async def reply(text: str) -> None:
        await gateway.comment_once(
            event.installation_id or 0,
            repository.full_name,
            number,
            text,
            marker=f"reply:{context.delivery_id}",
        )

    with Session(context.services.engine) as session:
        tracked = get_tracked(session, repo_full_name=repository.full_name, number=number)
    if (
        not event.issue.is_pull_request
        or tracked is None
        or tracked.state != "open"
        or tracked.lane != "hotfix"
    ):
        await reply(f"`{APPROVE_COMMAND}` confirms an open hotfix pull request; this is not one.")
        return
    pr = PullRequest.model_validate_json(tracked.pull_request)
    policy = await policy_or_defaults(gateway, event.installation_id, repository)
    snapshot = await gateway.with_diff(
        event.installation_id, snapshot_from_payload(repository.full_name, pr)
    )
    approver = named_approver(snapshot, policy)
    if approver is None or approver.lower() != author.login.lower():
        named = f"@{approver}" if approver else "nobody is named yet"
        log.info("%s is not the named approver of #%d; not a confirmation", author.login, number)
        await reply(
            f"@{author.login} only the named approver ({named}) can confirm this hotfix with "
            f"`{APPROVE_COMMAND}`; this comment changes nothing."
        )
        return
    with Session(context.services.engine) as session:
        add_confirmation(
            session,
            repo_full_name=repository.full_name,
            number=number,
            login=author.login,
            head_sha=pr.head.sha,
            now=context.services.clock.now(),
        )
    log.info("@%s confirmed #%d at %s", author.login, number, pr.head.sha[:12])
    await evaluate_pull_request(
        context, installation_id=event.installation_id, repository=repository, pr=pr
    )
