"""The trends page: the hotfix picture over the last weeks, as four charts with their tables.

Hotfixes per ISO week by repository against the rate limit; hotfixes per author this calendar
quarter against the author quota; minutes from merge to healthy of the latest hotfixes; and
follow-ups due per week, kept or missed. Drills are left out of all four, as in the quarterly
review (``app.ledger.review``): a game day must not read as the lane becoming normal.

The page reads the store in a worker thread, never GitHub, and counts only the repositories the
viewer can read: rows are filtered by ``Viewer.can_read`` before anything is added up, so no
figure (a total, an author's count) carries a repository the viewer cannot see. The builders
between the rows and the charts are pure, so tests give them rows and a time and compare.

No ``from __future__ import annotations`` here: FastAPI reads the route's annotations at
definition time, and the viewer dependency is local to ``trends_router``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, NamedTuple

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, col, select

from app.ledger.records import quarter_bounds
from app.policy.loader import default_policy
from app.policy.model import AuthorQuota, Policy, RateLimit
from app.services import Services
from app.store.models import FollowUp, HotfixRecord
from app.web import charts
from app.web.auth import Access, Viewer
from app.web.queries import reader

HERE = Path(__file__).resolve().parent

DEFAULT_WEEKS, MAX_WEEKS = 12, 52
# The durations chart stays readable up to about this many bars.
LATEST = 20
# The period bounds what is read; this bounds it again, should a year ever hold far more
# hotfixes than a lane with a weekly rate limit lets through. The page says when it is reached.
MAX_ROWS = 20_000
# The palette has eight colours: past that, the smallest repositories share one series.
MAX_SERIES = len(charts.PALETTE)
OTHER = "other"  # cannot be a repository: full names always hold a slash

# FollowUp.state values (app.followups owns them; the web view only reads them).
_DONE, _OVERDUE = "done", "overdue"


class HotfixRow(NamedTuple):
    """A merged hotfix, as much of its ledger row as the charts read."""

    repo: str
    number: int
    incident_id: str | None
    author: str
    merged_at: datetime
    deployed_at: datetime | None
    drill: bool


class FollowUpRow(NamedTuple):
    """A follow-up, with the repository and drill flag of its hotfix."""

    repo: str
    due_at: datetime
    done_at: datetime | None
    state: str
    drill: bool


@dataclass(frozen=True)
class TrendRows:
    """What the store holds for one page; ``truncated``: ``MAX_ROWS`` was reached."""

    hotfixes: tuple[HotfixRow, ...]
    follow_ups: tuple[FollowUpRow, ...]
    truncated: bool = False


@dataclass(frozen=True)
class Weeks:
    """``count`` ISO weeks (Monday 00:00 UTC to Monday), the last one containing ``now``."""

    start: datetime
    end: datetime
    labels: tuple[str, ...]

    def index(self, at: datetime) -> int | None:
        """Which of the weeks ``at`` falls in, or None outside them."""
        if not self.start <= at < self.end:
            return None
        return (at - self.start) // timedelta(weeks=1)


@dataclass(frozen=True)
class PerWeek:
    """The inputs of ``charts.stacked_bars``."""

    weeks: tuple[str, ...]
    series: tuple[charts.Series, ...]
    limit: int | None
    limit_label: str = "rate limit"


@dataclass(frozen=True)
class PerAuthor:
    """The inputs of ``charts.thresholds``, for the calendar quarter ``quarter`` (2026-Q2)."""

    quarter: str
    people: tuple[tuple[str, int], ...]
    note_after: int
    code_yellow_after: int


@dataclass(frozen=True)
class FollowUpWeeks:
    """The inputs of ``charts.on_time``."""

    weeks: tuple[str, ...]
    on_time: tuple[int, ...]
    overdue: tuple[int, ...]


@dataclass(frozen=True)
class Section:
    """One chart of the page: the section's id, its heading, the chart and its table."""

    id: str
    heading: str
    chart: charts.Chart


# --- the period -------------------------------------------------------------------------------


def weeks_ending(now: datetime, count: int) -> Weeks:
    """The ``count`` ISO weeks up to and including the one ``now`` is in (UTC)."""
    if count < 1:
        raise ValueError(f"at least one week, not {count}")
    day = now.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    this_week = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    start = this_week - timedelta(weeks=count - 1)
    labels = tuple(week_label(start + timedelta(weeks=i)) for i in range(count))
    return Weeks(start=start, end=this_week + timedelta(weeks=1), labels=labels)


def week_label(at: datetime) -> str:
    """The ISO week ``at`` is in, as ``2026-W21``: the ISO year, which near New Year is not
    always the calendar year (2027-01-01 is in 2026-W53)."""
    year, week, _ = at.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def quarter_label(at: datetime) -> str:
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"


# --- page-model builders (pure) ---------------------------------------------------------------


