"""check_run, check_suite and status deliveries: re-evaluate the lane PRs at that sha.

A scan or fast-path check finishing is what turns a pending hotfix green without a new push.
The pull requests are found in our own store by head sha, not by searching GitHub.
"""

from __future__ import annotations

import hashlib
import logging

from sqlmodel import Session

from app.github.names import CHECK_RUN_NAME, STATUS_CONTEXT
from app.github.payloads import (
    CheckRunEvent,
    CheckSuiteEvent,
    Repository,
    StatusEvent,
    parse_event,
)
from app.lane import impostors
from app.lane.evaluation import evaluate_pull_request, require_gateway
from app.lane.publisher import republish_status
from app.lane.pull_requests import read
from app.lane.status import details_url
from app.lane.tracking import open_lane_prs_at
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.services import EventContext

log = logging.getLogger(__name__)


async def reevaluate_at(context: EventContext, repo: str, sha: str, *, force: bool = False) -> int:
    """Evaluate every open lane PR whose head is ``sha``; returns how many there were.

    GitHub is asked first whether the PR is still open at that head (a conditional read: a
    304 costs nothing against the rate limit): a check that finishes just after an admin
    merge can be handled before the merge's own delivery, and a merged PR must never be
    evaluated and published green again.
    """
    gateway = require_gateway(context)
    with Session(context.services.engine) as session:
        rows = open_lane_prs_at(session, repo_full_name=repo, head_sha=sha)
    for row in rows:
        repository = Repository(full_name=row.repo_full_name, default_branch=row.default_branch)
        installation_id = row.installation_id or context.installation_id
        if installation_id is None:
            continue
        pr = await gateway.pull_request(installation_id, row.repo_full_name, row.number)
        if pr.state != "open" or pr.merged or pr.head.sha != sha:
            log.info(
                "PR #%d is %s at %s now; %s is not evaluated again",
                row.number,
                "merged" if pr.merged else pr.state,
                pr.head.sha[:12],
                sha[:12],
            )
            continue
        await evaluate_pull_request(
            context, installation_id=installation_id, repository=repository, pr=pr, force=force
        )
    if not rows:
        log.debug("no open lane PR at %s", sha[:12])
    return len(rows)


async def on_check_run(context: EventContext) -> None:
    event = read(context, CheckRunEvent)
    if event is None or event.repository is None:
        return
    run, repo = event.check_run, event.repository.full_name
    if run.name == CHECK_RUN_NAME:
        app = run.app
        ours = require_gateway(context).app_id
        if app is not None and app.id is not None and app.id == ours:
            return  # our own result coming back
        impostors.announce(
            context.services, repo=repo, sha=run.head_sha, app=app.slug if app else None
        )
    await reevaluate_at(context, repo, run.head_sha)


async def on_rerequested(context: EventContext) -> None:
    """ "Re-run" on a check (ours included): evaluate the head again and publish afresh."""
    event = parse_event(context.event, context.payload)
    if isinstance(event, CheckRunEvent):
        sha = event.check_run.head_sha
    elif isinstance(event, CheckSuiteEvent):
        sha = event.check_suite.head_sha
    else:
        return
    if event.repository is not None:
        await reevaluate_at(context, event.repository.full_name, sha, force=True)


async def on_check_suite(context: EventContext) -> None:
    event = read(context, CheckSuiteEvent)
    if event is None or event.repository is None:
        return
    app = context.payload.get("check_suite", {}).get("app") or {}
    if app.get("slug") and app.get("slug") == await require_gateway(context).app_slug():
        return  # the suite of our own check run
    await reevaluate_at(context, event.repository.full_name, event.check_suite.head_sha)


def _stand_in_id(delivery_id: str) -> int:
    return int(hashlib.sha256(delivery_id.encode()).hexdigest()[:12], 16)


async def on_status(context: EventContext) -> None:
    event = read(context, StatusEvent)
    if event is None or event.repository is None or event.installation_id is None:
        return
    repo = event.repository.full_name
    if event.context != STATUS_CONTEXT:
        await reevaluate_at(context, repo, event.sha)
        return
    gateway = require_gateway(context)
    if await gateway.is_own_sender(event.sender):
        return
    # Anyone with write access can set a status under our context; put ours back.
    who = event.sender.login if event.sender else "someone"
    log.warning(
        "%s set %s to %s on %s; restoring ours", who, STATUS_CONTEXT, event.state, event.sha[:12]
    )
    status_id = context.payload.get("id")
    notice = notices.status_spoofed(
        repo=repo,
        sha=event.sha,
        context=event.context,
        state=event.state,
        set_by=event.sender.login if event.sender else None,
        # GitHub always sends the status id; a stand-in keeps such notices apart otherwise.
        status_id=status_id if isinstance(status_id, int) else _stand_in_id(context.delivery_id),
        url=event.target_url,
    )
    with Session(context.services.engine) as session:
        enqueue_notice(
            session,
            notice=notice,
            channel=audit_channel(context.services.settings),
            now=context.services.clock.now(),
        )
        session.commit()
    with Session(context.services.engine) as session:
        prs = open_lane_prs_at(session, repo_full_name=repo, head_sha=event.sha)
    restored = await republish_status(
        gateway,
        engine=context.services.engine,
        installation_id=event.installation_id,
        repo=repo,
        head_sha=event.sha,
        now=context.services.clock.now(),
        details_url=details_url(
            context.services.settings, repo, prs[0].number if len(prs) == 1 else None
        ),
    )
    if not restored:
        await reevaluate_at(context, repo, event.sha)
