"""issue_comment created: ``/hotfix team-reviewed`` records the review team's sign-off.

Past the rate limit, a new hotfix waits for the review team (footgun "the hotfix became
normal"). A member can sign off with an approving review or with this comment; anyone else
gets a reply saying who may.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from app.github.payloads import IssueCommentEvent, PullRequest
from app.lane.evaluation import evaluate_pull_request, policy_or_defaults, require_gateway
from app.lane.pull_requests import read
from app.lane.tracking import add_team_review, get_tracked
from app.rules.rate_limit import TEAM_REVIEWED_COMMAND
from app.services import EventContext

log = logging.getLogger(__name__)


def is_team_review_command(body: str) -> bool:
    lines = body.strip().splitlines()
    return bool(lines) and lines[0].strip().lower() == TEAM_REVIEWED_COMMAND


async def on_comment(context: EventContext) -> None:
    event = read(context, IssueCommentEvent)
    if event is None or event.repository is None or event.installation_id is None:
        return
    if not event.issue.is_pull_request or not is_team_review_command(event.comment.body):
        return
    author = event.comment.user
    if author is None or author.type == "Bot":
        return
    gateway = require_gateway(context)
    repository, number = event.repository, event.issue.number
    pr_author = ((context.payload.get("issue") or {}).get("user") or {}).get("login")
    if isinstance(pr_author, str) and pr_author.lower() == author.login.lower():
        await gateway.comment(
            event.installation_id,
            repository.full_name,
            number,
            f"@{author.login} the author of a hotfix cannot record its team review: ask "
            "another member of the review team.",
        )
        return
    policy = await policy_or_defaults(gateway, event.installation_id, repository)
    team = policy.teams.review
    if not await gateway.is_active_member(
        event.installation_id, repository.owner_login, team, author.login
    ):
        log.info("%s is not in %s; team review not recorded on #%d", author.login, team, number)
        await gateway.comment(
            event.installation_id,
            repository.full_name,
            number,
            f"@{author.login} only members of @{repository.owner_login}/{team} can record a "
            f"team review with `{TEAM_REVIEWED_COMMAND}`. Ask one of them to comment it or to "
            "approve this pull request.",
        )
        return
    with Session(context.services.engine) as session:
        add_team_review(
            session,
            repo_full_name=repository.full_name,
            number=number,
            login=author.login,
            now=context.services.clock.now(),
        )
        tracked = get_tracked(session, repo_full_name=repository.full_name, number=number)
    log.info("team review by %s recorded on #%d", author.login, number)
    if tracked is None or tracked.state != "open":
        return
    await evaluate_pull_request(
        context,
        installation_id=event.installation_id,
        repository=repository,
        pr=PullRequest.model_validate_json(tracked.pull_request),
    )
