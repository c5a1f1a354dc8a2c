"""The reconcile sweep: open lane PRs compared with GitHub, slowly, for what no webhook said.

A push whose ``synchronize`` delivery was lost (and not recovered: GitHub keeps its delivery
log for a few days, and may never have tried) leaves a hotfix PR showing the verdict of an
older head, while GitHub shows no status at all on the new one. A recurring job (every
``EVERY_MINUTES``, once across processes) takes the ``MAX_PER_RUN`` open hotfix and cleanup
PRs compared longest ago, asks GitHub for each (a conditional read: an unchanged PR costs
nothing against the rate limit), and queues a ``lane-catch-up`` job for

- one whose current head we never evaluated (an evaluation that only said GitHub was
  unavailable does not count): the job evaluates it there;
- one GitHub shows closed: the job handles it as its ``closed`` delivery would have (a merge
  recorded once, whichever of the two gets there first).

The work is a job of its own, keyed by the PR and its head (or its closing), so the queue's
retries apply: a merge found this way is never lost to a GitHub error half-way, and the
sweep itself only reads. Ordinary PRs are left alone: they carry no verdict worth a read of
GitHub each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.github.errors import GitHubError, GitHubRejected
from app.github.payloads import Repository
from app.jobs import queue
from app.jobs.queue import ClaimedJob
from app.jobs.recurring import Recurring, every
from app.lane.evaluation import evaluate_pull_request
from app.lane.merges import handle_closed
from app.lane.tracking import get_tracked
from app.retry import Defer, PermanentError
from app.services import EventContext, Services
from app.store.models import EvaluationRecord, TrackedPullRequest

log = logging.getLogger(__name__)

RECONCILE_JOB = "lane-reconcile"
CATCH_UP_JOB = "lane-catch-up"
EVERY_MINUTES = 30
# At most this many reads of GitHub a run: with 30 min between runs, 2,400 PRs a day.
MAX_PER_RUN = 50
# The evaluation stored when GitHub could not be read: it asks for a retry, not a verdict.
_UNAVAILABLE = "error"

RECONCILE = Recurring(RECONCILE_JOB, every(EVERY_MINUTES))


@dataclass(frozen=True)
class Swept:
    """What one sweep compared and queued."""

    compared: int
    evaluate: tuple[str, ...] = ()  # "owner/repo#N" queued for an evaluation at a new head
    closed: tuple[str, ...] = ()  # closed on GitHub, open here: queued to be handled
    unreadable: tuple[str, ...] = ()  # GitHub would not show it (gone, no access)
    failed: tuple[str, ...] = ()  # GitHub did not answer
    stopped: str | None = None  # why the sweep stopped before the end (a rate limit)


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
    """Whether ``number`` has a verdict at ``head_sha`` (not only "GitHub unavailable")."""
    query = (
        select(col(EvaluationRecord.id))
        .where(
            col(EvaluationRecord.repo_full_name) == repo_full_name,
            col(EvaluationRecord.number) == number,
            col(EvaluationRecord.head_sha) == head_sha,
            col(EvaluationRecord.state) != _UNAVAILABLE,
        )
        .limit(1)
    )
    return session.exec(query).first() is not None


def catch_up_key(repo_full_name: str, number: int, what: str) -> str:
    """One catch-up per PR and head (``@sha``) or closing (``closed``)."""
    return f"{CATCH_UP_JOB}:{repo_full_name.lower()}#{number}:{what}"


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


def _queue(services: Services, row: TrackedPullRequest, what: str) -> None:
    with Session(services.engine) as session:
        queue.enqueue(
            session,
            kind=CATCH_UP_JOB,
            key=catch_up_key(row.repo_full_name, row.number, what),
            ref=f"{row.repo_full_name}#{row.number}",
            now=services.clock.timestamp(),
        )
        session.commit()


async def sweep(services: Services, *, limit: int = MAX_PER_RUN) -> Swept:
    """Compare up to ``limit`` open lane PRs with GitHub and queue what needs catching up.

    Each PR is marked compared before GitHub is asked: one that fails every time does not
    hold the others back. A rate limit ends the run early; the next one goes on from there.
    """
    gateway = services.gateway
    if gateway is None:
        return Swept(compared=0)
    with Session(services.engine) as session:
        rows = due(session, limit=limit)
    found: dict[str, list[str]] = {"evaluate": [], "closed": [], "unreadable": [], "failed": []}
    compared, stopped = 0, None
    for row in rows:
        name, installation_id = f"{row.repo_full_name}#{row.number}", row.installation_id
        assert installation_id is not None  # ``due`` leaves the others out
        _mark_swept(services, row, services.clock.now())
        compared += 1
        try:
            pr = await gateway.pull_request(installation_id, row.repo_full_name, row.number)
        except Defer as exc:
            stopped = exc.reason
            log.warning("reconcile sweep stopped after %d PRs: %s", compared, exc.reason)
            break
        except GitHubRejected as exc:
            log.warning("%s cannot be read from GitHub: %s", name, exc)
            found["unreadable"].append(name)
            continue
        except GitHubError as exc:
            log.warning("%s could not be compared with GitHub: %s", name, exc)
            found["failed"].append(name)
            continue
        if pr.state != "open" or pr.merged:
            log.warning(
                "%s is %s on GitHub but open here: its closed delivery never came",
                name,
                "merged" if pr.merged else pr.state,
            )
            _queue(services, row, "closed")
            found["closed"].append(name)
            continue
        with Session(services.engine) as session:
            known = evaluated_at(
                session, repo_full_name=row.repo_full_name, number=row.number, head_sha=pr.head.sha
            )
        if not known:
            log.warning("%s is at %s on GitHub, which we never evaluated", name, pr.head.sha[:12])
            _queue(services, row, f"@{pr.head.sha}")
            found["evaluate"].append(name)
    return Swept(
        compared,
        tuple(found["evaluate"]),
        tuple(found["closed"]),
        tuple(found["unreadable"]),
        tuple(found["failed"]),
        stopped,
    )


class ReconcileRunner:
    """``lane-reconcile``: queue the next slot, then one sweep."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        RECONCILE.queue_next_now(services.engine, now=services.clock.now())
        swept = await sweep(services)
        if swept.evaluate or swept.closed or swept.failed or swept.unreadable:
            log.info(
                "reconcile sweep: %d compared; queued %d evaluations and %d closings; "
                "%d unreadable, %d failed",
                swept.compared,
                len(swept.evaluate),
                len(swept.closed),
                len(swept.unreadable),
                len(swept.failed),
            )


