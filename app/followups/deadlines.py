"""The reminder and the deadline of each follow-up, as job runners; and policy changes.

Both jobs re-check the time against the current policy when they fire: a deadline that moved
later waits (``Defer``, no attempt spent); one that moved earlier was rescheduled when the
policy file changed (``on_push``). Every step is safe to repeat after a crash: the state and
the Slack notice are written first, in the store (the notice is keyed, so it goes out once),
and the GitHub comment carries a marker that a retry looks for before posting again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from app.followups import queries, tracker
from app.followups.body import mention, when
from app.followups.lifecycle import DUE_JOB, REMIND_JOB, reschedule
from app.github.names import ORG_CONFIG_REPO, POLICY_PATH
from app.github.payloads import PushEvent, parse_event
from app.jobs.queue import ClaimedJob
from app.retry import Defer
from app.rules.due_dates import FollowUpKind, due_at, remind_at
from app.services import EventContext, Services

log = logging.getLogger(__name__)


class DeadlineRunner:
    """The runner of ``follow-up-reminder`` and ``follow-up-due`` jobs (``ref``: the id)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        follow_up_id = job.row_id()
        services = self.services
        with Session(services.engine, expire_on_commit=False) as session:
            row = queries.follow_up(session, follow_up_id)
        if row is None or row.state in (queries.DONE, queries.WAIVED):
            return
        hotfix = await tracker.load(services, row.hotfix_id)
        if hotfix is None:
            return
        kind = FollowUpKind(row.kind)
        merged_at = hotfix.record.merged_at
        drill = hotfix.record.drill
        due = due_at(kind, merged_at, hotfix.policy, drill=drill)
        at = due if job.kind == DUE_JOB else remind_at(kind, merged_at, hotfix.policy, drill=drill)
        now = services.clock.now()
        if now < at:
            raise Defer(
                at, f"the {kind.label} of {hotfix.repo}#{hotfix.record.number} is due later"
            )
        if job.kind == REMIND_JOB:
            await _remind(services, hotfix, row.id or 0, due, now)
        else:
            await _expire(services, hotfix, row.id or 0, due, now)


async def _remind(
    services: Services, hotfix: tracker.Hotfix, follow_up_id: int, due: datetime, now: datetime
) -> None:
    with Session(services.engine, expire_on_commit=False) as session:
        row = queries.follow_up(session, follow_up_id)
        if row is None or row.state != queries.OPEN or now >= due:
            return  # done meanwhile, or past its deadline already: the deadline speaks
        first = row.reminded_at is None
        row.reminded_at = row.reminded_at or now
        row.due_at = due
        session.add(row)
        session.commit()
        session.refresh(row)
    if first:
        tracker.announce(services, hotfix, row, "reminder")
    label = FollowUpKind(row.kind).label
    await tracker.comment(
        services,
        hotfix,
        f"{mention(row.owner)} reminder: the {label} of this hotfix is due {when(due)}.",
        marker=f"reminder:{follow_up_id}",
    )


async def _expire(
    services: Services, hotfix: tracker.Hotfix, follow_up_id: int, due: datetime, now: datetime
) -> None:
    with Session(services.engine, expire_on_commit=False) as session:
        row = queries.follow_up(session, follow_up_id)
        if row is None or row.state not in queries.UNDONE:
            return
        if row.state == queries.OPEN:
            row.state = queries.OVERDUE
            row.overdue_at = now
            row.due_at = due
            row.updated_at = now
            session.add(row)
            session.commit()
            session.refresh(row)
    # Queued once: the notice's key is the follow-up's, whatever the retries.
    tracker.announce(services, hotfix, row, "overdue")
    label = FollowUpKind(row.kind).label
    await tracker.comment(
        services,
        hotfix,
        f"**OVERDUE**: the {label} of this hotfix was due {when(due)}; owner "
        f"{mention(row.owner)}. The runbook's follow-ups are not optional: close it or "
        "explain here why it is late.",
        marker=f"overdue:{follow_up_id}",
    )
    await tracker.sync(services, hotfix)
    log.warning(
        "OVERDUE: %s of %s#%d (owner %s)",
        label,
        hotfix.repo,
        hotfix.record.number,
        row.owner or "-",
    )


async def on_push(context: EventContext) -> None:
    """A policy file changed on a default branch: move the deadlines of undone follow-ups.

    Runs after the gateway dropped its cached policy for the repository (or, for the
    organisation's ``.github`` repository, for all of them).
    """
    event = parse_event(context.event, context.payload)
    if not isinstance(event, PushEvent) or event.repository is None:
        return
    if not event.to_default_branch or not event.touches(POLICY_PATH):
        return
    services = context.services
    repo = event.repository
    org_wide = repo.full_name.split("/", 1)[-1].lower() == ORG_CONFIG_REPO
    with Session(services.engine, expire_on_commit=False) as session:
        pairs = queries.undone_in(
            session, repo=None if org_wide else repo.full_name, org=repo.owner_login
        )
    moved = 0
    for hotfix_id in sorted({record.id for _row, record in pairs if record.id is not None}):
        hotfix = await tracker.load(services, hotfix_id)
        if hotfix is None:
            continue
        now = services.clock.now()
        with Session(services.engine, expire_on_commit=False) as session:
            for row in queries.follow_ups(session, hotfix_id):
                if row.state in queries.UNDONE and reschedule(session, row, hotfix, now=now):
                    moved += 1
            session.commit()
        await tracker.sync(services, hotfix)
    if moved:
        log.info("policy changed in %s: %d follow-up deadline(s) moved", repo.full_name, moved)
