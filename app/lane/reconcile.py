"""The reconcile sweep: open lane PRs compared with GitHub, slowly, for what no webhook said.

A push whose ``synchronize`` delivery was lost (and not recovered: GitHub keeps its delivery
log for a few days, and may never have tried) leaves a hotfix PR showing the verdict of an
older head, while GitHub shows no status at all on the new one. A recurring job (every
``EVERY_MINUTES``, once across processes) takes the ``MAX_PER_RUN`` open hotfix and cleanup
PRs compared longest ago, asks GitHub for each (a conditional read: an unchanged PR costs
nothing against the rate limit), and

- evaluates one whose current head we never evaluated;
- handles one GitHub shows closed as its ``closed`` delivery would have (a merge recorded
  once, whichever of the two gets there first).

Ordinary PRs are left alone: they carry no verdict worth a read of GitHub each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.github.errors import GitHubError
from app.github.payloads import Repository
from app.jobs.queue import ClaimedJob
from app.jobs.recurring import Recurring, every
from app.lane.evaluation import evaluate_pull_request
from app.lane.merges import handle_closed
from app.services import EventContext, Services
from app.store.models import EvaluationRecord, TrackedPullRequest

log = logging.getLogger(__name__)

RECONCILE_JOB = "lane-reconcile"
EVERY_MINUTES = 30
# At most this many reads of GitHub a run: with 30 min between runs, 2,400 PRs a day.
MAX_PER_RUN = 50

RECONCILE = Recurring(RECONCILE_JOB, every(EVERY_MINUTES))


@dataclass(frozen=True)
class Swept:
    """What one sweep compared and did."""

    compared: int
    evaluated: tuple[str, ...] = ()  # "owner/repo#N" evaluated at a head we never had
    closed: tuple[str, ...] = ()  # closed on GitHub, open here
    failed: tuple[str, ...] = ()  # GitHub could not be read or the evaluation failed


def due(session: Session, *, limit: int) -> list[TrackedPullRequest]:
    """Open lane PRs with an installation, never compared first, then compared longest ago."""
    query = (
        select(TrackedPullRequest)
        .where(
            col(TrackedPullRequest.state) == "open",
            col(TrackedPullRequest.lane) != "ordinary",
            col(TrackedPullRequest.installation_id).is_not(None),
        )
        .order_by(
            col(TrackedPullRequest.swept_at).is_not(None),
            col(TrackedPullRequest.swept_at),
            col(TrackedPullRequest.repo_full_name),
            col(TrackedPullRequest.number),
        )
        .limit(limit)
    )
    return list(session.exec(query))


def evaluated_at(session: Session, *, repo_full_name: str, number: int, head_sha: str) -> bool:
    """Whether we ever evaluated ``number`` at ``head_sha``."""
    query = (
        select(col(EvaluationRecord.id))
        .where(
            col(EvaluationRecord.repo_full_name) == repo_full_name,
            col(EvaluationRecord.number) == number,
            col(EvaluationRecord.head_sha) == head_sha,
        )
        .limit(1)
    )
    return session.exec(query).first() is not None


def _mark_swept(services: Services, row: TrackedPullRequest, now: datetime) -> None:
    with services.engine.begin() as conn:
        conn.execute(
            update(TrackedPullRequest)
            .where(
                col(TrackedPullRequest.repo_full_name) == row.repo_full_name,
                col(TrackedPullRequest.number) == row.number,
            )
            .values(swept_at=now)
        )


async def sweep(services: Services, *, run_id: str, limit: int = MAX_PER_RUN) -> Swept:
    """Compare up to ``limit`` open lane PRs with GitHub and catch up on what changed.

    ``run_id`` names the run where a delivery id would be (the evaluations it stores).
    Each PR is marked compared before GitHub is asked: one that fails every time does not
    hold the others back.
    """
    gateway = services.gateway
    if gateway is None:
        return Swept(compared=0)
    with Session(services.engine) as session:
        rows = due(session, limit=limit)
    evaluated: list[str] = []
    closed: list[str] = []
    failed: list[str] = []
    for row in rows:
        name, installation_id = f"{row.repo_full_name}#{row.number}", row.installation_id
        assert installation_id is not None  # ``due`` leaves the others out
        _mark_swept(services, row, services.clock.now())
        context = EventContext(
            services=services,
            delivery_id=run_id,
            event="reconcile",
            action=None,
            installation_id=installation_id,
            payload={},
        )
        repository = Repository(full_name=row.repo_full_name, default_branch=row.default_branch)
        try:
            pr = await gateway.pull_request(installation_id, row.repo_full_name, row.number)
            if pr.state != "open" or pr.merged:
                log.warning(
                    "%s is %s on GitHub but open here: its closed delivery never came",
                    name,
                    "merged" if pr.merged else pr.state,
                )
                await handle_closed(
                    context, installation_id=installation_id, repository=repository, pr=pr
                )
                closed.append(name)
                continue
            with Session(services.engine) as session:
                known = evaluated_at(
                    session,
                    repo_full_name=row.repo_full_name,
                    number=row.number,
                    head_sha=pr.head.sha,
                )
            if known:
                continue
            log.warning(
                "%s is at %s on GitHub, which we never evaluated: evaluating it now",
                name,
                pr.head.sha[:12],
            )
            await evaluate_pull_request(
                context, installation_id=installation_id, repository=repository, pr=pr
            )
            evaluated.append(name)
        except GitHubError as exc:
            log.warning("%s could not be compared with GitHub: %s", name, exc)
            failed.append(name)
    return Swept(len(rows), tuple(evaluated), tuple(closed), tuple(failed))


class ReconcileRunner:
    """``lane-reconcile``: queue the next slot, then one sweep."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        RECONCILE.queue_next_now(services.engine, now=services.clock.now())
        swept = await sweep(services, run_id=job.key)
        if swept.evaluated or swept.closed or swept.failed:
            log.info(
                "reconcile sweep: %d compared, %d evaluated, %d closed, %d failed",
                swept.compared,
                len(swept.evaluated),
                len(swept.closed),
                len(swept.failed),
            )