def per_week(rows: Iterable[HotfixRow], weeks: Weeks, rate_limit: RateLimit) -> PerWeek:
    """Hotfixes merged per week by repository, biggest first; past ``MAX_SERIES`` repositories
    the 7 biggest keep their names and the rest add up to ``other``.

    The rate limit is drawn only when its window is a week: against a 30-day window a weekly
    bar says nothing. It counts per organisation (or per repository, by ``scope``) over a
    sliding window, so the line is a guide to busy weeks, not the rule itself.
    """
    counts: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for row in rows:
        index = weeks.index(row.merged_at)
        if row.drill or index is None:
            continue
        # GitHub treats names regardless of case; one spelling is shown, the same every time.
        key = row.repo.lower()
        names[key] = min(names.get(key, row.repo), row.repo)
        counts.setdefault(key, [0] * len(weeks.labels))[index] += 1
    ranked = sorted(counts, key=lambda key: (-sum(counts[key]), key))
    series = [charts.Series(names[key], tuple(counts[key])) for key in ranked]
    if len(series) > MAX_SERIES:
        kept, folded = series[: MAX_SERIES - 1], series[MAX_SERIES - 1 :]
        other = tuple(sum(values) for values in zip(*(s.values for s in folded), strict=True))
        series = [*kept, charts.Series(OTHER, other)]
    weekly = rate_limit.window_days == 7
    return PerWeek(
        weeks=weeks.labels,
        series=tuple(series),
        limit=rate_limit.max_hotfixes if weekly else None,
        limit_label="rate limit" if rate_limit.scope == "organisation" else "rate limit per repo",
    )


def per_author(rows: Iterable[HotfixRow], now: datetime, quota: AuthorQuota) -> PerAuthor:
    """Hotfixes per author in the calendar quarter containing ``now``, most first."""
    start, end = quarter_bounds(now.astimezone(UTC))
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for row in rows:
        if row.drill or not start <= row.merged_at < end:
            continue
        key = row.author.lower()
        names[key] = min(names.get(key, row.author), row.author)
        counts[key] = counts.get(key, 0) + 1
    ranked = sorted(counts, key=lambda key: (-counts[key], key))
    return PerAuthor(
        quarter=quarter_label(start),
        people=tuple((names[key], counts[key]) for key in ranked),
        note_after=quota.note_after,
        code_yellow_after=quota.code_yellow_after,
    )


def merge_to_healthy(
    rows: Iterable[HotfixRow], weeks: Weeks, *, latest: int = LATEST
) -> tuple[tuple[str, float | None], ...]:
    """Minutes from merge to the first healthy deployment of the ``latest`` hotfixes merged in
    the weeks, oldest first; None for one never deployed. Labelled by incident, or by pull
    request when the hotfix names no incident."""
    merged = sorted(
        (row for row in rows if not row.drill and weeks.index(row.merged_at) is not None),
        key=lambda row: (row.merged_at, row.repo.lower(), row.number),
    )
    shown = merged[-latest:] if latest > 0 else []
    return tuple((_hotfix_label(row), _minutes(row)) for row in shown)


def follow_up_weeks(rows: Iterable[FollowUpRow], weeks: Weeks) -> FollowUpWeeks:
    """Follow-ups per week of their due time: on time (done at or before it) and overdue
    (marked overdue, or done after it). Open and waived ones are neither."""
    on_time = [0] * len(weeks.labels)
    overdue = [0] * len(weeks.labels)
    for row in rows:
        index = weeks.index(row.due_at)
        if row.drill or index is None:
            continue
        if row.state == _OVERDUE or (
            row.state == _DONE and row.done_at is not None and row.done_at > row.due_at
        ):
            overdue[index] += 1
        elif row.state == _DONE and row.done_at is not None:
            on_time[index] += 1
    return FollowUpWeeks(weeks=weeks.labels, on_time=tuple(on_time), overdue=tuple(overdue))


def sections(
    found: TrendRows, *, now: datetime, weeks: Weeks, policy: Policy
) -> tuple[Section, ...]:
    """The page's four charts from rows the viewer may read."""
    week = per_week(found.hotfixes, weeks, policy.rate_limit)
    quota = per_author(found.hotfixes, now, policy.author_quota)
    durations = merge_to_healthy(found.hotfixes, weeks)
    follow_ups = follow_up_weeks(found.follow_ups, weeks)
    return (
        Section(
            "per-week",
            "Hotfixes per week",
            charts.stacked_bars(
                "Hotfixes per week by repository",
                week.weeks,
                week.series,
                limit=week.limit,
                limit_label=week.limit_label,
            ),
        ),
        Section(
            "per-author",
            f"Hotfixes per author in {quota.quarter}",
            charts.thresholds(
                f"Hotfixes per author, {quota.quarter}",
                quota.people,
                note_after=quota.note_after,
                code_yellow_after=quota.code_yellow_after,
            ),
        ),
        Section(
            "merge-to-healthy",
            "Merge to healthy",
            charts.durations(f"Minutes from merge to healthy, latest {LATEST} hotfixes", durations),
        ),
        Section(
            "follow-ups",
            "Follow-ups on time",
            charts.on_time(
                "Follow-ups due per week, on time and overdue",
                follow_ups.weeks,
                follow_ups.on_time,
                follow_ups.overdue,
            ),
        ),
    )


