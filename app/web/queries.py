"""What the pages show, read from the store only: never from GitHub on a page's request.

Each function returns plain page models, bounded in size, for one page; who may see which
repository is applied by the caller (``auth.Viewer.can_read``), row by row.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, func
from sqlalchemy import select as columns
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.policy.model import Policy
from app.store.models import EvaluationRecord, FollowUp, HotfixRecord, TrackedPullRequest

T = TypeVar("T")


def reader(engine: Engine) -> Callable[[Callable[[Session], T]], Awaitable[T]]:
    """``await read(fn)``: ``fn`` run with a session of its own in a worker thread, so a
    page's reads never hold up the event loop that answers webhooks."""

    async def read(fn: Callable[[Session], T]) -> T:
        def run() -> T:
            with Session(engine, expire_on_commit=False) as session:
                return fn(session)

        return await asyncio.to_thread(run)

    return read


# A page lists at most this many rows of one kind (the ledger page has its own limit).
MAX_ROWS = 500
# Every follow-up owed is shown: the dashboard is where an overdue one must not hide.
MAX_FOLLOW_UPS = 5000
LEDGER_PAGE = 200
OVERDUE, OPEN = "overdue", "open"


@dataclass(frozen=True)
class OpenHotfix:
    repo: str
    number: int
    title: str
    author: str | None
    state: str | None  # our last published verdict: success, failure, pending, error
    description: str | None
    evaluated_at: datetime | None
    drill: bool


@dataclass(frozen=True)
class OwedFollowUp:
    repo: str
    number: int
    incident_id: str | None
    kind: str
    owner: str | None
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class RateWindow:
    org: str
    used: int
    limit: int
    window_days: int
    # When the oldest hotfix in the window leaves it (None: the window is empty).
    frees_at: datetime | None


@dataclass(frozen=True)
class Verdict:
    rule: str
    outcome: str
    message: str


@dataclass(frozen=True)
class Evaluated:
    head_sha: str
    state: str
    description: str
    evaluated_at: datetime
    verdicts: tuple[Verdict, ...]
    # What the verdicts were drawn from (``app.rules.evidence``); None before it was kept.
    evidence: dict[str, Any] | None = None

    @property
    def next_steps(self) -> tuple[str, ...]:
        """What to do next, in the rules' own words: each failing rule's message, then
        each pending one's; nothing when every rule passes."""
        order = ("fail", "pending")
        return tuple(v.message for outcome in order for v in self.verdicts if v.outcome == outcome)


@dataclass(frozen=True)
class PullDetails:
    repo: str
    number: int
    title: str
    author: str | None
    url: str | None
    lane: str
    state: str
    head_sha: str
    latest: Evaluated | None
    history: tuple[Evaluated, ...]
    hotfix: HotfixRecord | None


def open_hotfixes(session: Session) -> list[OpenHotfix]:
    """Open hotfix PRs with their latest verdict, most recently evaluated first."""
    latest = (
        select(func.max(col(EvaluationRecord.id)))
        .group_by(col(EvaluationRecord.repo_full_name), col(EvaluationRecord.number))
        .scalar_subquery()
    )
    rows = session.exec(
        select(TrackedPullRequest, EvaluationRecord)
        .join(
            EvaluationRecord,
            (col(EvaluationRecord.repo_full_name) == col(TrackedPullRequest.repo_full_name))
            & (col(EvaluationRecord.number) == col(TrackedPullRequest.number))
            & col(EvaluationRecord.id).in_(latest),
            isouter=True,
        )
        .where(col(TrackedPullRequest.lane) == "hotfix", col(TrackedPullRequest.state) == OPEN)
        .order_by(col(TrackedPullRequest.updated_at).desc())
        .limit(MAX_ROWS)
    ).all()
    found = []
    for tracked, evaluation in rows:
        pr = _pull(tracked)
        found.append(
            OpenHotfix(
                repo=tracked.repo_full_name,
                number=tracked.number,
                title=str(pr.get("title") or ""),
                author=_login(pr.get("user")),
                state=evaluation.state if evaluation else None,
                description=evaluation.description if evaluation else None,
                evaluated_at=evaluation.evaluated_at if evaluation else None,
                drill=bool(evaluation and evaluation.description.startswith("[DRILL] ")),
            )
        )
    return found


def owed_follow_ups(session: Session) -> list[OwedFollowUp]:
    """Follow-ups not done yet, overdue ones first, then by due time."""
    overdue_first = case((col(FollowUp.state) == OVERDUE, 0), else_=1)
    # Only the columns shown: loading whole ORM rows cost most of the dashboard's time.
    rows = session.execute(
        columns(
            col(HotfixRecord.repo_full_name),
            col(HotfixRecord.number),
            col(HotfixRecord.incident_id),
            col(FollowUp.kind),
            col(FollowUp.owner),
            col(FollowUp.due_at),
            col(FollowUp.state),
        )
        .join(HotfixRecord, col(FollowUp.hotfix_id) == col(HotfixRecord.id))
        .where(col(FollowUp.state).in_((OPEN, OVERDUE)))
        .order_by(overdue_first, col(FollowUp.due_at))
        .limit(MAX_FOLLOW_UPS)
    ).all()
    return [
        OwedFollowUp(
            repo=repo,
            number=number,
            incident_id=incident_id,
            kind=kind,
            owner=owner,
            due_at=due_at,
            overdue=state == OVERDUE,
        )
        for repo, number, incident_id, kind, owner, due_at, state in rows
    ]


