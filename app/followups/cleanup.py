"""A merged cleanup PR closes its hotfix's ``cleanup PR`` follow-up, through the normal flow.

Runbook step 7: the cleanup PR "runs the FULL pipeline (no fast-path); reviewers approve;
merge through the normal flow". It counts when it names the incident and links the hotfix
PR, its cleanup rules passed (our status on its head was green) and its merge was not a
bypass. One merged by bypass does not count, and the tracking issue says so.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from app.followups import lifecycle, queries, tracker
from app.rules.due_dates import FollowUpKind
from app.services import Services
from app.store.models import CleanupRecord

log = logging.getLogger(__name__)


async def cleanup_merged(services: Services, cleanup_id: int) -> None:
    with Session(services.engine, expire_on_commit=False) as session:
        record = queries.cleanup(session, cleanup_id)
        hotfixes = [] if record is None else queries.hotfixes_cleaned_by(session, record)
    if record is None:
        return
    if not hotfixes:
        log.info(
            "cleanup PR %s#%d follows no recorded hotfix", record.repo_full_name, record.number
        )
    for row in hotfixes:
        if row.id is None:
            continue
        hotfix = await tracker.load(services, row.id)
        if hotfix is not None:
            await _apply(services, hotfix, record)


async def _apply(services: Services, hotfix: tracker.Hotfix, record: CleanupRecord) -> None:
    assert hotfix.record.id is not None
    with Session(services.engine, expire_on_commit=False) as session:
        rows = queries.follow_ups(session, hotfix.record.id)
    row = next((r for r in rows if r.kind == FollowUpKind.CLEANUP_PR.value), None)
    if row is None or row.state not in queries.UNDONE:
        return
    reason = _why_not(record)
    if reason is None:
        await lifecycle.complete(
            services, hotfix, row, done_by=record.merged_by, evidence=f"#{record.number}"
        )
        return
    await tracker.comment(
        services,
        hotfix,
        f"Cleanup PR #{record.number} was merged, but {reason}, so it does not close the "
        "cleanup follow-up: the return to the normal flow goes through branch protection "
        "and the full pipeline (runbook step 7). Open a cleanup PR that does.",
        marker=f"cleanup-refused:{record.id}",
    )
    log.warning(
        "cleanup PR %s#%d does not count for hotfix #%d: %s",
        record.repo_full_name,
        record.number,
        hotfix.record.number,
        reason,
    )


def _why_not(record: CleanupRecord) -> str | None:
    if record.bypassed:
        return "by bypassing branch protection"
    if record.policy_state != "success":
        return f"its cleanup rules had not passed (hotfix-lane/policy was {record.policy_state})"
    return None
