"""pull_request closed: stop tracking the PR; if it merged, record it and recount the lane.

Recording (bypass judged, ledger row, audit notices) is the ledger's; what the lane adds is
that a merged hotfix may push the other open hotfixes past the rate limit, so they are
evaluated again at once.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from app.github.payloads import PullRequest, PullRequestEvent, Repository
from app.lane.evaluation import evaluate_pull_request, policy_or_defaults, require_gateway
from app.lane.pull_requests import read
from app.lane.tracking import get_tracked, open_hotfix_prs, track
from app.ledger.merge import record_merge
from app.policy.model import Policy
from app.rules.model import Lane
from app.services import EventContext

log = logging.getLogger(__name__)


async def on_pull_request_closed(context: EventContext) -> None:
    event = read(context, PullRequestEvent)
    if event is None or event.repository is None or event.installation_id is None:
        return
    await handle_closed(
        context,
        installation_id=event.installation_id,
        repository=event.repository,
        pr=event.pull_request,
    )


async def handle_closed(
    context: EventContext, *, installation_id: int, repository: Repository, pr: PullRequest
) -> None:
    """``pr`` is closed: stop tracking it, and record it if it merged (once: a redelivery or
    the reconcile sweep finding the same merge records nothing new)."""
    with Session(context.services.engine) as session:
        row = get_tracked(session, repo_full_name=repository.full_name, number=pr.number)
        track(
            session,
            repo_full_name=repository.full_name,
            number=pr.number,
            installation_id=installation_id,
            head_sha=pr.head.sha,
            lane=row.lane if row else "ordinary",
            state="closed",
            default_branch=repository.default_branch,
            pull_request_json=pr.model_dump_json(),
            pr_updated_at=pr.updated_at,
            now=context.services.clock.now(),
            # Closed is final, whatever copy we held (a reopening comes with a newer one).
            authoritative=True,
        )
    if not pr.merged:
        log.info("PR #%d closed without merging", pr.number)
        return
    gateway = require_gateway(context)
    # A broken policy file must not hide a merge from the audit trail.
    policy = await policy_or_defaults(gateway, installation_id, repository)
    lane = await record_merge(
        context.services,
        installation_id=installation_id,
        repository=repository,
        pr=pr,
        policy=policy,
    )
    if lane is Lane.HOTFIX:
        await _recount_open_hotfixes(context, repository, pr.number, policy)


async def _recount_open_hotfixes(
    context: EventContext, repository: Repository, merged: int, policy: Policy
) -> None:
    """This merge may push the other open hotfixes past the rate limit: evaluate them now,
    or several PRs opened side by side would all stay green past the limit."""
    scope_repo = repository.full_name if policy.rate_limit.scope == "repository" else None
    with Session(context.services.engine) as session:
        rows = open_hotfix_prs(session, org=repository.owner_login, repo_full_name=scope_repo)
    for row in rows:
        if row.installation_id is None or (
            row.repo_full_name == repository.full_name and row.number == merged
        ):
            continue
        await evaluate_pull_request(
            context,
            installation_id=row.installation_id,
            repository=Repository(full_name=row.repo_full_name, default_branch=row.default_branch),
            pr=PullRequest.model_validate_json(row.pull_request),
        )
