"""The platform team's review of the lane (footgun "the hotfix became normal"): how many hotfixes
merged, where and by whom, whether their follow-ups kept their deadlines, and how often the rate
limit tripped, over a period (a quarter for the review, a week for the digest).

Everything is counted in the database; only the grouped rows come back. Drills are counted
apart: a game day exercises the lane and must not read as the lane becoming normal, so neither
a drill nor its follow-ups enter the hotfix figures.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from app.ledger.records import OVERDUE
from app.notify.notices import NoticeKind
from app.store.models import FollowUp, HotfixRecord, NoticeRow

# FollowUp.state values besides OVERDUE (app.followups owns them; the ledger sits below it).
_OPEN, _DONE = "open", "done"

Tally = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Review:
    """The figures of one period, ``[since, until)`` in UTC, for one organisation or all.

    ``by_repository`` and ``by_author`` count hotfixes (not drills), most first, then by name.
    The follow-up figures are about the follow-ups *due* in the period, so a week's digest
    judges the deadlines that week set, whenever their hotfix merged.
    """

    since: datetime
    until: datetime
    org: str | None
    hotfixes: int
    drills: int
    by_repository: Tally
    by_author: Tally
    follow_ups_on_time: int  # done at or before the due time
    follow_ups_overdue: int  # marked overdue, or done after the due time
    follow_ups_open: int
    rate_limit_trips: int


def build_review(
    session: Session, *, since: datetime, until: datetime, org: str | None = None
) -> Review:
    """Count the period's hotfixes, drills, follow-ups and rate-limit trips.

    ``org`` matches regardless of case: GitHub treats ``Acme`` and ``acme`` as one organisation.
    """
    merged = _merged_in(since, until, org)
    hotfix = col(HotfixRecord.drill).is_(False)
    total, drills = session.exec(
        select(func.count(), _tally(col(HotfixRecord.drill).is_(True))).where(*merged)
    ).one()
    on_time, overdue, still_open = _follow_ups(session, since=since, until=until, org=org)
    return Review(
        since=since,
        until=until,
        org=org,
        hotfixes=int(total) - int(drills),
        drills=int(drills),
        by_repository=_grouped(session, col(HotfixRecord.repo_full_name), [*merged, hotfix]),
        by_author=_grouped(session, col(HotfixRecord.author), [*merged, hotfix]),
        follow_ups_on_time=on_time,
        follow_ups_overdue=overdue,
        follow_ups_open=still_open,
        rate_limit_trips=_rate_limit_trips(session, since=since, until=until, org=org),
    )


def review_orgs(session: Session, *, since: datetime, until: datetime) -> list[str]:
    """The organisations with a hotfix, a drill, a follow-up due or a rate-limit trip in
    ``[since, until)``: one digest each. Spelled as the ledger has them (else as the notice
    subject does), one entry per organisation whatever its case, sorted.

    A follow-up due counts on its own: an audit review falls due a week after its merge,
    often in a week with no new hotfix, and its outcome belongs in that week's digest.
    """
    names: dict[str, str] = {}
    spelled = select(func.min(col(HotfixRecord.org))).where(*_merged_in(since, until, None))
    for name in session.exec(spelled.group_by(func.lower(col(HotfixRecord.org)))):
        names[str(name).lower()] = str(name)
    owing = (
        select(func.min(col(HotfixRecord.org)))
        .select_from(FollowUp)
        .join(HotfixRecord, col(FollowUp.hotfix_id) == col(HotfixRecord.id))
        .where(
            col(FollowUp.due_at) >= since,
            col(FollowUp.due_at) < until,
            col(HotfixRecord.drill).is_(False),
        )
        .group_by(func.lower(col(HotfixRecord.org)))
    )
    for name in session.exec(owing):
        names.setdefault(str(name).lower(), str(name))
    subjects = (
        select(col(NoticeRow.subject))
        .where(*_trips_in(since, until), col(NoticeRow.subject).is_not(None))
        .distinct()
    )
    for subject in session.exec(subjects):
        # A pull request's subject: owner/repo#number.
        owner = str(subject).split("/", 1)[0]
        names.setdefault(owner.lower(), owner)
    return [names[key] for key in sorted(names)]


# --- renderers --------------------------------------------------------------------------------


def as_text(review: Review) -> list[str]:
    """What ``hotfix-lane report`` prints: the figures as a reader goes through them."""
    scope = f"for {review.org}" if review.org else "for all organisations"
    drills = f" (and {_plural(review.drills, 'drill')}, not counted)" if review.drills else ""
    return [
        f"Hotfix review {scope}, {_when(review.since)} to {_when(review.until)} (UTC)",
        f"Hotfixes: {review.hotfixes}{drills}",
        *_tally_lines("By repository", review.by_repository),
        *_tally_lines("By author", tuple((f"@{name}", n) for name, n in review.by_author)),
        f"Follow-ups due: {review.follow_ups_on_time} on time, "
        f"{review.follow_ups_overdue} overdue, {review.follow_ups_open} open",
        f"Rate-limit trips: {review.rate_limit_trips}",
    ]


def as_json(review: Review) -> str:
    data: dict[str, Any] = {
        "since": review.since.isoformat(),
        "until": review.until.isoformat(),
        "org": review.org,
        "hotfixes": review.hotfixes,
        "drills": review.drills,
        "by_repository": [{"repository": n, "hotfixes": c} for n, c in review.by_repository],
        "by_author": [{"author": n, "hotfixes": c} for n, c in review.by_author],
        "follow_ups": {
            "on_time": review.follow_ups_on_time,
            "overdue": review.follow_ups_overdue,
            "open": review.follow_ups_open,
        },
        "rate_limit_trips": review.rate_limit_trips,
    }
    return json.dumps(data, indent=2)


def as_csv(review: Review) -> str:
    """One ``section,name,value`` row per figure, for a spreadsheet; the period comes first
    (``period,org`` is empty for all organisations)."""
    rows: list[tuple[str, str, object]] = [
        ("period", "since", review.since.isoformat()),
        ("period", "until", review.until.isoformat()),
        ("period", "org", review.org or ""),
        ("hotfixes", "total", review.hotfixes),
        ("drills", "total", review.drills),
        *(("by_repository", name, n) for name, n in review.by_repository),
        *(("by_author", name, n) for name, n in review.by_author),
        ("follow_ups", "on_time", review.follow_ups_on_time),
        ("follow_ups", "overdue", review.follow_ups_overdue),
        ("follow_ups", "open", review.follow_ups_open),
        ("rate_limit", "trips", review.rate_limit_trips),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "name", "value"))
    writer.writerows(rows)
    return out.getvalue()


# --- queries ----------------------------------------------------------------------------------


def _merged_in(since: datetime, until: datetime, org: str | None) -> list[ColumnElement[bool]]:
    clauses = [col(HotfixRecord.merged_at) >= since, col(HotfixRecord.merged_at) < until]
    if org is not None:
        clauses.append(func.lower(col(HotfixRecord.org)) == org.lower())
    return clauses


def _tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet ``condition`` (0, not NULL, when there are none)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _grouped(session: Session, column: Any, clauses: Iterable[ColumnElement[bool]]) -> Tally:
    """Hotfixes per value of ``column``, grouped regardless of case, most first."""
    key, count = func.lower(column), func.count()
    query = (
        select(func.min(column), count).where(*clauses).group_by(key).order_by(count.desc(), key)
    )
    return tuple((str(name), int(n)) for name, n in session.exec(query))


def _follow_ups(
    session: Session, *, since: datetime, until: datetime, org: str | None
) -> tuple[int, int, int]:
    """On time, overdue, open: the hotfixes' follow-ups due in ``[since, until)``.

    A follow-up done late is overdue for the review even though its state is now done: the
    deadline was missed, which is what the review is about.
    """
    state, due_at, done_at = col(FollowUp.state), col(FollowUp.due_at), col(FollowUp.done_at)
    query = (
        select(
            _tally(and_(state == _DONE, done_at <= due_at)),
            _tally(or_(state == OVERDUE, and_(state == _DONE, done_at > due_at))),
            _tally(state == _OPEN),
        )
        .select_from(FollowUp)
        .join(HotfixRecord, col(FollowUp.hotfix_id) == col(HotfixRecord.id))
        .where(due_at >= since, due_at < until, col(HotfixRecord.drill).is_(False))
    )
    if org is not None:
        query = query.where(func.lower(col(HotfixRecord.org)) == org.lower())
    on_time, overdue, still_open = session.exec(query).one()
    return int(on_time), int(overdue), int(still_open)


def _trips_in(since: datetime, until: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        col(NoticeRow.kind) == NoticeKind.RATE_LIMIT_TRIPPED.value,
        col(NoticeRow.created_at) >= since,
        col(NoticeRow.created_at) < until,
    )


def _rate_limit_trips(
    session: Session, *, since: datetime, until: datetime, org: str | None
) -> int:
    """The rate-limit notices stored in the period: one per pull request held for review."""
    query = select(func.count()).select_from(NoticeRow).where(*_trips_in(since, until))
    if org is not None:
        # The subject is owner/repo#number; autoescape keeps a _ or % in a name literal.
        prefix = f"{org.lower()}/"
        query = query.where(func.lower(col(NoticeRow.subject)).startswith(prefix, autoescape=True))
    return int(session.exec(query).one())


# --- text helpers -----------------------------------------------------------------------------


def _tally_lines(label: str, tally: Tally) -> list[str]:
    if not tally:
        return [f"{label}: none"]
    width = max(len(name) for name, _n in tally)
    return [f"{label}:", *(f"  {name:<{width}}  {n}" for name, n in tally)]


def _when(at: datetime) -> str:
    # A period given in days reads as days; a period ending "now" shows its time.
    at = at.astimezone(UTC)
    if (at.hour, at.minute, at.second, at.microsecond) == (0, 0, 0, 0):
        return f"{at:%Y-%m-%d}"
    return f"{at:%Y-%m-%d %H:%M}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