def readable(found: TrendRows, viewer: Viewer) -> TrendRows:
    """Only the rows of repositories ``viewer`` can read."""
    return TrendRows(
        hotfixes=tuple(row for row in found.hotfixes if viewer.can_read(row.repo)),
        follow_ups=tuple(row for row in found.follow_ups if viewer.can_read(row.repo)),
        truncated=found.truncated,
    )


def _hotfix_label(row: HotfixRow) -> str:
    return row.incident_id or f"{row.repo}#{row.number}"


def _minutes(row: HotfixRow) -> float | None:
    if row.deployed_at is None:
        return None
    # A deployment recorded before the merge can only be clock skew between GitHub's events;
    # it reads as no time at all rather than as a negative bar.
    return max(0.0, (row.deployed_at - row.merged_at).total_seconds() / 60)


# --- the store --------------------------------------------------------------------------------


def read_trends(
    session: Session, *, since: datetime, until: datetime, due_since: datetime
) -> TrendRows:
    """Hotfixes merged in ``[since, until)`` and follow-ups due in ``[due_since, until)`` with
    their hotfix's repository, drills included (the builders leave them out), newest first,
    at most ``MAX_ROWS`` of each."""
    hotfixes = session.exec(
        select(HotfixRecord)
        .where(col(HotfixRecord.merged_at) >= since, col(HotfixRecord.merged_at) < until)
        .order_by(col(HotfixRecord.merged_at).desc(), col(HotfixRecord.id).desc())
        .limit(MAX_ROWS + 1)
    ).all()
    follow_ups = session.exec(
        select(FollowUp, col(HotfixRecord.repo_full_name), col(HotfixRecord.drill))
        .join(HotfixRecord, col(FollowUp.hotfix_id) == col(HotfixRecord.id))
        .where(col(FollowUp.due_at) >= due_since, col(FollowUp.due_at) < until)
        .order_by(col(FollowUp.due_at).desc(), col(FollowUp.id).desc())
        .limit(MAX_ROWS + 1)
    ).all()
    return TrendRows(
        hotfixes=tuple(_hotfix_row(record) for record in hotfixes[:MAX_ROWS]),
        follow_ups=tuple(
            FollowUpRow(repo, row.due_at, row.done_at, row.state, drill)
            for row, repo, drill in follow_ups[:MAX_ROWS]
        ),
        truncated=len(hotfixes) > MAX_ROWS or len(follow_ups) > MAX_ROWS,
    )


def _hotfix_row(record: HotfixRecord) -> HotfixRow:
    return HotfixRow(
        repo=record.repo_full_name,
        number=record.number,
        incident_id=record.incident_id,
        author=record.author,
        merged_at=record.merged_at,
        deployed_at=record.deployed_at,
        drill=record.drill,
    )


# --- the route --------------------------------------------------------------------------------


def trends_router(services: Services, access: Access) -> APIRouter:
    """``/trends``, reading ``services``' store, signing in with ``access``."""
    router = APIRouter(include_in_schema=False)
    templates = Jinja2Templates(directory=HERE / "templates")
    engine = services.engine

    ViewerDep = Annotated[Viewer, Depends(access.viewer)]

    read = reader(engine)

    @router.get("/trends", response_class=HTMLResponse)
    async def trends(request: Request, viewer: ViewerDep, weeks: str | None = None) -> HTMLResponse:
        count = _weeks(weeks)
        now = services.clock.now()
        period = weeks_ending(now, count)
        quarter_start, _ = quarter_bounds(now.astimezone(UTC))

        rows = await read(
            lambda session: read_trends(
                session,
                since=min(period.start, quarter_start),
                until=period.end,
                due_since=period.start,
            )
        )
        found = readable(rows, viewer)
        return templates.TemplateResponse(
            request,
            "trends.html",
            {
                "viewer": viewer,
                "signed_in": not access.open,
                "weeks": count,
                "first": period.labels[0],
                "last": period.labels[-1],
                "truncated": found.truncated,
                "sections": sections(found, now=now, weeks=period, policy=default_policy()),
            },
        )

    return router


def _weeks(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_WEEKS
    message = f"weeks must be a whole number from 1 to {MAX_WEEKS}"
    try:
        count = int(value)
    except ValueError:
        raise HTTPException(400, message) from None
    if not 1 <= count <= MAX_WEEKS:
        raise HTTPException(400, message)
    return count