class CatchUpRunner:
    """``lane-catch-up``: what the sweep found, done with the queue's retries.

    GitHub is asked again (a 304 when nothing moved), so the PR is handled as it is now: a
    PR closed since the sweep is handled as closed, one pushed to again is evaluated at its
    newest head.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        repo, _, number_text = job.ref.rpartition("#")
        if not repo or not number_text.isdigit():
            raise PermanentError(f"not a pull request reference: {job.ref!r}")
        number = int(number_text)
        with Session(services.engine) as session:
            row = get_tracked(session, repo_full_name=repo, number=number)
        if row is None or row.installation_id is None or services.gateway is None:
            log.info("%s: nothing to catch up on", job.ref)
            return
        pr = await services.gateway.pull_request(row.installation_id, repo, number)
        context = EventContext(
            services=services,
            delivery_id=f"{CATCH_UP_JOB}:{job.id}",
            event="reconcile",
            action=None,
            installation_id=row.installation_id,
            payload={},
        )
        repository = Repository(full_name=repo, default_branch=row.default_branch)
        if pr.state != "open" or pr.merged:
            await handle_closed(
                context, installation_id=row.installation_id, repository=repository, pr=pr
            )
            return
        await evaluate_pull_request(
            context, installation_id=row.installation_id, repository=repository, pr=pr
        )