def rate_windows(session: Session, *, policy: Policy, now: datetime) -> list[RateWindow]:
    """Per organisation: hotfixes merged in the rate-limit window (drills left out), and when
    the oldest of them leaves it."""
    window = timedelta(days=policy.rate_limit.window_days)
    rows = session.exec(
        select(
            func.min(col(HotfixRecord.org)),
            func.count(),
            func.min(col(HotfixRecord.merged_at)),
        )
        .where(col(HotfixRecord.merged_at) >= now - window, col(HotfixRecord.drill).is_(False))
        .group_by(func.lower(col(HotfixRecord.org)))
        .order_by(func.lower(col(HotfixRecord.org)))
    ).all()
    return [
        RateWindow(
            org=str(org),
            used=int(count),
            limit=policy.rate_limit.max_hotfixes,
            window_days=policy.rate_limit.window_days,
            frees_at=oldest + window if oldest is not None else None,
        )
        for org, count, oldest in rows
    ]


def pull_details(session: Session, *, repo: str, number: int) -> PullDetails | None:
    """One pull request as we saw it, with its evaluations; None if we never saw it."""
    tracked = session.exec(
        select(TrackedPullRequest).where(
            func.lower(col(TrackedPullRequest.repo_full_name)) == repo.lower(),
            col(TrackedPullRequest.number) == number,
        )
    ).first()
    if tracked is None:
        return None
    evaluations = session.exec(
        select(EvaluationRecord)
        .where(
            col(EvaluationRecord.repo_full_name) == tracked.repo_full_name,
            col(EvaluationRecord.number) == number,
        )
        .order_by(col(EvaluationRecord.id).desc())
        .limit(MAX_ROWS)
    ).all()
    history = tuple(_evaluated(row) for row in evaluations)
    hotfix = session.exec(
        select(HotfixRecord).where(
            col(HotfixRecord.repo_full_name) == tracked.repo_full_name,
            col(HotfixRecord.number) == number,
        )
    ).first()
    pr = _pull(tracked)
    return PullDetails(
        repo=tracked.repo_full_name,
        number=number,
        title=str(pr.get("title") or ""),
        author=_login(pr.get("user")),
        url=pr.get("html_url") if isinstance(pr.get("html_url"), str) else None,
        lane=tracked.lane,
        state=tracked.state,
        head_sha=tracked.head_sha,
        latest=history[0] if history else None,
        history=history,
        hotfix=hotfix,
    )


def ledger(
    session: Session,
    *,
    org: str | None = None,
    repo: str | None = None,
    author: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    readable: frozenset[str] | None = None,
    limit: int | None = LEDGER_PAGE,
) -> Sequence[HotfixRecord]:
    """The ledger, newest merge first, filtered; ``limit=None`` for the whole of it (CSV).

    ``readable`` (lower-cased ``owner/name``, None: every repository) is applied in the query,
    so the limit counts rows the viewer may see."""
    query = select(HotfixRecord).order_by(col(HotfixRecord.merged_at).desc())
    if readable is not None:
        query = query.where(func.lower(col(HotfixRecord.repo_full_name)).in_(sorted(readable)))
    if org:
        query = query.where(func.lower(col(HotfixRecord.org)) == org.lower())
    if repo:
        query = query.where(func.lower(col(HotfixRecord.repo_full_name)) == repo.lower())
    if author:
        query = query.where(func.lower(col(HotfixRecord.author)) == author.lower())
    if since:
        query = query.where(col(HotfixRecord.merged_at) >= since)
    if until:
        query = query.where(col(HotfixRecord.merged_at) < until)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def _evaluated(row: EvaluationRecord) -> Evaluated:
    try:
        verdicts = json.loads(row.verdicts)
    except ValueError:
        verdicts = []
    try:
        evidence = json.loads(row.evidence) if row.evidence else None
    except ValueError:
        evidence = None
    return Evaluated(
        head_sha=row.head_sha,
        state=row.state,
        description=row.description,
        evaluated_at=row.evaluated_at,
        verdicts=tuple(
            Verdict(str(v.get("rule")), str(v.get("outcome")), str(v.get("message")))
            for v in verdicts
            if isinstance(v, dict)
        ),
        evidence=evidence if isinstance(evidence, dict) else None,
    )


def _pull(tracked: TrackedPullRequest) -> dict[str, Any]:
    try:
        pr = json.loads(tracked.pull_request)
    except ValueError:
        return {}
    return pr if isinstance(pr, dict) else {}


def _login(user: object) -> str | None:
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else None
